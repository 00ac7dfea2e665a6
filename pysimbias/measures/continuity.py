"""Continuity-aware measures (DESIGN.md section 3): boundary, csr, gc.

They read the functions through the geometry of the encoded inputs:
``boundary`` and ``csr`` through the run's neighbour graph
(:mod:`pysimbias.inputs.graphs`), ``gc`` through Hamming distances, so it applies
to bit-vector encodings only.  Importing this module registers them.

When the inputs are the n-cube in counting order (input i is vertex i), the
counts they share -- and ``walsh_degree`` reads -- come from one fused kernel
pass (:func:`pysimbias.kernels.graph.cube_counts`), shared within one
:func:`~pysimbias.measures.registry.compute_measures` call.
"""

import numpy as np

from ..inputs.graphs import hypercube_pairs, xor_differences
from ..kernels.graph import critical_inputs, cube_counts, edge_disagreements, xor_critical_inputs, xor_disagreements
from .registry import Measure, register_measure, shared_value

__all__ = ["generalization_complexity", "cube_disagreements", "counting_cube_counts"]


def _has_graph(context):
    return context.graph is not None


def _has_cube(context):
    return context.vertices is not None


def _disagreements(keys, u, v, m):
    """Edges (u, v) with different outputs at their ends, word-parallel where the edges allow."""
    diffs = xor_differences(u, v, m)
    return edge_disagreements(keys, u, v) if diffs is None else xor_disagreements(keys, diffs)


def cube_disagreements(keys, vertices, distance):
    """Pairs of inputs at Hamming distance ``distance`` on the cube that get different outputs.

    Returns
    -------
    counts : ndarray of int64, shape (N,)
    pairs : int
        Number of such pairs of inputs.
    """
    u, v = hypercube_pairs(vertices, distance)
    return _disagreements(keys, u, v, len(vertices)), u.shape[0]


def _in_counting_order(context):
    """Whether the inputs are the n-cube's vertices in counting order (input i is vertex i)."""
    return (context.vertices is not None and context.n is not None and context.m == 1 << int(context.n)
            and np.array_equal(context.vertices, np.arange(context.m)))


def counting_cube_counts(keys, context):
    """:func:`pysimbias.kernels.graph.cube_counts` of the keys, if the inputs are the cube in counting order.

    Returns
    -------
    counts : ndarray of int64, shape (N, 3), or None
        Distance-1 disagreements, critical inputs, distance-2 disagreements;
        None for any other inputs.  Computed once per
        :func:`~pysimbias.measures.registry.compute_measures` call.
    """
    if not _in_counting_order(context):
        return None
    return shared_value(context, "cube_counts", lambda: cube_counts(keys, int(context.n)))


def _graph_is_counting_cube(diffs, context):
    """Whether the graph's XOR differences are the powers of two of the counting-order cube."""
    return (diffs is not None and _in_counting_order(context)
            and np.array_equal(diffs, 1 << np.arange(int(context.n), dtype=np.int64)))


def _boundary(keys, context):
    u, v = context.graph.edges()
    diffs = xor_differences(u, v, context.m)
    if _graph_is_counting_cube(diffs, context):
        disagree = counting_cube_counts(keys, context)[:, 0]
    else:
        disagree = _disagreements(keys, u, v, context.m)
    return disagree / max(u.shape[0], 1)


def _csr(keys, context):
    graph = context.graph
    diffs = xor_differences(*graph.edges(), context.m)
    if _graph_is_counting_cube(diffs, context):
        critical = counting_cube_counts(keys, context)[:, 1]
    elif diffs is None:
        critical = critical_inputs(keys, graph.indptr, graph.indices)
    else:
        critical = xor_critical_inputs(keys, diffs)
    return critical / context.m


def generalization_complexity(keys, vertices):
    """Franco's generalization complexity C1 + C2 of packed functions.

    C_k is the share of input pairs at Hamming distance k that get different
    outputs (0 when there are no such pairs, as for k = 2 on one bit).

    Parameters
    ----------
    keys : ndarray of uint64, shape (N, W)
    vertices : ndarray of int64, shape (m,)
        Cube vertex of every input.

    Returns
    -------
    gc : ndarray of float64, shape (N,)
        0 for constant functions, 1 for the parity of all bits (C1 = 1,
        C2 = 0), about 1 for uniformly random functions.
    """
    total = np.zeros(keys.shape[0], dtype=np.float64)
    for distance in (1, 2):
        counts, pairs = cube_disagreements(keys, vertices, distance)
        if pairs:
            total += counts / pairs
    return total


def _gc(keys, context):
    counts = counting_cube_counts(keys, context)
    if counts is None:
        return generalization_complexity(keys, context.vertices)
    n, m = int(context.n), context.m
    total = np.zeros(keys.shape[0], dtype=np.float64)
    if n >= 1:  # as generalization_complexity: a distance with no pairs adds 0
        total += counts[:, 0] / (n * m // 2)
    if n >= 2:
        total += counts[:, 2] / (n * (n - 1) // 2 * m // 2)
    return total


register_measure(Measure(
    "boundary", "float64", "share of neighbour-graph edges whose ends get different outputs (0 to 1)",
    _boundary, applies=_has_graph))
register_measure(Measure(
    "csr", "float64", "critical sample ratio: share of inputs with a neighbour of a different output (0 to 1)",
    _csr, applies=_has_graph))
register_measure(Measure(
    "gc", "float64", "Franco's generalization complexity: disagreeing shares at Hamming distance 1 plus 2",
    _gc, applies=_has_cube))
