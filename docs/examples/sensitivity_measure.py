"""Sensitivity: the most neighbours of one input that get a different output.

On the hypercube this is the sensitivity s(f) of Boolean function analysis
(0 for constants, 1 for a dictator, n for the parity of all n bits); on any
other encoding it reads the neighbour graph the same way.
"""

import numpy as np

from pysimbias.kernels.bits import unpack_bits
from pysimbias.measures import Measure, register_measure


def sensitivity(keys, context):
    """Max over inputs of the number of graph neighbours with the other output; int64, shape (N,)."""
    u, v = context.graph.edges()
    m = context.m
    values = np.zeros(keys.shape[0], dtype=np.int64)
    block = max(1, (1 << 22) // max(u.size, 1))  # functions per pass: about 4M edge comparisons
    for start in range(0, keys.shape[0], block):
        bits = unpack_bits(keys[start:start + block], m)
        differ = (bits[:, u] != bits[:, v]).ravel()
        row = np.repeat(np.arange(bits.shape[0], dtype=np.int64) * m, u.size)
        ends = np.bincount(row + np.tile(u, bits.shape[0]), differ, bits.size)
        ends += np.bincount(row + np.tile(v, bits.shape[0]), differ, bits.size)
        values[start:start + block] = ends.reshape(bits.shape).max(axis=1)
    return values


register_measure(Measure(
    "sensitivity", "int64", "most neighbours of one input with a different output (0 to the graph's max degree)",
    sensitivity, applies=lambda context: context.graph is not None))
