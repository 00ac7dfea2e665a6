"""Numba kernel for the Walsh–Fourier spectrum of packed Boolean functions.

Pure array-in / array-out.  A function f on the cube {0,1}^n is read through
``index_of_vertex``: its value at cube vertex x (an integer whose bits, most
significant first, are the coordinates) is bit ``index_of_vertex[x]`` of the
packed key.  Its ±1 form F(x) = (-1)^f(x) has Walsh coefficients
F̂(S) = 2^-n Σ_x F(x) (-1)^{|S & x|}, computed by the fast Walsh–Hadamard
transform in exact integer arithmetic.
"""

import numba
import numpy as np

__all__ = ["walsh_degree"]

_ONE = np.uint64(1)
# Rows per parallel work item (one scratch spectrum per item).
_BLOCK = 256


@numba.njit(cache=True, inline="always")
def _popcount(x):
    count = 0
    while x:
        x &= x - 1
        count += 1
    return count


@numba.njit(cache=True)
def _fwht(values):
    """In-place unnormalised Walsh–Hadamard transform of a length-2^n int64 array."""
    m = values.shape[0]
    h = 1
    while h < m:
        for start in range(0, m, 2 * h):
            for i in range(start, start + h):
                a = values[i]
                b = values[i + h]
                values[i] = a + b
                values[i + h] = a - b
        h *= 2


@numba.njit(cache=True, parallel=True)
def walsh_degree(keys, index_of_vertex):
    """Mean degree Σ_S |S| F̂(S)^2 of the Walsh spectrum of each function.

    Parameters
    ----------
    keys : ndarray of uint64, shape (N, W)
        Packed functions on m = 2**n inputs.
    index_of_vertex : ndarray of int64, shape (m,)
        The input index of every cube vertex.

    Returns
    -------
    degree : ndarray of float64, shape (N,)
        Between 0 (constant functions) and n (parity of all n bits).
    """
    count = keys.shape[0]
    m = index_of_vertex.shape[0]
    out = np.empty(count, dtype=np.float64)
    for blk in numba.prange((count + _BLOCK - 1) // _BLOCK):
        spectrum = np.empty(m, dtype=np.int64)
        for r in range(blk * _BLOCK, min(count, (blk + 1) * _BLOCK)):
            row = keys[r]
            for x in range(m):
                i = index_of_vertex[x]
                spectrum[x] = 1 - 2 * np.int64((row[i >> 6] >> np.uint64(i & 63)) & _ONE)
            _fwht(spectrum)
            total = 0
            for s in range(m):
                total += _popcount(s) * spectrum[s] * spectrum[s]
            out[r] = total / (float(m) * float(m))
    return out
