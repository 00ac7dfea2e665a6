"""Numba kernels for graph-based measures of packed functions.

Pure array-in / array-out.  ``keys`` (uint64, shape (N, W)) holds N packed
functions (bit i in word ``i // 64`` at position ``i % 64``); a graph on the
inputs is given either as an edge list ``(u, v)`` or in CSR form
``(indptr, indices)``.  Each kernel returns one int64 per function.

- :func:`edge_disagreements` -- edges whose two ends get different outputs.
- :func:`critical_inputs` -- inputs with a neighbour of a different output.

When m = 2**n and the graph joins every input i to i XOR d for each d of a
set D (the hypercube: D = the powers of two; pairs at Hamming distance 2:
the sums of two of them), both counts follow from the words of f XOR f_d,
where f_d(i) = f(i XOR d) is f with its bits permuted by a few shifts and
masks: :func:`xor_disagreements` and :func:`xor_critical_inputs` count whole
words at a time instead of one edge at a time.  :func:`cube_counts` gets the
counts that the cube measures share (distance-1 disagreements and critical
inputs, distance-2 disagreements) in one pass over each function.
"""

import numba
import numpy as np

from . import prange_only
from .bits import popcount64

__all__ = ["edge_disagreements", "critical_inputs", "xor_disagreements", "xor_critical_inputs", "cube_counts"]

_ONE = np.uint64(1)
# _SWAP_MASKS[j]: the bit positions i of a word with bit j of i clear.
_SWAP_MASKS = np.array([0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F,
                        0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF], dtype=np.uint64)
# Functions per parallel work item of the XOR kernels.
_BLOCK = 1024


@numba.njit(cache=True, inline="always")
def _bit(words, i):
    """Bit i of a packed function, as uint64 0 or 1."""
    return (words[i >> 6] >> np.uint64(i & 63)) & _ONE


@numba.njit(cache=True, parallel=prange_only())
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


@numba.njit(cache=True, parallel=prange_only())
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


@numba.njit(inline="always")
def _xor_permuted(keys, r, d, out):
    """``out`` = the words of f_d, f_d(i) = f(i XOR d), for the function in row ``r``."""
    n_w = keys.shape[1]
    high = d >> 6
    for w in range(n_w):
        out[w] = keys[r, w ^ high]
    for j in range(6):
        if (d >> j) & 1:
            shift = np.uint64(1 << j)
            mask = _SWAP_MASKS[j]
            for w in range(n_w):
                x = out[w]
                out[w] = ((x >> shift) & mask) | ((x & mask) << shift)


