"""Perceptron with bias on {0,1}^7 (the sum-tree path): sample + pack + count, against plain batched NumPy.

Besides the whole pipeline (``count_functions``: sample, pack, count exactly,
and order the distinct functions canonically), prints its parts measured on
their own: the sampling kernel, exact counting of the same keys, and the
canonical ordering, so the limiting part is visible.

Run: ``python benchmarks/bench_perceptron.py [--samples N] [--n 7]``
"""

import argparse
import time

from bench_mlp import numpy_pipeline
from common import best_times, machine_line, report
from pysimbias.kernels.bits import order_count_words
from pysimbias.config import SampleConfig
from pysimbias.inputs.encodings import make_encoding
from pysimbias.engine import chunk_plan, count_functions
from pysimbias.histogram import KeyCounter
from pysimbias.priors import make_prior
from pysimbias.kernels.rng import chunk_key


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
    ours, theirs = best_times([lambda: count_functions(prior, samples, 0),
                               lambda: numpy_pipeline(args.n, (), numpy_samples, batch=1 << 16)], repeat=2)
    ours, theirs = samples / ours, numpy_samples / theirs
    report(f"perceptron n={args.n} sample+pack+count", ours, "samples/s", theirs)

    chunks = []
    start = time.perf_counter()
    for k, count in chunk_plan(samples):
        chunks.append(prior.sample_chunk(chunk_key(0, k), count))
    sampling = time.perf_counter() - start
    counter = KeyCounter(prior.n_words, expected_total=samples)  # as count_functions makes it
    start = time.perf_counter()
    for keys in chunks:
        counter.add(keys)
    counting = time.perf_counter() - start
    distinct = counter.distinct
    start = time.perf_counter()
    order_count_words(counter.take_count_order_words())
    ordering = time.perf_counter() - start
    print(f"  parts: sampling kernel {samples / sampling:,.0f} samples/s; exact counting "
          f"{samples / counting:,.0f} keys/s ({distinct:,} distinct, "
          f"{distinct / samples:.0%} of the samples); canonical order of the distinct "
          f"functions {ordering:.2f} s")


if __name__ == "__main__":
    main()
