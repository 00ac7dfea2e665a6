"""End to end: ``pysimbias sample`` of a 7-40-40-1 ReLU network with all measures and plots.

Runs the installed command in a subprocess and reports wall time, samples/s
and the peak resident memory of that process.
Run: ``python benchmarks/bench_end_to_end.py [--samples 1e8] [--out DIR]``
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine_line


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", default="1e8")
    parser.add_argument("--out", default=None, help="run directory (default: a temporary one)")
    args = parser.parse_args()
    print(machine_line())
    out = Path(args.out or tempfile.mkdtemp(prefix="pysimbias-e2e-")) / "run"
    command = [sys.executable, "-c", "import cli; cli.main()", "sample", "--samples", args.samples,
               "--seed", "0", "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - start
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    manifest = json.loads((out / "manifest.json").read_text())
    samples = manifest["samples"]
    print(f"end to end: {samples:,} samples, {manifest['distinct']:,} distinct, wall {wall:,.1f} s "
          f"({samples / wall:,.0f} samples/s overall), sampling {manifest['elapsed_seconds']:,.1f} s, "
          f"peak RSS {peak_gib:.2f} GiB")
    print(f"run directory: {out}")


if __name__ == "__main__":
    main()
