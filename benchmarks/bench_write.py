"""Writing a run's table: measures, aggregates, Walsh weights and Parquet, per stage, on a perceptron's functions.

The functions are the distinct ones of a ``perceptron`` run on n = 7 (the
kind of table the 10^8-sample run of issue 21 merges), in table order, cut
into ``functions.parquet``'s row batches.  Every stage reports functions per
second of wall time and of CPU time (all threads); the Parquet codecs also
report bytes per function.

``--whole-pass`` instead times the whole pass that ``pysimbias sample``
makes over its count-ordered table (measures, aggregates, text column,
Parquet, hashing), with the writing and the aggregates on their background
threads (:mod:`pysimbias.store.background`) and with every call made
inline on the main thread, in turns.

Run: ``python benchmarks/bench_write.py [--samples N] [--whole-pass] [--rounds R]``
"""

import argparse
import io
import resource
import tempfile
import time

import pyarrow as pa
import pyarrow.parquet as pq

from common import machine_line, perceptron_table_batches
from pysimbias.measures import compute_measures
from pysimbias.measures.walsh import walsh_degree_totals
from pysimbias.store.aggregates import AggregateBuilder, keys_texts
from pysimbias.store.rundir import _text_column, function_batch_rows


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(label, rows, func, repeat=2):
    """Run ``func`` ``repeat`` times; print the best wall and CPU rates; return its last result."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), _cpu()
        result = func()
        best_wall, best_cpu = min(best_wall, time.perf_counter() - wall), min(best_cpu, _cpu() - cpu)
    print(f"{label:<44} {rows / best_wall / 1e6:8.2f} M/s wall  {rows / best_cpu / 1e6:8.2f} M/s CPU")
    return result


class Inline:
    """Stands in for :class:`pysimbias.store.background.InOrder`: every call made at once, on the caller's thread."""

    def __init__(self, name, ahead=1):
        pass

    def submit(self, call, *args):
        call(*args)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        return False


def whole_pass(run, hist, rounds):
    """The run's write pass with background threads and inline, in turns; prints wall and CPU of each."""
    from pysimbias import runner
    from pysimbias.run import prepare
    from pysimbias.store import background, rundir

    out = tempfile.mkdtemp(prefix="pysimbias-write-")
    sides = {"background threads": background.InOrder, "inline": Inline}
    for round_ in range(rounds):
        for label, kind in sides.items():
            runner.InOrder = rundir.InOrder = kind
            wall, cpu = time.perf_counter(), _cpu()
            digest = runner._write_ordered(out, iter([(hist.keys, hist.counts)]), prepare(run.config).prior,
                                           run.measure_context(), list(run.measures))[0]
            wall, cpu = time.perf_counter() - wall, _cpu() - cpu
            print(f"round {round_ + 1}, {label:<20} {wall:6.2f} s wall ({hist.distinct / wall / 1e6:.2f} M/s), "
                  f"{cpu:6.2f} s CPU, table {digest[:12]}", flush=True)
    runner.InOrder = rundir.InOrder = background.InOrder


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=float, default=3e6)
    parser.add_argument("--whole-pass", action="store_true", help="time the whole write pass, threaded vs inline")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(machine_line())
    run, hist, context, batches, names = perceptron_table_batches(args.samples)
    if args.whole_pass:
        whole_pass(run, hist, args.rounds)
        return
    step = function_batch_rows(hist.m)
    for name in names:
        timed(f"measure {name}", hist.distinct,
              lambda: [compute_measures(hist.keys[rows], context, [name]) for rows in batches])
    measures = timed("all default measures", hist.distinct,
                     lambda: [compute_measures(hist.keys[rows], context, names) for rows in batches])

    def aggregate():
        builder = AggregateBuilder(hist.m)
        for rows, values in zip(batches, measures):
            builder.add(hist.counts[rows], values, keys_texts(hist.keys[rows], hist.m))
        return builder.finish({name: values.dtype for name, values in measures[0].items()})

    timed("aggregates", hist.distinct, aggregate)
    timed("Walsh degree totals", hist.distinct,
          lambda: [walsh_degree_totals(hist.keys[rows], hist.counts[rows], context.vertices, context.n)
                   for rows in batches])
    texts = timed("text column", hist.distinct, lambda: [_text_column(hist.keys[rows], hist.m) for rows in batches])
    schema = pa.schema([("function", pa.string()), ("count", pa.int64())]
                       + [(name, pa.from_numpy_dtype(measures[0][name].dtype)) for name in names])
    tables = [pa.record_batch([text, pa.array(hist.counts[rows])] + [pa.array(values[name]) for name in names],
                              schema=schema) for text, rows, values in zip(texts, batches, measures)]
    for codec in ("zstd", "lz4", "snappy", "none"):
        for group in (1, 4):
            def write():
                sink = io.BytesIO()
                with pq.ParquetWriter(sink, schema, compression=codec) as writer:
                    for start in range(0, len(tables), group):
                        writer.write_table(pa.Table.from_batches(tables[start:start + group]),
                                           row_group_size=group * step)
                return sink.getbuffer().nbytes

            size = timed(f"parquet {codec}, row groups of {group * step:,}", hist.distinct, write)
            print(f"{'':<44} {size / hist.distinct:8.1f} bytes/function")


if __name__ == "__main__":
    main()
