"""Measures of 128-bit functions, batched.

lz76 + K_LZ against antropy (one call per string); the continuity measures
on the 7-cube (boundary, csr, gc, walsh_degree) against plain NumPy on the
unpacked bits (column comparisons over the graph's edges).

Run: ``python benchmarks/bench_measures.py [--functions N]``
"""

import argparse

import numpy as np

from common import best_times, machine_line, report
from pysimbias.kernels.bits import keys_to_text, unpack_bits
from pysimbias.inputs.encodings import make_encoding
from pysimbias.inputs.graphs import hypercube_pairs, make_graph
from pysimbias.measures import MeasureContext, compute_measures
from pysimbias.kernels.rng import chunk_key, sample_random_keys


def antropy_klz(texts, m):
    """K_LZ from antropy's lz76, one Python call per string and direction."""
    import antropy

    out = np.empty(len(texts))
    for r, s in enumerate(texts):
        forward = antropy.lziv_complexity(s, normalize=False)
        backward = antropy.lziv_complexity(s[::-1], normalize=False)
        out[r] = np.log2(m) * (forward + backward) / 2
    return out


def numpy_continuity(keys, m, graph):
    """boundary, csr, gc and walsh_degree by plain NumPy: unpack, then compare edge ends column by column."""
    bits = unpack_bits(keys, m)
    u, v = graph.edges()
    differ = bits[:, u] != bits[:, v]
    boundary = differ.sum(axis=1) / u.shape[0]
    critical = np.zeros(bits.shape, dtype=bool)
    for ends, others in ((u, v), (v, u)):
        np.logical_or.at(critical.T, ends, (bits[:, ends] != bits[:, others]).T)
    csr = critical.sum(axis=1) / m
    u2, v2 = hypercube_pairs(np.arange(m), 2)
    gc = boundary + (bits[:, u2] != bits[:, v2]).sum(axis=1) / u2.shape[0]
    walsh = 2.0 * differ.sum(axis=1) / m
    return boundary, csr, gc, walsh


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--functions", type=float, default=1e6)
    parser.add_argument("--antropy-functions", type=float, default=2e4)
    parser.add_argument("--numpy-functions", type=float, default=1e5)
    args = parser.parse_args()
    print(machine_line())
    m = 128
    key = chunk_key(0, 0)
    keys = sample_random_keys(key[0], key[1], 0, int(args.functions), np.int64(m))
    context = MeasureContext(m=m, n=7)
    texts = keys_to_text(keys[: int(args.antropy_functions)], m).astype(str)
    ours, theirs = best_times([lambda: compute_measures(keys, context, ["lz76", "klz"]),
                               lambda: antropy_klz(texts, m)], repeat=2)
    report("lz76 + K_LZ, 128-bit functions", keys.shape[0] / ours, "functions/s", len(texts) / theirs,
           "antropy per string")

    encoding = make_encoding("binary", 7)
    graph = make_graph("auto", encoding)
    cube = MeasureContext.for_encoding(encoding, graph)
    names = ["boundary", "csr", "gc", "walsh_degree"]
    few = keys[: int(args.numpy_functions)]
    expected = compute_measures(few, cube, names)
    for name, values in zip(names, numpy_continuity(few, m, graph)):
        np.testing.assert_allclose(expected[name], values, rtol=1e-12)
    ours, theirs = best_times([lambda: compute_measures(keys, cube, names),
                               lambda: numpy_continuity(few, m, graph)], repeat=2)
    report("boundary + csr + gc + walsh_degree on the 7-cube", keys.shape[0] / ours, "functions/s",
           few.shape[0] / theirs)


if __name__ == "__main__":
    main()
