"""Numba kernel: the Walsh spectrum of packed functions, summed by degree.

Pure array-in / array-out.  Function r, read on the cube (input i is vertex
``vertices[i]``), becomes F = (-1)^f, and m F̂(S) = Σ_x F(x) (-1)^{|S ∩ x|}
= m - 2 |f ⊕ χ_S| for every S, where χ_S is the parity of the bits in S.
For n <= 8 every coefficient is that popcount against a table of the m
parity strings, held one word at a time and ordered by degree so that the
popcounts and the sums by degree run as vector loops (m·W words per
function, no branches, no scatter); above, an in-place
fast Walsh–Hadamard transform gives them (m log m additions).  Row r of the
result is W_k = Σ_{|S|=k} F̂(S)^2 for k = 0..n, summed exactly in integers
and scaled by 1/m² once.  Rows are independent, so results do not depend on
the thread count.
"""

import numba
import numpy as np

from . import prange_only
from .bits import popcount64

__all__ = ["walsh_degree_weights", "walsh_degree_totals"]

# Functions per parallel work item (scratch is allocated once per item).
_BLOCK = 1024
# Largest n whose coefficients come from the table of parity strings (m * W words: 8 KiB at n = 8).
_PARITY_MAX_N = 8
_ONE = np.uint64(1)


@numba.njit(cache=True)
def _parity_strings(n, n_w):
    """Packed χ_S for every S in 0..2**n - 1: bit x of row S is the parity of |S ∩ x|."""
    m = 1 << n
    table = np.zeros((m, n_w), dtype=np.uint64)
    for s in range(m):
        for x in range(m):
            parity = 0
            common = s & x
            while common:
                parity ^= 1
                common &= common - 1
            if parity:
                table[s, x >> 6] |= _ONE << np.uint64(x & 63)
    return table


@numba.njit
def _plan(vertices, n, n_w):
    """What every row's transform reads: ``(degree, bounds, parity_rows, identity)``.

    ``degree[S]`` = |S|; the sets S taken in order of degree, those of
    degree k are the j-th for ``bounds[k] <= j < bounds[k + 1]``;
    ``parity_rows[w, j]`` is word w of chi_S for the j-th set (empty for
    n > 8); ``identity``: input i is vertex i for every i.
    """
    m = 1 << n
    degree = np.zeros(m, dtype=np.int64)
    for s in range(1, m):
        degree[s] = degree[s >> 1] + (s & 1)
    identity = True
    for i in range(m):
        identity = identity and vertices[i] == i
    use_table = n <= _PARITY_MAX_N
    # The parity strings one word at a time (row w holds word w of every chi_S), the sets S in order of degree:
    # the coefficients of one degree are then a contiguous run, and both loops over S vectorize.
    by_degree = np.argsort(degree)
    bounds = np.zeros(n + 2, dtype=np.int64)
    for s in range(m):
        bounds[degree[s] + 1] += 1
    for k in range(n + 1):
        bounds[k + 1] += bounds[k]
    parity = _parity_strings(n if use_table else 0, n_w)
    parity_rows = np.empty((n_w, m if use_table else 0), dtype=np.uint64)
    for w in range(n_w):
        for j in range(parity_rows.shape[1]):
            parity_rows[w, j] = parity[by_degree[j], w]
    return degree, bounds, parity_rows, identity


@numba.njit
def _block_weights(keys, lo, hi, vertices, n, plan):
    """Row r - lo of the result: m² W_k of function ``keys[r]`` for k = 0..n, exact integers, for lo <= r < hi.

    ``plan`` is :func:`_plan`'s.
    """
    m = 1 << n
    degree, bounds, parity_rows, identity = plan
    n_w = keys.shape[1]
    on_cube = np.empty(n_w, dtype=np.uint64)
    values = np.empty(m, dtype=np.int64)
    block = np.zeros((hi - lo, n + 1), dtype=np.int64)
    for r in range(lo, hi):
        weights = block[r - lo]
        if identity:
            for w in range(n_w):
                on_cube[w] = keys[r, w]
        else:
            on_cube[:] = 0
            for i in range(m):
                bit = (keys[r, i >> 6] >> np.uint64(i & 63)) & _ONE
                on_cube[vertices[i] >> 6] |= bit << np.uint64(vertices[i] & 63)
        if parity_rows.shape[1]:
            # values[j] = |f xor chi_S| for the j-th set S in order of degree; m - 2 |f xor chi_S| = m F^(S)
            values[:] = 0
            for w in range(n_w):
                word = on_cube[w]
                for j in range(m):
                    values[j] += np.int64(popcount64(word ^ parity_rows[w, j]))
            for k in range(n + 1):
                total = np.int64(0)
                for j in range(bounds[k], bounds[k + 1]):
                    total += (m - 2 * values[j]) ** 2
                weights[k] = total
        else:  # the fast Walsh-Hadamard transform, coefficients in order of S
            for x in range(m):
                values[x] = 1 - 2 * np.int64((on_cube[x >> 6] >> np.uint64(x & 63)) & _ONE)
            half = 1
            while half < m:
                for start in range(0, m, 2 * half):
                    for j in range(start, start + half):
                        a = values[j]
                        b = values[j + half]
                        values[j] = a + b
                        values[j + half] = a - b
                half *= 2
            weights[:] = 0
            for s in range(m):
                weights[degree[s]] += values[s] * values[s]
    return block


@numba.njit(cache=True, parallel=prange_only())
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
        Exact (every W_k is a multiple of 1/m² below 1) for n <= 17.
    """
    m = 1 << n
    plan = _plan(vertices, n, keys.shape[1])
    rows = keys.shape[0]
    out = np.zeros((rows, n + 1))
    scale = 1.0 / (float(m) * float(m))
    for blk in numba.prange((rows + _BLOCK - 1) // _BLOCK):
        lo = blk * _BLOCK
        block = _block_weights(keys, lo, min(rows, lo + _BLOCK), vertices, n, plan)
        for i in range(block.shape[0]):
            for k in range(n + 1):
                out[lo + i, k] = float(block[i, k]) * scale
    return out


@numba.njit(cache=True, parallel=prange_only())
def walsh_degree_totals(keys, counts, vertices, n):
    """``Σ_r counts[r] m² W_k(keys[r])`` for k = 0..n, in integers (exact: the caller keeps it below 2^63).

    Integer sums do not depend on their order, so neither does the result
    on the thread count.
    """
    plan = _plan(vertices, n, keys.shape[1])
    rows = keys.shape[0]
    n_blocks = (rows + _BLOCK - 1) // _BLOCK
    partial = np.zeros((n_blocks, n + 1), dtype=np.int64)
    for blk in numba.prange(n_blocks):
        lo = blk * _BLOCK
        block = _block_weights(keys, lo, min(rows, lo + _BLOCK), vertices, n, plan)
        for i in range(block.shape[0]):
            for k in range(n + 1):
                partial[blk, k] += counts[lo + i] * block[i, k]
    return partial.sum(axis=0)
