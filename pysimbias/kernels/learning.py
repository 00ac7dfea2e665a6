"""Kernels of learning from a training set: agreement with a target on packed keys.

Functions, targets and masks are packed as in :mod:`pysimbias.kernels.bits`
(bit i of word i // 64).  A function agrees with the target on the inputs of
``mask`` iff ``(key ^ target) & mask`` is zero in every word.
"""

import numba
import numpy as np

from .bits import popcount64

__all__ = ["select_consistent", "count_disagreements", "BLOCK_ROWS"]


#: Rows per block of :func:`select_consistent`: each block is scanned by one thread, twice (count, then copy).
BLOCK_ROWS = 4096


@numba.njit(inline="always")
def _agrees(keys, r, target, mask):
    """1 if row ``r`` agrees with ``target`` on ``mask``, else 0 (no branch: the outcome is a coin flip)."""
    differ = np.uint64(0)
    for w in range(keys.shape[1]):
        differ |= (keys[r, w] ^ target[w]) & mask[w]
    return np.int64(differ == 0)


@numba.njit(cache=True, parallel=True)
def _select_blocks(keys, target, mask, block_rows):
    n, width = keys.shape
    blocks = (n + block_rows - 1) // block_rows
    starts = np.zeros(blocks + 1, dtype=np.int64)
    for b in numba.prange(blocks):
        kept = 0
        for r in range(b * block_rows, min(n, (b + 1) * block_rows)):
            kept += _agrees(keys, r, target, mask)
        starts[b + 1] = kept
    for b in range(blocks):
        starts[b + 1] += starts[b]
    out = np.empty((starts[blocks], width), dtype=np.uint64)
    for b in numba.prange(blocks):
        row, end = starts[b], starts[b + 1]
        for r in range(b * block_rows, min(n, (b + 1) * block_rows)):
            if row == end:  # every agreeing row of the block is written
                break
            # Copy every row to the next free slot and keep it only if it agrees: no branch on the outcome.
            for w in range(width):
                out[row, w] = keys[r, w]
            row += _agrees(keys, r, target, mask)
    return out


def select_consistent(keys, target, mask):
    """The rows of ``keys`` that agree with ``target`` on every input of ``mask``, in input order.

    Parameters
    ----------
    keys : ndarray of uint64, shape (N, W)
        Packed functions.
    target : ndarray of uint64, shape (W,)
        The packed target.
    mask : ndarray of uint64, shape (W,)
        The packed training set.

    Returns
    -------
    ndarray of uint64, shape (K, W)
        The agreeing rows, in the order they have in ``keys``.
    """
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    target = np.ascontiguousarray(target, dtype=np.uint64)
    mask = np.ascontiguousarray(mask, dtype=np.uint64)
    return _select_blocks(keys, target, mask, BLOCK_ROWS)


@numba.njit(cache=True, parallel=True)
def _disagreements(keys, target, mask):
    n, width = keys.shape
    out = np.empty(n, dtype=np.int64)
    for r in numba.prange(n):
        total = np.uint64(0)
        for w in range(width):
            total += popcount64((keys[r, w] ^ target[w]) & mask[w])
        out[r] = np.int64(total)
    return out


def count_disagreements(keys, target, mask):
    """Number of inputs of ``mask`` on which each packed function differs from ``target``.

    Parameters
    ----------
    keys : ndarray of uint64, shape (N, W)
    target, mask : ndarray of uint64, shape (W,)

    Returns
    -------
    ndarray of int64, shape (N,)
        ``popcount((key ^ target) & mask)`` summed over the words.
    """
    return _disagreements(np.ascontiguousarray(keys, dtype=np.uint64), np.ascontiguousarray(target, dtype=np.uint64),
                          np.ascontiguousarray(mask, dtype=np.uint64))
