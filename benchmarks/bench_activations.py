"""Sampling speed of a 7-40-40-1 mlp with other activations, as a ratio to ReLU (CPU time, one thread).

The networks take turns, so a machine whose speed drifts slows them alike;
CPU time of the process (``resource.getrusage``) rather than wall time, so
that other processes on a shared machine do not count.

Run: ``python benchmarks/bench_activations.py [--samples N] [--activations gelu,sin] [--repeat 3]``
"""

import argparse
import resource

import numba

from common import machine_line
from pysimbias.config import SampleConfig
from pysimbias.engine import count_functions
from pysimbias.inputs.encodings import make_encoding
from pysimbias.kernels.activations import ACTIVATIONS
from pysimbias.priors import make_prior


def cpu_seconds():
    """User + system CPU time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def best_cpu_times(funcs, repeat):
    """Smallest CPU time of each of ``funcs`` over ``repeat`` rounds in which they take turns (after a warm-up)."""
    for func in funcs:
        func()
    best = [float("inf")] * len(funcs)
    for _ in range(repeat):
        for i, func in enumerate(funcs):
            start = cpu_seconds()
            func()
            best[i] = min(best[i], cpu_seconds() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=float, default=2e5)
    parser.add_argument("--activations", default="gelu")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    numba.set_num_threads(1)
    print(machine_line())
    samples = int(args.samples)
    names = ["relu", *(name for name in args.activations.split(",") if name)]
    unknown = set(names) - set(ACTIVATIONS)
    if unknown:
        parser.error(f"unknown activations: {', '.join(sorted(unknown))}")
    encoding = make_encoding("binary", 7)
    priors = [make_prior(SampleConfig(prior="mlp", n=7, widths=(40, 40), activation=name,
                                      samples=samples).validated(), encoding) for name in names]
    times = best_cpu_times([lambda prior=prior: count_functions(prior, samples, 0) for prior in priors], args.repeat)
    for name, seconds in zip(names, times):
        print(f"7-40-40-1 {name:8s} {samples / seconds:12,.0f} samples per CPU second  "
              f"(relu / {name}: {seconds / times[0]:.2f} x the time)")


if __name__ == "__main__":
    main()
