"""Numba kernels: exact counting of packed keys in an open-addressing hash table.

The table is one (capacity, W + 1) uint64 array: a slot's first W words hold
a key and its last word the key's count (0 marks an empty slot), so a probe
touches one cache line.  Capacity is a power of two; probing is linear.
Callers keep the load factor at most one half.
"""

import numba
import numpy as np

from .rng import GAMMA, mix64

__all__ = ["hash_keys", "insert_keys", "rehash", "table_items"]


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
def _same(table, slot, keys, r):
    for w in range(keys.shape[1]):
        if table[slot, w] != keys[r, w]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def insert_keys(table, keys, counts):
    """Add ``keys`` (with multiplicities ``counts``, or 1 each if it is empty).

    Returns
    -------
    new : int
        Number of keys that were not in the table before.
    """
    n_w = keys.shape[1]
    mask = np.uint64(table.shape[0] - 1)
    weighted = counts.shape[0] > 0
    new = 0
    for r in range(keys.shape[0]):
        c = np.uint64(counts[r]) if weighted else np.uint64(1)
        slot = _hash_row(keys, r) & mask
        while True:
            s = np.int64(slot)
            if table[s, n_w] == 0:
                for w in range(n_w):
                    table[s, w] = keys[r, w]
                table[s, n_w] = c
                new += 1
                break
            if _same(table, s, keys, r):
                table[s, n_w] += c
                break
            slot = (slot + np.uint64(1)) & mask
    return new


@numba.njit(cache=True)
def table_items(table):
    """The occupied slots' keys (D, W) and counts (D,), in slot order."""
    n_w = table.shape[1] - 1
    used = np.nonzero(table[:, n_w])[0]
    keys = np.empty((used.shape[0], n_w), dtype=np.uint64)
    counts = np.empty(used.shape[0], dtype=np.int64)
    for r in range(used.shape[0]):
        for w in range(n_w):
            keys[r, w] = table[used[r], w]
        counts[r] = np.int64(table[used[r], n_w])
    return keys, counts


@numba.njit(cache=True, nogil=True)
def rehash(table, capacity):
    """Copy a table into a new, empty one of ``capacity`` slots."""
    keys, counts = table_items(table)
    new_table = np.zeros((capacity, table.shape[1]), dtype=np.uint64)
    insert_keys(new_table, keys, counts)
    return new_table
