"""Numba kernels: exact counting of packed keys in an open-addressing hash table.

The table is two arrays: ``table_keys`` (capacity x W uint64) and
``table_counts`` (capacity int64, 0 marks an empty slot).  Capacity is a power
of two; probing is linear.  Callers keep the load factor at most one half.
"""

import numba
import numpy as np

from .rng import GAMMA, mix64

__all__ = ["hash_keys", "insert_keys", "rehash"]


@numba.njit(inline="always")
def _hash_row(keys, r):
    h = np.uint64(0x243F6A8885A308D3)
    for w in range(keys.shape[1]):
        h = mix64(h ^ (keys[r, w] + GAMMA * np.uint64(w + 1)))
    return h


@numba.njit(cache=True)
def hash_keys(keys):
    """64-bit hash of every row of ``keys``."""
    out = np.empty(keys.shape[0], dtype=np.uint64)
    for r in range(keys.shape[0]):
        out[r] = _hash_row(keys, r)
    return out


@numba.njit(inline="always")
def _same(table_keys, slot, keys, r):
    for w in range(keys.shape[1]):
        if table_keys[slot, w] != keys[r, w]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def insert_keys(table_keys, table_counts, keys, counts):
    """Add ``keys`` (with multiplicities ``counts``, or 1 each if it is empty).

    Returns
    -------
    new : int
        Number of keys that were not in the table before.
    """
    mask = np.uint64(table_counts.shape[0] - 1)
    weighted = counts.shape[0] > 0
    new = 0
    for r in range(keys.shape[0]):
        c = counts[r] if weighted else 1
        slot = _hash_row(keys, r) & mask
        while True:
            s = np.int64(slot)
            if table_counts[s] == 0:
                for w in range(keys.shape[1]):
                    table_keys[s, w] = keys[r, w]
                table_counts[s] = c
                new += 1
                break
            if _same(table_keys, s, keys, r):
                table_counts[s] += c
                break
            slot = (slot + np.uint64(1)) & mask
    return new


@numba.njit(cache=True, nogil=True)
def rehash(table_keys, table_counts, capacity):
    """Copy a table into a new, empty one of ``capacity`` slots."""
    used = np.nonzero(table_counts)[0]
    new_keys = np.zeros((capacity, table_keys.shape[1]), dtype=np.uint64)
    new_counts = np.zeros(capacity, dtype=np.int64)
    insert_keys(new_keys, new_counts, table_keys[used], table_counts[used])
    return new_keys, new_counts