@numba.njit(cache=True, parallel=prange_only())
def xor_disagreements(keys, diffs):
    """Number of edges {i, i XOR d}, d in ``diffs``, whose ends get different outputs.

    Parameters
    ----------
    keys : ndarray of uint64, shape (N, W)
        Packed functions on m = 2**n inputs.
    diffs : ndarray of int64
        Distinct values in 1 .. m-1.

    Returns
    -------
    counts : ndarray of int64, shape (N,)
        The same as :func:`edge_disagreements` on those edges.
    """
    n, n_w = keys.shape
    out = np.empty(n, dtype=np.int64)
    for blk in numba.prange((n + _BLOCK - 1) // _BLOCK):
        permuted = np.empty(n_w, dtype=np.uint64)
        for r in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            total = np.uint64(0)
            for k in range(diffs.shape[0]):
                _xor_permuted(keys, r, diffs[k], permuted)
                for w in range(n_w):
                    total += popcount64(keys[r, w] ^ permuted[w])
            out[r] = np.int64(total >> _ONE)  # every edge was seen from both ends
    return out


@numba.njit(cache=True, parallel=prange_only())
def xor_critical_inputs(keys, diffs):
    """Number of inputs i with some i XOR d, d in ``diffs``, of a different output.

    The same as :func:`critical_inputs` on the graph of those edges.
    """
    n, n_w = keys.shape
    out = np.empty(n, dtype=np.int64)
    for blk in numba.prange((n + _BLOCK - 1) // _BLOCK):
        permuted = np.empty(n_w, dtype=np.uint64)
        critical = np.empty(n_w, dtype=np.uint64)
        for r in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            for w in range(n_w):
                critical[w] = 0
            for k in range(diffs.shape[0]):
                _xor_permuted(keys, r, diffs[k], permuted)
                for w in range(n_w):
                    critical[w] |= keys[r, w] ^ permuted[w]
            total = np.uint64(0)
            for w in range(n_w):
                total += popcount64(critical[w])
            out[r] = np.int64(total)
    return out


@numba.njit(inline="always")
def _flip_input_bit(src, j, out):
    """``out`` = the words of g(i) = src(i XOR 2**j), for the packed function ``src``."""
    n_w = src.shape[0]
    if j < 6:
        shift = np.uint64(1 << j)
        mask = _SWAP_MASKS[j]
        for w in range(n_w):
            x = src[w]
            out[w] = ((x >> shift) & mask) | ((x & mask) << shift)
    else:
        high = 1 << (j - 6)
        for w in range(n_w):
            out[w] = src[w ^ high]


@numba.njit(inline="always")
def _flip_two_words(low, high, j):
    """:func:`_flip_input_bit` of a function held in two words (m <= 128), as (low, high)."""
    if j < 6:
        shift = np.uint64(1 << j)
        mask = _SWAP_MASKS[j]
        return ((low >> shift) & mask) | ((low & mask) << shift), ((high >> shift) & mask) | ((high & mask) << shift)
    return high, low


@numba.njit(cache=True)
def _cube_counts_two_words(low, high, n, flipped_low, flipped_high):
    """:func:`cube_counts` of one function on m <= 128 inputs held in registers, as (near, critical, far)."""
    near = np.uint64(0)
    critical_low = np.uint64(0)
    critical_high = np.uint64(0)
    for j in range(n):
        a, b = _flip_two_words(low, high, j)
        flipped_low[j] = a
        flipped_high[j] = b
        near += popcount64(low ^ a) + popcount64(high ^ b)
        critical_low |= low ^ a
        critical_high |= high ^ b
    far = np.uint64(0)
    for j in range(n):
        for k in range(j + 1, n):
            a, b = _flip_two_words(flipped_low[j], flipped_high[j], k)
            far += popcount64(low ^ a) + popcount64(high ^ b)
    return near, popcount64(critical_low) + popcount64(critical_high), far


@numba.njit(cache=True)
def _cube_counts_words(row, n, flipped, twice, critical):
    """:func:`cube_counts` of one function on any number of words, as (near, critical, far); the rest is scratch."""
    n_w = row.shape[0]
    near = np.uint64(0)
    far = np.uint64(0)
    for w in range(n_w):
        critical[w] = 0
    for j in range(n):
        _flip_input_bit(row, j, flipped[j])
        for w in range(n_w):
            differ = row[w] ^ flipped[j, w]
            near += popcount64(differ)
            critical[w] |= differ
    for j in range(n):
        for k in range(j + 1, n):
            _flip_input_bit(flipped[j], k, twice)
            for w in range(n_w):
                far += popcount64(row[w] ^ twice[w])
    total = np.uint64(0)
    for w in range(n_w):
        total += popcount64(critical[w])
    return near, total, far


@numba.njit(cache=True, parallel=prange_only())
def cube_counts(keys, n):
    """Disagreement counts on the n-cube, inputs in counting order (input i is vertex i), in one pass.

    Parameters
    ----------
    keys : ndarray of uint64, shape (N, W)
        Packed functions on m = 2**n inputs.
    n : int

    Returns
    -------
    counts : ndarray of int64, shape (N, 3)
        Column 0: pairs at Hamming distance 1 with different outputs (as
        :func:`xor_disagreements` with the powers of two); column 1: inputs
        with a distance-1 neighbour of a different output (as
        :func:`xor_critical_inputs`); column 2: pairs at distance 2 with
        different outputs.
    """
    rows, n_w = keys.shape
    out = np.empty((rows, 3), dtype=np.int64)
    for blk in numba.prange((rows + _BLOCK - 1) // _BLOCK):
        flipped = np.empty((max(n, 1), max(n_w, 2)), dtype=np.uint64)
        twice = np.empty(n_w, dtype=np.uint64)
        critical = np.empty(n_w, dtype=np.uint64)
        for r in range(blk * _BLOCK, min(rows, (blk + 1) * _BLOCK)):
            if n_w <= 2:  # the words stay in registers
                high = keys[r, 1] if n_w == 2 else np.uint64(0)
                near, total, far = _cube_counts_two_words(keys[r, 0], high, n, flipped[:, 0], flipped[:, 1])
            else:
                near, total, far = _cube_counts_words(keys[r], n, flipped, twice, critical)
            out[r, 0] = np.int64(near >> _ONE)  # every pair was seen from both ends
            out[r, 1] = np.int64(total)
            out[r, 2] = np.int64(far >> _ONE)
    return out
