"""Numba kernels: sorting rows of uint64 words lexicographically.

Ordering millions of distinct functions canonically is a sort of multiword
rows.  NumPy offers it only as ``lexsort`` (one stable pass per word) or as
an argsort of byte strings, both single-threaded.  Here a parallel sample
sort does it.  Each row is summarised by its digit, the 64 bits that follow
the prefix all rows share; splitter digits taken from an evenly spaced
sample cut the rows into buckets of a few thousand; every row finds its
bucket by a branch-free search of the splitter tree and is sent there in
index order; and the buckets, each small enough for the cache, are sorted
at the same time by a radix sort that starts again after the prefix each
run of tied rows shares.  Ties between equal rows go to the smaller index,
so the result is the stable order, whatever the thread count.

:func:`row_order` gives the order: up to :data:`SORT_PARALLEL_ROWS` rows
by NumPy's ``lexsort``, which needs nothing compiled (the sort's kernels take
about 30 s of one core to compile; ``lexsort`` of 2^20 rows is 0.3 s slower
than they are), and above that by :func:`parallel_row_order`.  :func:`bucket_rows` moves the rows themselves
into the buckets, which spares gathering them afterwards, and
:func:`bucket_order` sorts one bucket, so a caller consumes the sorted rows
bucket by bucket while they are in the cache.
"""

import numba
import numpy as np

from . import prange_only

__all__ = ["SORT_PARALLEL_ROWS", "bucket_order", "bucket_rows", "parallel_row_order", "row_order",
           "sorts_in_parallel"]

# Rows per bucket that the splitters aim at; up to this many rows are sorted as one bucket on one thread.
_BUCKET_ROWS = 4096
#: Up to this many rows are ordered by NumPy (``lexsort``), beyond by the parallel sort.  On the
#: 2-core development machine ``lexsort`` of 2^20 rows of 3 words takes 0.48 s against the parallel
#: sort's 0.15 s, of 231,115 rows (the default run's table) 66 ms against 42 ms; compiling the
#: parallel sort takes about 30 s.  A run of at most this many samples never compiles it.
SORT_PARALLEL_ROWS = 1 << 20
# Sample rows per bucket from which the splitters are chosen.
_OVERSAMPLE = 16
# Runs of at most this many rows are sorted by insertion.
_RUN = 16
# Rows per block when rows are classified and scattered.
_BLOCK = 1 << 16
# Rows whose splitter-tree searches run in step.
_LANES = 8


@numba.njit(inline="always")
def _less(words, a, b, ids):
    """Whether row ``a`` sorts before row ``b``: words first, then ``ids``."""
    for w in range(words.shape[1]):
        if words[a, w] != words[b, w]:
            return words[a, w] < words[b, w]
    return ids[a] < ids[b]


@numba.njit(inline="always")
def _insertion_sort(words, ids, perm):
    """Sort ``perm`` (positions into ``words``) by :func:`_less`, for short runs."""
    for i in range(1, perm.shape[0]):
        p = perm[i]
        j = i
        while j > 0 and _less(words, p, perm[j - 1], ids):
            perm[j] = perm[j - 1]
            j -= 1
        perm[j] = p


@numba.njit(inline="always")
def _leading_zeros(x):
    """Number of leading zero bits of a nonzero uint64."""
    count = 0
    while not (x >> np.uint64(63)):
        x <<= np.uint64(1)
        count += 1
    return count


@numba.njit(inline="always")
def _window(spread):
    """The 64-bit digit window, from the OR of the rows' XORs with one row.

    The window is the 64 bits that follow the prefix all rows share.
    Returns ``(word, left, right, parts)`` for :func:`_digit`: the window
    starts at bit ``left`` (counted from the top) of ``word``; when
    ``parts`` is 2 it ends with the top ``left`` bits of the next word,
    shifted down by ``right`` = 64 - ``left``; ``parts`` is 1 when one word
    holds it (it starts a word, or the row ends) and 0 when all rows are
    equal.  Deciding this once per window keeps the per-row digit free of
    branches.
    """
    n_w = spread.shape[0]
    for w in range(n_w):
        if spread[w]:
            shift = _leading_zeros(spread[w])
            parts = 1 if shift == 0 or w + 1 == n_w else 2
            return w, np.uint64(shift), np.uint64(64 - shift), parts
    return 0, np.uint64(0), np.uint64(0), 0


