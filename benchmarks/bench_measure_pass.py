"""Measures of a run's table, one at a time and all together, and the Walsh degree weights: M functions/s.

The functions are the distinct ones of a ``perceptron`` run on n = 7 (as in
``bench_write.py``), cut into ``functions.parquet``'s row batches, each
batch measured by one ``compute_measures`` call.  Rates are of wall time
and of CPU time (all threads).  ``--before PACKAGE`` times an older copy of
pysimbias too, importable under that name (e.g. ``git archive <commit>
pysimbias`` unpacked and renamed, its ``__init__``'s own imports renamed),
taking turns with the current one, and prints the same-run ratio.

Run: ``python benchmarks/bench_measure_pass.py [--samples N] [--before PACKAGE]``
"""

import argparse
import importlib

from common import best_times, cpu_time, machine_line, perceptron_table_batches


def workloads(package, keys, counts, context, batches, names):
    """(label, function) pairs timing ``package``'s measures on the batches."""
    measures = importlib.import_module(f"{package}.measures")
    walsh = importlib.import_module(f"{package}.measures.walsh")
    context = measures.MeasureContext(m=context.m, n=context.n, points=context.points, graph=context.graph,
                                      vertices=context.vertices)
    jobs = [(f"measure {name}", lambda name=name: [measures.compute_measures(keys[rows], context, [name])
                                                   for rows in batches]) for name in names]
    jobs.append(("all default measures", lambda: [measures.compute_measures(keys[rows], context, names)
                                                  for rows in batches]))
    if hasattr(walsh, "walsh_degree_totals"):  # what a run computes since 0.5.1
        jobs.append(("Walsh degree totals", lambda: [walsh.walsh_degree_totals(
            keys[rows], counts[rows], context.vertices, context.n) for rows in batches]))
    else:
        jobs.append(("Walsh degree totals", lambda: [counts[rows] @ walsh.walsh_degree_weights(
            keys[rows], context.vertices, context.n) for rows in batches]))
    return jobs


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=float, default=2e6)
    parser.add_argument("--before", default=None, help="importable name of an older pysimbias copy")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(machine_line())
    run, hist, context, batches, names = perceptron_table_batches(args.samples)
    packages = ["pysimbias"] + ([args.before] if args.before else [])
    jobs = [workloads(package, hist.keys, hist.counts, context, batches, names) for package in packages]
    header = "".join(f" {p + ' wall':>18} {p + ' CPU':>18}" for p in packages)
    print(f"{'M functions/s':<24}{header}" + ("   ratio (CPU)" if args.before else ""))
    for row in zip(*jobs):
        funcs = [func for _, func in row]
        walls = best_times(funcs, repeat=args.repeat)
        cpus = best_times(funcs, repeat=args.repeat, clock=cpu_time)
        rates = "".join(f" {hist.distinct / w / 1e6:18.2f} {hist.distinct / c / 1e6:18.2f}" for w, c in zip(walls, cpus))
        ratio = f"   {cpus[1] / cpus[0]:.2f}x" if args.before else ""
        print(f"{row[0][0]:<24}{rates}{ratio}", flush=True)


if __name__ == "__main__":
    main()
