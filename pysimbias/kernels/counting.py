"""Numba kernels: exact counting of packed keys in an open-addressing hash table.

The table is one (capacity, W + 1) uint64 array: a slot's first W words hold
a key and its last word the key's count (0 marks an empty slot), so a probe
touches one cache line.  Capacity is a power of two; probing is linear.

The table is cut into :data:`PARTS` partitions of equal size.  The top bits
of a key's hash choose its partition, the low bits its home slot there, and
probing wraps around within the partition.  Partitions never share a slot,
so a batch of keys is inserted by all threads at once, each filling its own
partitions, and a table grows by rehashing every partition into its
counterpart of the new table, also in parallel.  Callers keep every
partition's load factor at most :data:`MAX_LOAD`: a partition that would
go beyond it stops, and the caller grows the table and lets it go on.  Where a key lands
depends only on its hash and the keys before it in its partition, so the
table is the same whatever the thread count.

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

from . import prange_only
from .bits import put_count_order_row
from .rng import GAMMA, mix64

# Keys ahead whose slots are prefetched; about the number of memory accesses
# a core keeps in flight.
_PREFETCH_DISTANCE = 16
# Slots per segment when a table's items are gathered in parallel.
_SEGMENT = 1 << 16
#: Partitions of every table: enough to share out among the threads evenly.
PARTS = 16
_PART_SHIFT = np.uint64(60)  # the hash's top 4 bits choose the partition
#: Fewest slots a table has (16 per partition).
MIN_CAPACITY = 16 * PARTS

#: Largest share of occupied slots callers allow before doubling a table.  Up
#: to this load an insert costs at most a third more than into an empty
#: table (measured), and every table is half the size it would be at a load
#: of one half.
MAX_LOAD = 0.7

__all__ = ["MAX_LOAD", "MIN_CAPACITY", "PARTS", "empty_table", "hash_keys", "group_keys", "insert_grouped",
           "rehash", "take_count_words", "table_items"]


@numba.njit(inline="always")
def _hash_row(keys, r, n_w):
    """64-bit hash of the first ``n_w`` words of row ``r``."""
    h = np.uint64(0x243F6A8885A308D3)
    for w in range(n_w):
        h = mix64(h ^ (keys[r, w] + GAMMA * np.uint64(w + 1)))
    return h


@numba.njit(cache=True, parallel=prange_only(), nogil=True)
def hash_keys(keys):
    """64-bit hash of every row of ``keys``, computed by all threads."""
    out = np.empty(keys.shape[0], dtype=np.uint64)
    for r in numba.prange(keys.shape[0]):
        out[r] = _hash_row(keys, r, keys.shape[1])
    return out


@numba.njit(cache=True, nogil=True)
def group_keys(keys, counts):
    """Hash a batch of keys and sort it by partition, in batch order within each.

    Returns
    -------
    keys, counts, hashes : ndarrays
        The batch's keys, counts (empty if ``counts`` is) and hashes, partition by partition.
    starts : ndarray of int64, shape (PARTS + 1,)
        Partition p's rows are ``starts[p]:starts[p + 1]``.
    """
    n, n_w = keys.shape
    hashes = hash_keys(keys)
    starts = np.zeros(PARTS + 1, dtype=np.int64)
    for r in range(n):
        starts[np.int64(hashes[r] >> _PART_SHIFT) + 1] += 1
    for p in range(PARTS):
        starts[p + 1] += starts[p]
    fill = starts[:PARTS].copy()
    grouped_keys = np.empty((n, n_w), dtype=np.uint64)
    grouped_counts = np.empty(counts.shape[0], dtype=np.int64)
    grouped_hashes = np.empty(n, dtype=np.uint64)
    for r in range(n):
        p = np.int64(hashes[r] >> _PART_SHIFT)
        i = fill[p]
        fill[p] += 1
        for w in range(n_w):
            grouped_keys[i, w] = keys[r, w]
        grouped_hashes[i] = hashes[r]
        if counts.shape[0]:
            grouped_counts[i] = counts[r]
    return grouped_keys, grouped_counts, grouped_hashes, starts


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


@numba.njit(cache=True, parallel=prange_only(), nogil=True)
def insert_grouped(table, keys, counts, hashes, starts, next_key, used, limit):
    """Add ``keys`` (with multiplicities ``counts``, or 1 each if it is empty), grouped by :func:`group_keys`.

    Partition p adds its rows from ``next_key[p]`` on,
    and stops at the first key that is new to it once it holds ``limit``
    keys (``limit`` must be below the slots of a partition).  ``next_key``
    and ``used`` (keys held by each partition) are updated in place, so the
    caller can grow the table and call again to go on.

    Returns
    -------
    done : bool
        Whether every key of the batch was added.
    """
    n_w = keys.shape[1]
    part_slots = table.shape[0] // PARTS
    mask = np.uint64(part_slots - 1)
    weighted = counts.shape[0] > 0
    for p in numba.prange(PARTS):
        base = p * part_slots
        end = starts[p + 1]
        i = next_key[p]
        held = used[p]
        full = False
        while i < end and not full:
            if i + _PREFETCH_DISTANCE < end:
                _prefetch_row(table, base + np.int64(hashes[i + _PREFETCH_DISTANCE] & mask))
            c = np.uint64(counts[i]) if weighted else np.uint64(1)
            slot = hashes[i] & mask
            while True:
                s = base + np.int64(slot)
                if table[s, n_w] == 0:
                    if held >= limit:
                        full = True
                        break
                    for w in range(n_w):
                        table[s, w] = keys[i, w]
                    table[s, n_w] = c
                    held += 1
                    break
                if _same(table, s, keys, i):
                    table[s, n_w] += c
                    break
                slot = (slot + np.uint64(1)) & mask
            if not full:
                i += 1
        next_key[p] = i
        used[p] = held
    for p in range(PARTS):
        if next_key[p] < starts[p + 1]:
            return False
    return True


@numba.njit(cache=True, parallel=prange_only())
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


@numba.njit(cache=True, parallel=prange_only())
def take_count_words(table, segments):
    """The occupied slots as rows of :func:`pysimbias.kernels.bits.count_order_words` (D, W + 1), in slot order, in place.

    A slot and a row have the same width, so the rows are written over the
    table itself: no new memory is touched.  The table is cut into
    ``segments`` parts (one per thread), each compacted to its own start by
    one thread (a row never lands after its slot); then the parts after the
    first are moved down into one run, in order.  The rows do not depend on
    ``segments``.  The table is used up: the result is a view of its first
    D rows.
    """
    n_w = table.shape[1] - 1
    n_seg = max(1, min(segments, table.shape[0]))
    size = (table.shape[0] + n_seg - 1) // n_seg
    used = np.zeros(n_seg, dtype=np.int64)
    for g in numba.prange(n_seg):
        r = g * size
        for s in range(g * size, min(table.shape[0], (g + 1) * size)):
            count = table[s, n_w]
            if count != 0:
                put_count_order_row(table, r, table, s, count)
                r += 1
        used[g] = r - g * size
    total = used[0]
    for g in range(1, n_seg):
        for i in range(used[g]):
            for w in range(n_w + 1):
                table[total + i, w] = table[g * size + i, w]
        total += used[g]
    return table[:total]


@numba.njit(cache=True, parallel=prange_only(), nogil=True)
def rehash(table, capacity):
    """Copy a table into a new, empty one of ``capacity`` slots.

    A key stays in its partition, so the partitions are moved at the same
    time.  Slots are moved in order, so the new partition is written almost
    in order too, and the keys, all distinct, need no comparisons.
    """
    n_w = table.shape[1] - 1
    new_table = empty_table(capacity, n_w)
    old_slots = table.shape[0] // PARTS
    new_slots = capacity // PARTS
    mask = np.uint64(new_slots - 1)
    for p in numba.prange(PARTS):
        base = p * new_slots
        for s in range(p * old_slots, (p + 1) * old_slots):
            if table[s, n_w] != 0:
                slot = _hash_row(table, s, n_w) & mask
                while new_table[base + np.int64(slot), n_w] != 0:
                    slot = (slot + np.uint64(1)) & mask
                for w in range(n_w + 1):
                    new_table[base + np.int64(slot), w] = table[s, w]
    return new_table


@numba.njit(cache=True, parallel=prange_only(), nogil=True)
def empty_table(capacity, n_words):
    """A table of ``capacity`` empty slots for keys of ``n_words`` words.

    The zeros are written in address order, partition by partition on all
    threads, rather than left to the operating system's lazily zeroed
    pages: first touching those in the random order of hashing costs a page
    fault per insert and made counting several times slower.
    """
    table = np.empty((capacity, n_words + 1), dtype=np.uint64)
    part_slots = capacity // PARTS
    for p in numba.prange(PARTS):
        for s in range(p * part_slots, capacity if p == PARTS - 1 else (p + 1) * part_slots):
            for w in range(n_words + 1):
                table[s, w] = 0
    return table
