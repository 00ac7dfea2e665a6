"""Continuity-aware measures (DESIGN.md section 3): boundary, csr, gc.

They read the functions through the geometry of the encoded inputs:
``boundary`` and ``csr`` through the run's neighbour graph
(:mod:`pysimbias.graphs`), ``gc`` through Hamming distances, so it applies
to bit-vector encodings only.  Importing this module registers them.
"""

import numpy as np

from ..graphs import hypercube_pairs
from .graph_kernels import critical_inputs, edge_disagreements
from .registry import Measure, register_measure

__all__ = ["generalization_complexity"]


def _has_graph(context):
    return context.graph is not None


def _has_cube(context):
    return context.vertices is not None


def _boundary(keys, context):
    u, v = context.graph.edges()
    return edge_disagreements(keys, u, v) / max(u.shape[0], 1)


def _csr(keys, context):
    return critical_inputs(keys, context.graph.indptr, context.graph.indices) / context.m


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
        u, v = hypercube_pairs(vertices, distance)
        if u.shape[0]:
            total += edge_disagreements(keys, u, v) / u.shape[0]
    return total


def _gc(keys, context):
    return generalization_complexity(keys, context.vertices)


register_measure(Measure(
    "boundary", "float64", "share of neighbour-graph edges whose ends get different outputs (0 to 1)",
    _boundary, applies=_has_graph))
register_measure(Measure(
    "csr", "float64", "critical sample ratio: share of inputs with a neighbour of a different output (0 to 1)",
    _csr, applies=_has_graph))
register_measure(Measure(
    "gc", "float64", "Franco's generalization complexity: disagreeing shares at Hamming distance 1 plus 2",
    _gc, applies=_has_cube))
