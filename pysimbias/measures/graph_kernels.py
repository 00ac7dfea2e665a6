"""Numba kernels for graph-based measures of packed functions.

Pure array-in / array-out.  ``keys`` (uint64, shape (N, W)) holds N packed
functions (bit i in word ``i // 64`` at position ``i % 64``); a graph on the
inputs is given either as an edge list ``(u, v)`` or in CSR form
``(indptr, indices)``.  Each kernel returns one int64 per function.

- :func:`edge_disagreements` -- edges whose two ends get different outputs.
- :func:`critical_inputs` -- inputs with a neighbour of a different output.
"""

import numba
import numpy as np

__all__ = ["edge_disagreements", "critical_inputs"]

_ONE = np.uint64(1)


@numba.njit(cache=True, inline="always")
def _bit(words, i):
    """Bit i of a packed function, as uint64 0 or 1."""
    return (words[i >> 6] >> np.uint64(i & 63)) & _ONE


@numba.njit(cache=True, parallel=True)
def edge_disagreements(keys, u, v):
    """Number of edges ``(u[e], v[e])`` whose ends get different outputs.

    Parameters
    ----------
    keys : ndarray of uint64, shape (N, W)
    u, v : ndarray of int64, shape (E,)
        Edge ends (input indices).

    Returns
    -------
    counts : ndarray of int64, shape (N,)
    """
    n = keys.shape[0]
    out = np.empty(n, dtype=np.int64)
    for r in numba.prange(n):
        row = keys[r]
        total = np.uint64(0)
        for e in range(u.shape[0]):
            total += _bit(row, u[e]) ^ _bit(row, v[e])
        out[r] = np.int64(total)
    return out


@numba.njit(cache=True, parallel=True)
def critical_inputs(keys, indptr, indices):
    """Number of inputs with at least one neighbour of a different output.

    Parameters
    ----------
    keys : ndarray of uint64, shape (N, W)
    indptr : ndarray of int64, shape (m + 1,)
    indices : ndarray of int64
        CSR adjacency: the neighbours of input i are
        ``indices[indptr[i]:indptr[i + 1]]``.

    Returns
    -------
    counts : ndarray of int64, shape (N,)
    """
    n = keys.shape[0]
    m = indptr.shape[0] - 1
    out = np.empty(n, dtype=np.int64)
    for r in numba.prange(n):
        row = keys[r]
        critical = 0
        for i in range(m):
            own = _bit(row, i)
            for p in range(indptr[i], indptr[i + 1]):
                if _bit(row, indices[p]) != own:
                    critical += 1
                    break
        out[r] = critical
    return out
