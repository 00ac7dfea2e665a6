"""Kernels of learning from a training set: agreement with a target on packed keys.

Functions, targets and masks are packed as in :mod:`pysimbias.kernels.bits`
(bit i of word i // 64).  A function agrees with the target on the inputs of
``mask`` iff ``(key ^ target) & mask`` is zero in every word.
"""

import numba
import numpy as np

from .bits import popcount64

__all__ = ["select_consistent", "count_disagreements"]


@numba.njit(cache=True, parallel=True)
def _consistent_flags(keys, target, mask):
    n, width = keys.shape
    flags = np.empty(n, dtype=np.bool_)
    for r in numba.prange(n):
        agree = True
        for w in range(width):
            if (keys[r, w] ^ target[w]) & mask[w]:
                agree = False
        flags[r] = agree
    return flags


@numba.njit(cache=True, parallel=True)
def _gather_flagged(keys, flags):
    n, width = keys.shape
    positions = np.empty(n, dtype=np.int64)
    kept = 0
    for r in range(n):
        positions[r] = kept
        kept += flags[r]
    out = np.empty((kept, width), dtype=np.uint64)
    for r in numba.prange(n):
        if flags[r]:
            for w in range(width):
                out[positions[r], w] = keys[r, w]
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
    return _gather_flagged(keys, _consistent_flags(keys, target, mask))


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
