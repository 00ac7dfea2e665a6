"""Cost of a posterior run against a sample run of the same prior and sample count.

A posterior run draws exactly the sample run's functions and keeps those that
agree with the target on S (:func:`pysimbias.kernels.learning.select_consistent`)
before counting them.  For the perceptron on {0,1}^7 and the 7-40-40-1 ReLU
network it times both pipelines (sample, filter, count), taking turns, and
prints the posterior/sample time ratio and the filter's time on one chunk
against drawing that chunk, for a typical training set (K = 16 inputs, few
draws accepted) and the worst case for the filter (K = 1 input of a constant
target, about half the draws accepted and counted).  The target is at most
10% over the sample run.

Run from the repository root:
``PYTHONPATH=. python benchmarks/bench_posterior.py [--perceptron-samples N] [--mlp-samples N]``
"""

import argparse

from common import best_times, machine_line
from pysimbias.config import SampleConfig
from pysimbias.engine import CHUNK_SIZE, count_functions
from pysimbias.inputs.encodings import make_encoding
from pysimbias.kernels.learning import select_consistent
from pysimbias.kernels.rng import chunk_key
from pysimbias.learning import sampled_prior

CASES = {"K=16, target x1": dict(target="x1", train=16), "K=1, target const0": dict(target="const0", train=1)}


def compare(label, samples, repeat, **prior):
    """Time sample against posterior for one prior; print one line per training set.

    Also times the filter alone on one chunk of the prior's draws against
    drawing that chunk, the part of the ratio that busy machines blur least.
    """
    encoding = make_encoding("binary", 7)
    base = SampleConfig(n=7, samples=samples, **prior)
    sample = sampled_prior(base.validated(), encoding)
    for case, given in CASES.items():
        posterior = sampled_prior(base.replace(task="posterior", **given).validated(), encoding)
        accepted = count_functions(posterior, samples, 0).samples
        ours, theirs = best_times([lambda: count_functions(posterior, samples, 0),
                                   lambda: count_functions(sample, samples, 0)], repeat=repeat)
        keys = sample.sample_chunk(chunk_key(0, 0), CHUNK_SIZE)
        target, mask = posterior.target.key, posterior.training_set.mask
        filtering, drawing = best_times([lambda: select_consistent(keys, target, mask),
                                         lambda: sample.sample_chunk(chunk_key(0, 0), CHUNK_SIZE)], repeat=5)
        print(f"{label}, {samples:,} samples, {case} ({accepted / samples:.2%} accepted): posterior {ours:.3f} s, "
              f"sample {theirs:.3f} s, ratio {ours / theirs:.3f}; filter {1e3 * filtering:.2f} ms per chunk of "
              f"{CHUNK_SIZE:,} draws ({filtering / drawing:.2%} of drawing them)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--perceptron-samples", type=float, default=2e6)
    parser.add_argument("--mlp-samples", type=float, default=3e4)
    args = parser.parse_args()
    print(machine_line())
    compare("perceptron n=7", int(args.perceptron_samples), 3, prior="perceptron")
    compare("7-40-40-1 relu", int(args.mlp_samples), 5, prior="mlp", widths=(40, 40))


if __name__ == "__main__":
    main()
