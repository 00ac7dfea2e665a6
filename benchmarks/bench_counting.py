"""Exact counting of 128-bit keys from a 7-40-40-1 ReLU network (few very common, many rare).

Compares pysimbias's hash-table counter with ``np.unique(keys, axis=0)`` on the same keys.
Run: ``python benchmarks/bench_counting.py [--keys N]``
"""

import argparse

import numpy as np

from common import best_times, machine_line, report
from pysimbias.config import SampleConfig
from pysimbias.inputs.encodings import make_encoding
from pysimbias.histogram import KeyCounter
from pysimbias.priors import make_prior
from pysimbias.kernels.rng import chunk_key


def mlp_keys(count):
    """Keys of ``count`` 7-40-40-1 ReLU networks (the default study's distribution)."""
    config = SampleConfig(samples=count).validated()
    prior = make_prior(config, make_encoding("binary", 7))
    return np.concatenate([prior.sample_chunk(chunk_key(0, k), min(1 << 16, count - (k << 16)))
                           for k in range((count + (1 << 16) - 1) >> 16)])


def count_with_table(keys):
    counter = KeyCounter(keys.shape[1])
    for start in range(0, keys.shape[0], 1 << 16):
        counter.add(keys[start:start + (1 << 16)])
    return counter.items()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=float, default=2e6)
    args = parser.parse_args()
    print(machine_line())
    keys = mlp_keys(int(args.keys))
    distinct = len(np.unique(keys, axis=0))
    print(f"{keys.shape[0]:,} keys, {distinct:,} distinct ({distinct / keys.shape[0]:.1%})")
    ours, theirs = best_times([lambda: count_with_table(keys), lambda: np.unique(keys, axis=0, return_counts=True)])
    report("counting 128-bit keys", keys.shape[0] / ours, "keys/s", keys.shape[0] / theirs, "np.unique")


if __name__ == "__main__":
    main()
