"""Perceptron with bias on {0,1}^7: sample + pack + count, against plain batched NumPy.

Run: ``python benchmarks/bench_perceptron.py [--samples N] [--n 7]``
"""

import argparse

from bench_mlp import numpy_pipeline
from common import best_time, machine_line, report
from pysimbias.config import SampleConfig
from pysimbias.encodings import make_encoding
from pysimbias.engine import count_functions
from pysimbias.priors import make_prior


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=float, default=2e7)
    parser.add_argument("--numpy-samples", type=float, default=1e6)
    parser.add_argument("--n", type=int, default=7)
    args = parser.parse_args()
    samples, numpy_samples = int(args.samples), int(args.numpy_samples)
    print(machine_line())
    config = SampleConfig(prior="perceptron", n=args.n, samples=samples).validated()
    prior = make_prior(config, make_encoding("binary", args.n))
    ours = samples / best_time(lambda: count_functions(prior, samples, 0), repeat=2)
    theirs = numpy_samples / best_time(lambda: numpy_pipeline(args.n, (), numpy_samples, batch=1 << 16), repeat=2)
    report(f"perceptron n={args.n} sample+pack+count", ours, "samples/s", theirs)


if __name__ == "__main__":
    main()
