"""Numba kernel: the Walsh spectrum of packed functions, summed by degree.

Pure array-in / array-out.  Function r, read on the cube (input i is vertex
``vertices[i]``), becomes F = (-1)^f; an in-place fast Walsh–Hadamard
transform gives m F̂(S) = Σ_x F(x) (-1)^{|S ∩ x|} for every S in natural order,
and row r of the result is W_k = Σ_{|S|=k} F̂(S)^2 for k = 0..n.  Rows are
independent, so results do not depend on the thread count.
"""

import numba
import numpy as np

__all__ = ["walsh_degree_weights"]


@numba.njit(cache=True, parallel=True)
def walsh_degree_weights(keys, vertices, n):
    """Spectral weight at each degree of every packed function.

    Parameters
    ----------
    keys : ndarray of uint64, shape (N, W)
        Packed functions on m = 2**n inputs.
    vertices : ndarray of int64, shape (m,)
        Cube vertex of every input.
    n : int

    Returns
    -------
    ndarray of float64, shape (N, n + 1)
    """
    m = 1 << n
    degree = np.zeros(m, dtype=np.int64)
    for s in range(1, m):
        degree[s] = degree[s >> 1] + (s & 1)
    out = np.zeros((keys.shape[0], n + 1))
    scale = 1.0 / (float(m) * float(m))
    for r in numba.prange(keys.shape[0]):
        values = np.empty(m)
        for i in range(m):
            bit = (keys[r, i >> 6] >> np.uint64(i & 63)) & np.uint64(1)
            values[vertices[i]] = 1.0 - 2.0 * float(bit)
        half = 1
        while half < m:
            for start in range(0, m, 2 * half):
                for j in range(start, start + half):
                    a = values[j]
                    b = values[j + half]
                    values[j] = a + b
                    values[j + half] = a - b
            half *= 2
        for s in range(m):
            out[r, degree[s]] += values[s] * values[s] * scale
    return out
