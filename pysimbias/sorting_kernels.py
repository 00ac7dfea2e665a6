"""Numba kernel: stable lexicographic argsort of uint64 rows by LSD radix sort.

Pure array-in / array-out.  Sorting millions of distinct functions into the
canonical order (count descending, then text) with ``np.lexsort`` costs
seconds; a least-significant-digit radix sort does the same in a few passes
over the data.  Rows are ordered by column 0 first; equal rows keep their
input order, exactly as ``np.lexsort`` on the reversed columns.
"""

import numba
import numpy as np

__all__ = ["lexsort_rows"]

_DIGIT_BITS = 11
_BUCKETS = 1 << _DIGIT_BITS
_DIGITS = (64 + _DIGIT_BITS - 1) // _DIGIT_BITS


@numba.njit(cache=True)
def lexsort_rows(words):
    """Stable permutation that sorts the rows of ``words`` (N x L uint64) lexicographically.

    Columns are sorted from the last to the first.  For each column the
    values are gathered in the current order once, then sorted by 11-bit
    digits; a digit that is the same in every row is skipped.
    """
    n, n_cols = words.shape
    order = np.arange(n)
    if n < 2:
        return order
    vals = np.empty(n, dtype=np.uint64)
    vals_tmp = np.empty(n, dtype=np.uint64)
    order_tmp = np.empty(n, dtype=np.int64)
    hist = np.zeros((_DIGITS, _BUCKETS), dtype=np.int64)
    mask = np.uint64(_BUCKETS - 1)
    for col in range(n_cols - 1, -1, -1):
        hist[:] = 0
        for i in range(n):
            v = words[order[i], col]
            vals[i] = v
            for d in range(_DIGITS):
                hist[d, np.int64((v >> np.uint64(d * _DIGIT_BITS)) & mask)] += 1
        for d in range(_DIGITS):
            shift = np.uint64(d * _DIGIT_BITS)
            if hist[d, np.int64((vals[0] >> shift) & mask)] == n:
                continue  # every row has this digit: the pass would change nothing
            start = 0
            for b in range(_BUCKETS):
                c = hist[d, b]
                hist[d, b] = start
                start += c
            for i in range(n):
                b = np.int64((vals[i] >> shift) & mask)
                dst = hist[d, b]
                hist[d, b] = dst + 1
                vals_tmp[dst] = vals[i]
                order_tmp[dst] = order[i]
            vals, vals_tmp = vals_tmp, vals
            order, order_tmp = order_tmp, order
    return order
