"""Compile time of the Numba kernels on an empty cache, per kernel family, and a whole first run.

Each family's kernels are compiled in a fresh subprocess with an empty
``NUMBA_CACHE_DIR``, by the calls a run makes (on small data, so the time is
compiling, not computing); the imports are timed apart.  A second
subprocess on the now filled cache gives the time to load the same kernels
from the cache.  Times are CPU seconds of the subprocess
(``time.process_time``; compiling is single-threaded, so this is the
uncontended wall time) and its wall seconds.

``--tree DIR`` (repeatable) times the code of other checkouts too, taking
turns family by family, so a change is compared with the code before it
under the same load.  ``--first-run`` also times the default
``pysimbias sample`` (``cli.py sample``) on an empty cache, sampling
included, with its wall time, the CPU seconds of the process and its
workers, the manifest's ``compile_seconds`` and phases (sampling,
merge, measures, plots; "other" is start-up, imports and the rest) and the
load average before and after it.  ``--family "warm-up part: sampler"``
(and ``measures``, ``counting``) times one part of the default run's
warm-up (:mod:`pysimbias.warmup`) alone.

Run: ``python benchmarks/bench_compile.py [--first-run] [--samples 1e6] [--tree ../other-checkout]``
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_IMPORTS = """
import numpy as np
from pysimbias.config import SampleConfig
from pysimbias.run import prepare
from pysimbias.kernels.rng import chunk_key
from pysimbias.histogram import KeyCounter, Histogram
from pysimbias.measures import MeasureContext, compute_measures
"""

_KEYS = """
prior = prepare(SampleConfig(prior="uniform", n=7)).prior
keys = prior.sample_chunk(chunk_key(0, 0), 3000)
"""

#: Family name: (setup, timed code).  The setup runs before the clock starts
#: (with the imports) and may compile other families' kernels.
FAMILIES = {
    "rng (uniform prior)": ("", "prepare(SampleConfig(prior='uniform', n=7)).prior.sample_chunk(chunk_key(0, 0), 100)"),
    "network: mlp": ("sampler = prepare(SampleConfig())",
                     "sampler.prior.sample_chunk(chunk_key(0, 0), 100)"),
    "network: perceptron": ("sampler = prepare(SampleConfig(prior='perceptron'))",
                            "sampler.prior.sample_chunk(chunk_key(0, 0), 100)"),
    "counting": (_KEYS, """
counter = KeyCounter(prior.n_words, capacity=16)
counter.add(keys)
counter.add(keys, np.ones(keys.shape[0], dtype=np.int64))
counter.items()
counter.take_count_order_words()
"""),
    "sorting": (_KEYS + "counter = KeyCounter(prior.n_words); counter.add(keys)", """
from pysimbias.histogram import Histogram
from pysimbias.kernels.bits import text_sort_order, take_rows
Histogram.from_counter(counter, 128)
take_rows(keys, text_sort_order(keys))
"""),
    "measures (default)": (_KEYS + "sampler = prepare(SampleConfig())",
                           "compute_measures(keys, MeasureContext.for_encoding(sampler.encoding, sampler.graph))"),
    "merge and store": (_KEYS, """
from pysimbias.store.merge import count_order, text_order
from pysimbias.kernels.bits import keys_to_text, pack_bits
counts = np.ones(keys.shape[0], dtype=np.int64)
text_order(keys, counts); count_order(keys, counts)
pack_bits(np.zeros((3, 128), dtype=np.uint8)); keys_to_text(keys[:3], 128)
"""),
    "priors: gp, voronoi, tree": ("", """
for name in ("gp", "voronoi", "tree"):
    prepare(SampleConfig(prior=name, n=5)).prior.sample_chunk(chunk_key(0, 0), 10)
"""),
    **{f"warm-up part: {part}": ("sampler = prepare(SampleConfig())", f"""
from pysimbias.warmup import compile_part
compile_part({part!r}, sampler.prior, MeasureContext.for_encoding(sampler.encoding, sampler.graph),
             sampler.config.samples)
