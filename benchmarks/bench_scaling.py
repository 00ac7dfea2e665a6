"""How sampling speed grows with the input bits n and the hidden width.

Prints a markdown table of samples/s (2 hidden ReLU layers of equal width,
sample + pack + count) for n = 5..10 and widths 10..320.
Run: ``python benchmarks/bench_scaling.py [--budget SECONDS]``
"""

import argparse
import time

from bench_mlp import flops_per_sample
from common import machine_line
from pysimbias.config import SampleConfig
from pysimbias.inputs.encodings import make_encoding
from pysimbias.engine import count_functions
from pysimbias.priors import make_prior


def rate(n, width, budget):
    """Samples/s of one configuration, with the sample count sized to ``budget`` seconds."""
    config = SampleConfig(prior="mlp", n=n, widths=(width, width), samples=1).validated()
    prior = make_prior(config, make_encoding("binary", n))
    count_functions(prior, 64, 0)  # compile
    samples = 256
    while True:
        start = time.perf_counter()
        count_functions(prior, samples, 1)
        elapsed = time.perf_counter() - start
        if elapsed > budget / 4 or samples >= 1 << 22:
            return samples / elapsed
        samples *= 4


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds per measurement (roughly)")
    parser.add_argument("--ns", default="5,6,7,8,9,10")
    parser.add_argument("--widths", default="10,20,40,80,160,320")
    args = parser.parse_args()
    ns = [int(x) for x in args.ns.split(",")]
    widths = [int(x) for x in args.widths.split(",")]
    print(machine_line())
    print("samples/s (GFLOP/s) for n-W-W-1 ReLU networks")
    print("| n \\ width | " + " | ".join(str(w) for w in widths) + " |")
    print("|---|" + "---|" * len(widths))
    for n in ns:
        cells = []
        for width in widths:
            r = rate(n, width, args.budget)
            cells.append(f"{r:,.0f} ({r * flops_per_sample(n, (width, width)) / 1e9:.0f})")
        print(f"| {n} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
