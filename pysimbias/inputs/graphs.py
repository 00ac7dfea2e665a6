"""Neighbour graphs on the encoded input points, for continuity-aware measures.

``--graph`` specifications:

``auto`` (default)
    ``hypercube`` for bit-vector encodings, else ``knn:K`` with
    K = ceil(log2 m) (the hypercube's degree for m = 2^n).
``hypercube``
    Inputs joined when their bit vectors differ in one coordinate (Hamming
    distance 1); needs a bit-vector encoding (see
    :attr:`pysimbias.inputs.encodings.Encoding.vertices`).
``knn:K``
    Each input joined to its K nearest inputs (Euclidean), every input tied
    with the K-th nearest included, so the graph never depends on the input
    order; the graph is the union of these links (undirected).
``radius:R``
    Inputs joined when their Euclidean distance is at most R.

Graphs are undirected, without self-loops, and stored in CSR form.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidParameterError

__all__ = ["Graph", "check_graph_spec", "resolve_graph_spec", "make_graph", "hypercube_pairs",
           "graph_from_pairs", "xor_differences"]

# Relative slack when comparing a distance with the K-th nearest one (ties).
_TIE_TOLERANCE = 1e-9
# Query points per batch in the neighbour searches (bounds memory).
_BATCH = 1024


@dataclass(frozen=True, eq=False)
class Graph:
    """An undirected graph on the m inputs, in CSR form.

    Attributes
    ----------
    spec : str
        The resolved specification (``"hypercube"``, ``"knn:7"``, ``"radius:1.5"``).
    indptr : ndarray of int64, shape (m + 1,)
    indices : ndarray of int64
        The neighbours of input i are ``indices[indptr[i]:indptr[i + 1]]``,
        in increasing order; every edge appears in both directions.
    """

    spec: str
    indptr: np.ndarray
    indices: np.ndarray

    @property
    def m(self):
        """Number of inputs (vertices)."""
        return int(self.indptr.shape[0] - 1)

    @property
    def n_edges(self):
        """Number of undirected edges."""
        return int(self.indices.shape[0] // 2)

    def edges(self):
        """The edges as two int64 arrays ``(u, v)`` with u < v, sorted."""
        rows = np.repeat(np.arange(self.m, dtype=np.int64), np.diff(self.indptr))
        keep = rows < self.indices
        return rows[keep], self.indices[keep]

    def describe(self):
        """Manifest entry: spec, edge count, mean degree and isolated inputs."""
        degrees = np.diff(self.indptr)
        return {"spec": self.spec, "edges": self.n_edges, "mean_degree": float(degrees.mean()),
                "isolated": int(np.count_nonzero(degrees == 0))}


def graph_from_pairs(spec, m, u, v):
    """The undirected graph on m inputs with edges ``(u[e], v[e])`` (duplicates merged)."""
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    keep = u != v
    a = np.concatenate([u[keep], v[keep]])
    b = np.concatenate([v[keep], u[keep]])
    codes = np.unique(a * m + b)
    rows, cols = np.divmod(codes, m)
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=m), out=indptr[1:])
    return Graph(spec, indptr, cols)


def hypercube_pairs(vertices, distance):
    """Pairs of inputs whose cube vertices are at Hamming distance ``distance``.

    Parameters
    ----------
    vertices : ndarray of int64, shape (m,)
        A permutation of ``0 .. m-1``, m = 2**n: the cube vertex of each input.
    distance : int

    Returns
    -------
    u, v : ndarray of int64
        Input indices with u < v, one entry per pair.
    """
    vertices = np.asarray(vertices, dtype=np.int64)
    m = vertices.shape[0]
    n = m.bit_length() - 1
    index_of = np.empty(m, dtype=np.int64)
    index_of[vertices] = np.arange(m, dtype=np.int64)
    us, vs = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for bits in itertools.combinations(range(n), distance):
        mask = sum(1 << b for b in bits)
        other = index_of[vertices ^ mask]
        mine = np.arange(m, dtype=np.int64)
        keep = mine < other
        us.append(mine[keep])
        vs.append(other[keep])
    return np.concatenate(us), np.concatenate(vs)


def xor_differences(u, v, m):
    """The set D if the pairs ``(u, v)`` are exactly the pairs {i, i XOR d}, d in D, each once.

    Such graphs (the hypercube on inputs in counting order, pairs at a fixed
    Hamming distance) have word-parallel measure kernels.

    Returns
    -------
    diffs : ndarray of int64, or None
        Sorted D; None when m is not a power of two or the pairs are not of
        that form.
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    m = int(m)
    if m < 2 or m & (m - 1) or u.shape[0] == 0:
        return None
    d = u ^ v
    diffs = np.unique(d)
    if diffs[0] <= 0 or diffs[-1] >= m or u.shape[0] != diffs.shape[0] * (m // 2):
        return None
    # |D| * m/2 distinct pairs, each in the class of its d, fill every class.
    if np.unique(np.minimum(u, v) * m + d).shape[0] != u.shape[0]:
        return None
    return diffs


def _parse(spec):
    text = str(spec).strip()
    name, _, arg = text.partition(":")
    if name in ("auto", "hypercube") and not arg:
        return text, name, None
    if name == "knn":
        try:
            k = int(arg)
        except ValueError:
            k = 0
        if k >= 1:
            return text, name, k
        raise InvalidParameterError("graph", f"{text!r}: K must be a positive integer (e.g. knn:7)")
    if name == "radius":
        try:
            radius = float(arg)
        except ValueError:
            radius = math.nan
        if math.isfinite(radius) and radius > 0:
            return text, name, radius
        raise InvalidParameterError("graph", f"{text!r}: R must be a positive number (e.g. radius:1.5)")
    raise InvalidParameterError("graph", f"unknown graph {text!r}; choose from auto, hypercube, knn:K, radius:R")


def check_graph_spec(spec):
    """Check the syntax of a graph specification; return it as a string."""
    return _parse(spec)[0]


def resolve_graph_spec(spec, encoding):
    """The concrete spec ``auto`` stands for on this encoding (other specs unchanged)."""
    text, name, _ = _parse(spec)
    if name != "auto":
        return text
    if encoding.vertices is not None:
        return "hypercube"
    return f"knn:{max(1, math.ceil(math.log2(encoding.m)))}"


def _nearest(points):
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors().fit(points)


def _knn_pairs(points, k):
    """Pairs (i, j): j at most as far from i as i's k-th nearest other input."""
    index = _nearest(points)
    kth = index.kneighbors(n_neighbors=k, return_distance=True)[0][:, k - 1]
    limit = kth * (1.0 + _TIE_TOLERANCE) + _TIE_TOLERANCE
    radius = float(limit.max())
    us, vs = [], []
    for start in range(0, points.shape[0], _BATCH):
        stop = min(points.shape[0], start + _BATCH)
        dist, neigh = index.radius_neighbors(points[start:stop], radius=radius)
        for row, (d, j) in enumerate(zip(dist, neigh)):
            chosen = j[d <= limit[start + row]]
            us.append(np.full(chosen.shape[0], start + row, dtype=np.int64))
            vs.append(chosen.astype(np.int64))
    return np.concatenate(us), np.concatenate(vs)


def _radius_pairs(points, radius):
    index = _nearest(points)
    us, vs = [], []
    for start in range(0, points.shape[0], _BATCH):
        neigh = index.radius_neighbors(points[start:start + _BATCH], radius=radius, return_distance=False)
        for row, j in enumerate(neigh):
            us.append(np.full(j.shape[0], start + row, dtype=np.int64))
            vs.append(j.astype(np.int64))
    return np.concatenate(us), np.concatenate(vs)


def make_graph(spec, encoding):
    """Build the neighbour graph ``spec`` names on an encoding's points.

    Raises
    ------
    InvalidParameterError
        Naming ``graph``: a malformed spec, ``hypercube`` on an encoding
        whose points are not bit vectors, K outside 1 .. m-1, or a radius
        that joins no two inputs.
    """
    text = resolve_graph_spec(spec, encoding)
    _, name, arg = _parse(text)
    m = encoding.m
    if name == "hypercube":
        if encoding.vertices is None:
            raise InvalidParameterError(
                "graph", f"hypercube needs bit-vector points, and encoding {encoding.spec!r} has none; "
                         "use knn:K or radius:R")
        u, v = hypercube_pairs(encoding.vertices, 1)
    elif name == "knn":
        if arg > m - 1:
            raise InvalidParameterError("graph", f"{text}: K must be at most m - 1 = {m - 1}")
        u, v = _knn_pairs(encoding.points, arg)
    else:
        u, v = _radius_pairs(encoding.points, arg)
    graph = graph_from_pairs(text, m, u, v)
    if graph.n_edges == 0:
        raise InvalidParameterError("graph", f"{text} joins no two inputs of encoding {encoding.spec!r}; "
                                             "choose a larger radius")
    return graph