@numba.njit(inline="always")
def _digit(words, r, window):
    """Row ``r``'s 64 bits in the digit ``window`` of :func:`_window` (0 when all rows are equal)."""
    word, left, right, parts = window
    if parts == 0:
        return np.uint64(0)
    d = words[r, word] << left
    if parts == 2:
        d |= words[r, word + 1] >> right
    return d


@numba.njit(cache=True)
def _splitter_tree(digits, levels):
    """Splitter digits in a complete binary search tree, stored breadth first.

    Node 1 is the root and node j's children are 2j and 2j + 1; the
    ``2**levels - 1`` splitters are evenly spaced quantiles of ``digits``
    (an evenly spaced sample of the rows' digits).
    """
    n_buckets = 1 << levels
    size = digits.shape[0]
    sample = digits.copy()
    if size:  # sorted by the buckets' own radix sort: np.sort would compile a quicksort (3 s) for this alone
        _radix_order(sample, np.empty(size, dtype=np.int64), np.empty(size, dtype=np.uint64),
                     np.empty(size, dtype=np.int64), np.empty((8, 256), dtype=np.int64))
    tree = np.zeros(n_buckets, dtype=np.uint64)
    for node in range(1, n_buckets):
        depth = 0
        while (node >> (depth + 1)) > 0:
            depth += 1
        # in-order rank of the node: its position among the splitters
        rank = ((node - (1 << depth)) * 2 + 1) << (levels - 1 - depth)
        tree[node] = sample[rank * sample.shape[0] // n_buckets]
    return tree


@numba.njit(cache=True)
def _classify(words, lo, hi, window, tree, levels, bucket):
    """``bucket[r]`` for rows lo..hi-1 by their digits, several searches in step so their memory accesses overlap."""
    n_buckets = 1 << levels
    nodes = np.empty(_LANES, dtype=np.int64)
    digits = np.empty(_LANES, dtype=np.uint64)
    for start in range(lo, hi, _LANES):
        lanes = min(_LANES, hi - start)
        for q in range(lanes):
            nodes[q] = 1
            digits[q] = _digit(words, start + q, window)
        for _ in range(levels):
            for q in range(lanes):
                nodes[q] = 2 * nodes[q] + np.int64(digits[q] >= tree[nodes[q]])
        for q in range(lanes):
            bucket[start + q] = nodes[q] - n_buckets


@numba.njit(inline="always")
def _radix_order(digits, order, spare_digits, spare_order, counts):
    """Stable sort of ``order`` by ``digits``, a byte at a time (bytes all rows share are skipped).

    ``digits[i]`` is the digit of the row at ``order[i]``; ``digits`` is
    reordered along with ``order``.  The spare arrays are scratch of the
    same length.
    """
    size = order.shape[0]
    counts[:, :] = 0
    for i in range(size):
        d = digits[i]
        for byte in range(8):
            counts[byte, (d >> np.uint64(8 * byte)) & np.uint64(255)] += 1
    src_d, src_o, dst_d, dst_o = digits, order, spare_digits, spare_order
    swapped = False
    for byte in range(8):
        if counts[byte, (digits[0] >> np.uint64(8 * byte)) & np.uint64(255)] == size:
            continue
        total = 0
        for v in range(256):
            c = counts[byte, v]
            counts[byte, v] = total
            total += c
        for i in range(size):
            d = src_d[i]
            v = (d >> np.uint64(8 * byte)) & np.uint64(255)
            dst_d[counts[byte, v]] = d
            dst_o[counts[byte, v]] = src_o[i]
            counts[byte, v] += 1
        src_d, src_o, dst_d, dst_o = dst_d, dst_o, src_d, src_o
        swapped = not swapped
    if swapped:
        digits[:] = spare_digits
        order[:] = spare_order


@numba.njit(cache=True)
def _sort_bucket(local, ids, order):
    """Order the rows of one bucket (``local``, rows in increasing ``ids``) into ``order``.

    A function of its own rather than inlined: NumPy expressions inside a
    parallel loop's body are turned into nested parallel loops.

    A run of rows is sorted by the 64 bits that follow the prefix all its
    rows share, with a radix sort (which keeps index order), and every part
    of it that ties on those bits becomes a run of its own; runs of at most
    :data:`_RUN` rows are sorted by insertion.  Skipping the shared prefix
    matters: rows of one bucket often agree on most of their leading bits.
    """
    size, n_w = local.shape
    for i in range(size):
        order[i] = i
    digits = np.empty(size, dtype=np.uint64)
    spare_digits = np.empty(size, dtype=np.uint64)
    spare_order = np.empty(size, dtype=np.int64)
    counts = np.empty((8, 256), dtype=np.int64)
    spread = np.empty(n_w, dtype=np.uint64)
    runs = np.empty((size // 2 + 1, 2), dtype=np.int64)
    runs[0, 0], runs[0, 1] = 0, size
    n_runs = 1 if size > 1 else 0
    while n_runs:
        n_runs -= 1
        lo, hi = runs[n_runs, 0], runs[n_runs, 1]
        if hi - lo <= _RUN:
            _insertion_sort(local, ids, order[lo:hi])
            continue
        first = order[lo]
        spread[:] = 0
        for w in range(n_w):
            ref = local[first, w]
            acc = np.uint64(0)
            for i in range(lo + 1, hi):
                acc |= local[order[i], w] ^ ref
            spread[w] = acc
            if acc:
                break
        window = _window(spread)
        if window[3] == 0:
            continue  # all rows equal: they are in index order
        for i in range(lo, hi):
            digits[i] = _digit(local, order[i], window)
        _radix_order(digits[lo:hi], order[lo:hi], spare_digits[lo:hi], spare_order[lo:hi], counts)
        if window[0] + 1 == n_w:
            continue  # the digits held every remaining bit
        start = lo
        for i in range(lo + 1, hi + 1):
            if i == hi or digits[i] != digits[start]:
                if i - start > 1:
                    runs[n_runs, 0], runs[n_runs, 1] = start, i
                    n_runs += 1
                start = i


@numba.njit(cache=True, parallel=prange_only())
def _partition(words, levels):
    """Bucket of every row and where each block's rows of each bucket go.

    Returns
    -------
    bucket : ndarray of int32, shape (n,)
    offsets : ndarray of int64, shape (blocks, 2**levels)
        First output position of block ``blk``'s rows of bucket ``b``; rows
        keep their index order within a bucket.
    starts : ndarray of int64, shape (2**levels + 1,)
        Where each bucket begins in the output.
    """
    n, n_w = words.shape
    n_buckets = 1 << levels
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    spreads = np.zeros((n_blocks, n_w), dtype=np.uint64)
    for blk in numba.prange(n_blocks):
        for w in range(n_w):
            ref = words[0, w]
            acc = np.uint64(0)
            for r in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
                acc |= words[r, w] ^ ref
            spreads[blk, w] = acc
    spread = np.zeros(n_w, dtype=np.uint64)
    for blk in range(n_blocks):
        for w in range(n_w):
            spread[w] |= spreads[blk, w]
    window = _window(spread)
    n_sample = min(n, n_buckets * _OVERSAMPLE)
    sample = np.empty(n_sample, dtype=np.uint64)
    for i in range(n_sample):
        sample[i] = _digit(words, i * (n // n_sample), window)
    tree = _splitter_tree(sample, levels)
    bucket = np.empty(n, dtype=np.int32)
    sizes = np.zeros((n_blocks, n_buckets), dtype=np.int64)
    for blk in numba.prange(n_blocks):
        lo, hi = blk * _BLOCK, min(n, (blk + 1) * _BLOCK)
        _classify(words, lo, hi, window, tree, levels, bucket)
        for r in range(lo, hi):
            sizes[blk, bucket[r]] += 1
    starts = np.empty(n_buckets + 1, dtype=np.int64)
    offsets = np.empty((n_blocks, n_buckets), dtype=np.int64)
    total = 0
    for b in range(n_buckets):
        starts[b] = total
        for blk in range(n_blocks):
            offsets[blk, b] = total
            total += sizes[blk, b]
    starts[n_buckets] = total
    return bucket, offsets, starts


@numba.njit(cache=True, parallel=prange_only())
def _bucket_order(words, levels):
    """:func:`row_order` by the parallel sample sort, into ``2**levels`` buckets."""
    n, n_w = words.shape
    bucket, offsets, starts = _partition(words, levels)
    perm = np.empty(n, dtype=np.int64)
    for blk in numba.prange(offsets.shape[0]):
        for r in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            b = bucket[r]
            perm[offsets[blk, b]] = r
            offsets[blk, b] += 1
    for b in numba.prange(starts.shape[0] - 1):
        lo, hi = starts[b], starts[b + 1]
        size = hi - lo
        local = np.empty((size, n_w), dtype=np.uint64)
        ids = perm[lo:hi].copy()
        for i in range(size):
            local[i] = words[ids[i]]
        order = np.empty(size, dtype=np.int64)
        _sort_bucket(local, ids, order)
        for i in range(size):
            perm[lo + i] = ids[order[i]]
    return perm


@numba.njit(cache=True, parallel=prange_only())
def bucket_rows(words):
    """The rows of ``words`` moved into the buckets of the sort.

    Every row of bucket b sorts before every row of bucket b + 1; within a
    bucket the rows keep their index order, and :func:`bucket_order` sorts
    them.  Moving the rows themselves spares gathering them from random
    places afterwards.

    Returns
    -------
    rows : ndarray of uint64, shape (n, K)
    starts : ndarray of int64
        Bucket b is ``rows[starts[b]:starts[b + 1]]``.
    """
    n, n_w = words.shape
    bucket, offsets, starts = _partition(words, _levels(n))
    rows = np.empty((n, n_w), dtype=np.uint64)
    for blk in numba.prange(offsets.shape[0]):
        for r in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            b = bucket[r]
            for w in range(n_w):
                rows[offsets[blk, b], w] = words[r, w]
            offsets[blk, b] += 1
    return rows, starts


@numba.njit(cache=True)
def bucket_order(rows):
    """Indices that sort one bucket's rows (in index order, as :func:`bucket_rows` leaves them), stably."""
    order = np.empty(rows.shape[0], dtype=np.int64)
    _sort_bucket(rows, np.arange(rows.shape[0]), order)
    return order


@numba.njit(cache=True)
def _levels(n):
    """Splitter-tree depth that gives buckets of about :data:`_BUCKET_ROWS` rows."""
    levels = 0
    while (_BUCKET_ROWS << levels) < n:
        levels += 1
    return levels


def sorts_in_parallel(rows):
    """Whether ``rows`` rows are ordered by the parallel sort (else by NumPy, with nothing compiled)."""
    return rows > SORT_PARALLEL_ROWS


def row_order(words):
    """Indices that sort the rows of ``words`` lexicographically (column 0 first), stably.

    Parameters
    ----------
    words : array_like of uint64, shape (n, K)

    Returns
    -------
    order : ndarray of int64, shape (n,)
        The same permutation as ``np.lexsort(words.T[::-1])``.
    """
    words = np.ascontiguousarray(words, dtype=np.uint64)
    if sorts_in_parallel(words.shape[0]):
        return parallel_row_order(words)
    if words.shape[1] == 0:  # lexsort needs at least one key
        return np.arange(words.shape[0])
    return np.lexsort(words.T[::-1])


def parallel_row_order(words):
    """:func:`row_order` by the parallel sample sort, whatever the number of rows.

    Parameters
    ----------
    words : ndarray of uint64, shape (n, K), C-contiguous

    Returns
    -------
    order : ndarray of int64, shape (n,)
    """
    if words.shape[0] <= _BUCKET_ROWS:
        return bucket_order(words)
    return _bucket_order(words, _levels(words.shape[0]))