""") for part in ("sampler", "measures", "counting")},
    "warm-up of the default run": ("sampler = prepare(SampleConfig())", """
context = MeasureContext.for_encoding(sampler.encoding, sampler.graph)
try:
    from pysimbias.warmup import PARTS, compile_part
except ImportError:  # a checkout from before pysimbias.warmup
    from pysimbias.runner import _warm_up
    _warm_up(sampler.prior, context)
else:
    for part in PARTS:
        compile_part(part, sampler.prior, context, sampler.config.samples)
"""),
}

_CHILD = """
import json, sys, time
sys.path.insert(0, {tree!r})
c0, w0 = time.process_time(), time.perf_counter()
{imports}
{setup}
c1, w1 = time.process_time(), time.perf_counter()
{code}
c2, w2 = time.process_time(), time.perf_counter()
print(json.dumps({{"import_cpu": c1 - c0, "cpu": c2 - c1, "wall": w2 - w1}}))
"""


def time_family(tree, setup, code, cache_dir):
    """CPU and wall seconds of ``code`` in a fresh interpreter on ``tree``'s code, with Numba's cache in ``cache_dir``."""
    script = _CHILD.format(tree=str(tree), imports=_IMPORTS, setup=setup, code=code)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    result = subprocess.run([sys.executable, "-c", script], check=False, cwd=tree, env=env, capture_output=True,
                            text=True)
    if result.returncode:
        raise RuntimeError(f"the subprocess failed (status {result.returncode}): {result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def first_run(tree, samples):
    """Wall and CPU seconds of ``cli.py sample`` (the default study) on an empty cache, and its manifest."""
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "cli.py", "sample", "--samples", samples, "--out", f"{out}/run"],
                       cwd=tree, env=env, check=True, capture_output=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        manifest = json.loads(Path(out, "run", "manifest.json").read_text())
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, manifest


def first_run_line(tree, samples):
    """One line on the first run of ``tree``: wall, CPU, the warm-up, the phases and the load around it."""
    load = os.getloadavg()[0]
    wall, cpu, manifest = first_run(tree, samples)
    phases = {"compile": manifest["compile_seconds"], **manifest["phase_seconds"]}
    phases["other"] = wall - sum(phases.values())
    return (f"first run of `cli.py sample --samples {samples}` ({tree.name}): {wall:.1f} s wall, {cpu:.1f} s CPU "
            f"(load average {load:.1f} before, {os.getloadavg()[0]:.1f} after); "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", default=[], help="another checkout to time in turns with this one")
    parser.add_argument("--family", action="append", default=None, help="time only these families")
    parser.add_argument("--first-run", action="store_true", help="also time the default `cli.py sample`")
    parser.add_argument("--samples", default="1e6", help="samples of the first run (default: 1e6, the default)")
    args = parser.parse_args()
    trees = [ROOT] + [Path(tree).resolve() for tree in args.tree]
    families = args.family or list(FAMILIES)
    print(f"{'family':28} {'tree':14} {'compile cpu s':>13} {'wall s':>8} {'cached cpu s':>12} {'import cpu s':>12}")
    totals = {tree: 0.0 for tree in trees}
    for family in families:
        setup, code = FAMILIES[family]
        for tree in trees:
            with tempfile.TemporaryDirectory() as cache:
                empty = time_family(tree, setup, code, cache)
                filled = time_family(tree, setup, code, cache)
            totals[tree] += empty["cpu"]
            print(f"{family:28} {tree.name[:14]:14} {empty['cpu']:13.1f} {empty['wall']:8.1f} {filled['cpu']:12.2f} "
                  f"{empty['import_cpu']:12.1f}", flush=True)
    for tree in trees:
        print(f"{'sum of the families':28} {tree.name[:14]:14} {totals[tree]:13.1f}")
    if args.first_run:
        for tree in trees:
            print(first_run_line(tree, args.samples), flush=True)


if __name__ == "__main__":
    main()
