"""Numba kernels: exact counting of packed keys in an open-addressing hash table.

The table is one (capacity, W + 1) uint64 array: a slot's first W words hold
a key and its last word the key's count (0 marks an empty slot), so a probe
touches one cache line.  Capacity is a power of two; probing is linear.
Callers keep the load factor at most :data:`MAX_LOAD`.

A table of millions of functions is far larger than the caches, so nearly
every new key costs a trip to main memory.  Insertion therefore hashes a
batch of keys first and asks the processor to fetch the slot of key r + D
while it inserts key r (a software prefetch), keeping about D memory
accesses in flight instead of one.
"""

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .rng import GAMMA, mix64

# Keys ahead whose slots are prefetched; about the number of memory accesses
# a core keeps in flight.
_PREFETCH_DISTANCE = 16
# Slots per segment when a table's items are gathered in parallel.
_SEGMENT = 1 << 16

#: Largest share of occupied slots callers allow before doubling a table.  Up
#: to this load an insert costs at most a third more than into an empty
#: table (measured), and every table is half the size it would be at a load
#: of one half.
MAX_LOAD = 0.7

__all__ = ["MAX_LOAD", "empty_table", "hash_keys", "insert_keys", "rehash", "table_items"]


@numba.njit(inline="always")
def _hash_row(keys, r, n_w):
    """64-bit hash of the first ``n_w`` words of row ``r``."""
    h = np.uint64(0x243F6A8885A308D3)
    for w in range(n_w):
        h = mix64(h ^ (keys[r, w] + GAMMA * np.uint64(w + 1)))
    return h


@numba.njit(cache=True)
def hash_keys(keys):
    """64-bit hash of every row of ``keys``."""
    out = np.empty(keys.shape[0], dtype=np.uint64)
    for r in range(keys.shape[0]):
        out[r] = _hash_row(keys, r, keys.shape[1])
    return out


@numba.njit(inline="always")
def _same(table, slot, keys, r):
    for w in range(keys.shape[1]):
        if table[slot, w] != keys[r, w]:
            return False
    return True


@intrinsic
def _prefetch_row(typingctx, table, row):
    """Hint the processor to fetch ``table[row]`` into the cache for writing."""
    if not (isinstance(table, types.Array) and table.ndim == 2 and table.layout == "C"):
        return None

    def codegen(context, builder, signature, args):
        arr = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.gep(arr.data, [builder.mul(args[1], builder.extract_value(arr.shape, 1))])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0")
        # write access, keep in all cache levels, data cache
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(table, types.int64), codegen


@numba.njit(cache=True, nogil=True)
def insert_keys(table, keys, counts):
    """Add ``keys`` (with multiplicities ``counts``, or 1 each if it is empty).

    Returns
    -------
    new : int
        Number of keys that were not in the table before.
    """
    n_w = keys.shape[1]
    n = keys.shape[0]
    mask = np.uint64(table.shape[0] - 1)
    weighted = counts.shape[0] > 0
    hashes = hash_keys(keys)
    new = 0
    for r in range(n):
        if r + _PREFETCH_DISTANCE < n:
            _prefetch_row(table, np.int64(hashes[r + _PREFETCH_DISTANCE] & mask))
        c = np.uint64(counts[r]) if weighted else np.uint64(1)
        slot = hashes[r] & mask
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


@numba.njit(cache=True, parallel=True)
def table_items(table):
    """The occupied slots' keys (D, W) and counts (D,), in slot order.

    The slots are scanned in segments by all threads: one pass counts each
    segment's occupied slots, a second copies them to their places.
    """
    n_w = table.shape[1] - 1
    n_seg = (table.shape[0] + _SEGMENT - 1) // _SEGMENT
    used = np.zeros(n_seg + 1, dtype=np.int64)
    for g in numba.prange(n_seg):
        for s in range(g * _SEGMENT, min(table.shape[0], (g + 1) * _SEGMENT)):
            used[g + 1] += table[s, n_w] != 0
    for g in range(n_seg):
        used[g + 1] += used[g]
    keys = np.empty((used[n_seg], n_w), dtype=np.uint64)
    counts = np.empty(used[n_seg], dtype=np.int64)
    for g in numba.prange(n_seg):
        r = used[g]
        for s in range(g * _SEGMENT, min(table.shape[0], (g + 1) * _SEGMENT)):
            if table[s, n_w] != 0:
                for w in range(n_w):
                    keys[r, w] = table[s, w]
                counts[r] = np.int64(table[s, n_w])
                r += 1
    return keys, counts


@numba.njit(cache=True, nogil=True)
def rehash(table, capacity):
    """Copy a table into a new, empty one of ``capacity`` slots.

    Slots are moved in order, so the new table is written almost in order
    too, and the keys, all distinct, need no comparisons.
    """
    n_w = table.shape[1] - 1
    new_table = empty_table(capacity, n_w)
    mask = np.uint64(capacity - 1)
    for s in range(table.shape[0]):
        if table[s, n_w] != 0:
            slot = _hash_row(table, s, n_w) & mask
            while new_table[np.int64(slot), n_w] != 0:
                slot = (slot + np.uint64(1)) & mask
            for w in range(n_w + 1):
                new_table[np.int64(slot), w] = table[s, w]
    return new_table


@numba.njit(cache=True, nogil=True)
def empty_table(capacity, n_words):
    """A table of ``capacity`` empty slots for keys of ``n_words`` words.

    The zeros are written in address order rather than left to the
    operating system's lazily zeroed pages: first touching those in the
    random order of hashing costs a page fault per insert and made counting
    several times slower.
    """
    table = np.empty((capacity, n_words + 1), dtype=np.uint64)
    flat = table.reshape(-1)
    for i in range(flat.shape[0]):
        flat[i] = 0
    return table
