"""The normal generator: ns per normal per core, stream hashing included, against generator version 1 and NumPy.

Times, taking turns in one process, CPU seconds (``resource.getrusage``, so
the load of other jobs on a shared machine disturbs them less):

* ``fill_normal`` on long streams (``--long`` values each);
* ``fill_normal_columns`` on a block of 64 streams x 2,001 values (the
  parameters of 64 samples of a 7-40-40-1 network);
* the same two with generator version 1 (the 1024-layer ziggurat), loaded
  from ``git show <--old-ref>:pysimbias/kernels/rng.py`` into a temporary
  module (its columns fill takes a uint8 flags work array too);
* NumPy's ``Generator.standard_normal(dtype=float32)``.

Every kernel runs single-threaded.  Run:
``python benchmarks/bench_normal.py [--long 1e6] [--rounds 5] [--old-ref main]``
"""

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import numba
import numpy as np

from common import best_times, cpu_time, machine_line
from pysimbias.kernels import rng

ROOT = Path(__file__).resolve().parent.parent
LANES, PER_STREAM = 64, 2001
BLOCKS = 50  # column blocks per timed call


def load_old_rng(ref, directory):
    """``pysimbias/kernels/rng.py`` as it is at git ``ref``, imported as a module of pysimbias.kernels."""
    source = subprocess.run(["git", "show", f"{ref}:pysimbias/kernels/rng.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(directory) / "rng_old.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("pysimbias.kernels.rng_old", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def column_filler(fill, seeds, out, flags):
    """A call that fills every block of columns (a row of ``seeds``) with ``fill_normal_columns`` ``fill``.

    ``flags``: whether ``fill`` takes version 1's uint8 flags work array.
    """
    draws = np.empty(((out.shape[0] + 1) // 2, out.shape[1]), dtype=np.uint64)
    if flags:
        @numba.njit
        def blocks(seeds, out, draws, flag_work):
            for b in range(seeds.shape[0]):
                fill(seeds[b], out, draws, flag_work)

        flag_work = np.empty(out.shape, dtype=np.uint8)
        return lambda: blocks(seeds, out, draws, flag_work)

    @numba.njit
    def blocks(seeds, out, draws):
        for b in range(seeds.shape[0]):
            fill(seeds[b], out, draws)

    return lambda: blocks(seeds, out, draws)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--long", type=float, default=1e6, help="values per long stream")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--old-ref", default="main", help="git ref whose rng.py holds generator version 1")
    args = parser.parse_args()
    numba.set_num_threads(1)
    print(machine_line())
    n_long = int(args.long)
    out_long = np.empty(n_long, dtype=np.float32)
    out_cols = np.empty((PER_STREAM, LANES), dtype=np.float32)
    seeds = np.array([[rng.stream_seed(np.uint64(1), np.uint64(2), b * LANES + j) for j in range(LANES)]
                      for b in range(BLOCKS)], dtype=np.uint64)
    generator = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as directory:
        old = load_old_rng(args.old_ref, directory)
        if getattr(old, "GENERATOR_VERSION", 1) == rng.GENERATOR_VERSION:
            sys.exit(f"{args.old_ref}'s rng.py is generator version {rng.GENERATOR_VERSION} too; pass --old-ref")
        cases = {
            f"fill_normal, {n_long:,} values, version {rng.GENERATOR_VERSION}":
                (lambda: rng.fill_normal(np.uint64(7), out_long, np.float32(1.0)), n_long),
            f"fill_normal, {n_long:,} values, version 1 (ziggurat)":
                (lambda: old.fill_normal(np.uint64(7), out_long, np.float32(1.0)), n_long),
            f"fill_normal_columns, {LANES} x {PER_STREAM:,}, version {rng.GENERATOR_VERSION}":
                (column_filler(rng.fill_normal_columns, seeds, out_cols, False), BLOCKS * LANES * PER_STREAM),
            f"fill_normal_columns, {LANES} x {PER_STREAM:,}, version 1 (ziggurat)":
                (column_filler(old.fill_normal_columns, seeds, out_cols, True), BLOCKS * LANES * PER_STREAM),
            f"numpy standard_normal(float32), {n_long:,} values":
                (lambda: generator.standard_normal(n_long, dtype=np.float32, out=out_long), n_long),
        }
        times = best_times([call for call, _ in cases.values()], repeat=args.rounds, clock=cpu_time)
    for (name, (_, count)), seconds in zip(cases.items(), times):
        print(f"{name}: {seconds / count * 1e9:.3f} ns per normal (CPU)")


if __name__ == "__main__":
    main()
