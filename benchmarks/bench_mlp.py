"""7-40-40-1 ReLU network on {0,1}^7: sample + pack + count, against plain batched NumPy.

Run: ``python benchmarks/bench_mlp.py [--samples N] [--widths 40,40] [--n 7]``
"""

import argparse

import numpy as np

from bench_machine import arithmetic_line
from common import best_times, machine_line, report
from pysimbias.config import SampleConfig
from pysimbias.inputs.encodings import binary_points
from pysimbias.engine import count_functions
from pysimbias.inputs.encodings import make_encoding
from pysimbias.priors import make_prior


def flops_per_sample(n, widths):
    """Multiply-add FLOPs of one forward pass over all 2^n inputs."""
    sizes = [n, *widths, 1]
    return 2 * (2**n) * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def numpy_pipeline(n, widths, samples, seed=0, batch=2048):
    """Plain batched NumPy: draw weights, matmul forward, pack bits, count with np.unique."""
    rng = np.random.default_rng(seed)
    X = binary_points(n).astype(np.float32)
    sizes = [n, *widths, 1]
    keys = []
    for start in range(0, samples, batch):
        b = min(batch, samples - start)
        h = np.broadcast_to(X, (b, *X.shape))
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = rng.standard_normal((b, fan_in, fan_out), dtype=np.float32) / np.float32(np.sqrt(fan_in))
            bias = rng.standard_normal((b, 1, fan_out), dtype=np.float32)
            h = h @ W + bias
            if layer < len(sizes) - 2:
                np.maximum(h, 0, out=h)
        bits = h[..., 0] > 0
        packed = np.packbits(bits, axis=1, bitorder="little")
        pad = (-packed.shape[1]) % 8
        keys.append(np.pad(packed, ((0, 0), (0, pad))).view(np.uint64))
    return np.unique(np.concatenate(keys), axis=0, return_counts=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=float, default=1e6)
    parser.add_argument("--numpy-samples", type=float, default=1e5)
    parser.add_argument("--widths", default="40,40")
    parser.add_argument("--n", type=int, default=7)
    args = parser.parse_args()
    widths = tuple(int(w) for w in args.widths.split(",") if w)
    samples, numpy_samples = int(args.samples), int(args.numpy_samples)
    print(machine_line())
    config = SampleConfig(prior="mlp", n=args.n, widths=widths, samples=samples).validated()
    prior = make_prior(config, make_encoding("binary", args.n))
    ours, theirs = best_times([lambda: count_functions(prior, samples, 0),
                               lambda: numpy_pipeline(args.n, widths, numpy_samples)], repeat=2)
    ours, theirs = samples / ours, numpy_samples / theirs
    flops = flops_per_sample(args.n, widths)
    report(f"{args.n}-{'-'.join(map(str, widths))}-1 relu sample+pack+count", ours, "samples/s", theirs)
    print(arithmetic_line(ours, flops))


if __name__ == "__main__":
    main()
