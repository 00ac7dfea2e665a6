"""Numba kernel: the order that sorts rows of uint64 words lexicographically.

Ordering millions of distinct functions canonically is a sort of multiword
rows.  NumPy offers it only as ``lexsort`` (one stable pass per word) or as
an argsort of byte strings, both single-threaded.  :func:`row_order` is a
parallel sample sort: splitter rows taken from an evenly spaced sample cut
the rows into buckets of a few thousand, every row finds its bucket by a
branch-free search of the splitter tree and is sent there in index order,
and the buckets, each small enough for the cache, are sorted at the same
time: by a radix sort of the 64 bits that follow the prefix all rows of the
bucket share, then a merge sort of the rows that tie on them.  Ties between
equal rows go to the smaller index, so the result is the stable order,
whatever the thread count.
"""

import numba
import numpy as np

__all__ = ["SORT_PARALLEL_ROWS", "row_order"]

# Rows per bucket that the splitters aim at.
_BUCKET_ROWS = 4096
#: Up to this many rows are merge sorted on one thread, without buckets.
SORT_PARALLEL_ROWS = _BUCKET_ROWS
# Sample rows per bucket from which the splitters are chosen.
_OVERSAMPLE = 16
# Runs shorter than this are sorted by insertion before merging.
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
def _at_or_after(words, r, r_id, tree, tree_ids, node):
    """1 if row ``r`` (with id ``r_id``) does not sort before splitter ``node``, else 0 (branch-free)."""
    before = False
    equal = True
    for w in range(words.shape[1]):
        a = words[r, w]
        b = tree[node, w]
        before = before | (equal & (a < b))
        equal = equal & (a == b)
    before = before | (equal & (r_id < tree_ids[node]))
    return np.int64(1) - np.int64(before)


@numba.njit(cache=True)
def _merge_sort(words, ids, perm, tmp):
    """Sort ``perm`` (positions into ``words``) by :func:`_less`; ``tmp`` is scratch of the same size."""
    n = perm.shape[0]
    for lo in range(0, n, _RUN):
        hi = min(n, lo + _RUN)
        for i in range(lo + 1, hi):
            p = perm[i]
            j = i
            while j > lo and _less(words, p, perm[j - 1], ids):
                perm[j] = perm[j - 1]
                j -= 1
            perm[j] = p
    src, dst = perm, tmp
    in_tmp = False
    width = _RUN
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(n, lo + width)
            hi = min(n, lo + 2 * width)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if _less(words, src[j], src[i], ids):
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        in_tmp = not in_tmp
        width *= 2
    if in_tmp:
        perm[:] = tmp


@numba.njit(cache=True)
def _small_order(words):
    """:func:`row_order` by one merge sort."""
    n = words.shape[0]
    ids = np.arange(n)
    perm = np.arange(n)
    _merge_sort(words, ids, perm, np.empty(n, dtype=np.int64))
    return perm


@numba.njit(cache=True)
def _splitter_tree(words, levels):
    """Splitters (rows and their indices) in a complete binary search tree, stored breadth first.

    Node 1 is the root and node j's children are 2j and 2j + 1; the
    ``2**levels - 1`` splitters are evenly spaced quantiles of an evenly
    spaced sample of the rows.
    """
    n, n_w = words.shape
    n_buckets = 1 << levels
    n_sample = min(n, n_buckets * _OVERSAMPLE)
    sample_ids = (np.arange(n_sample) * (n // n_sample)).astype(np.int64)
    sample = np.empty((n_sample, n_w), dtype=np.uint64)
    for i in range(n_sample):
        sample[i] = words[sample_ids[i]]
    order = np.arange(n_sample)
    _merge_sort(sample, sample_ids, order, np.empty(n_sample, dtype=np.int64))
    tree = np.zeros((n_buckets, n_w), dtype=np.uint64)
    tree_ids = np.zeros(n_buckets, dtype=np.int64)
    for node in range(1, n_buckets):
        depth = 0
        while (node >> (depth + 1)) > 0:
            depth += 1
        # in-order rank of the node: its position among the splitters
        rank = ((node - (1 << depth)) * 2 + 1) << (levels - 1 - depth)
        pick = order[rank * n_sample // n_buckets]
        tree[node] = sample[pick]
        tree_ids[node] = sample_ids[pick]
    return tree, tree_ids


@numba.njit(cache=True)
def _classify(words, lo, hi, tree, tree_ids, levels, bucket):
    """``bucket[r]`` for rows lo..hi-1, several searches in step so their memory accesses overlap."""
    n_buckets = 1 << levels
    nodes = np.empty(_LANES, dtype=np.int64)
    for start in range(lo, hi, _LANES):
        lanes = min(_LANES, hi - start)
        for q in range(lanes):
            nodes[q] = 1
        for _ in range(levels):
            for q in range(lanes):
                r = start + q
                nodes[q] = 2 * nodes[q] + _at_or_after(words, r, r, tree, tree_ids, nodes[q])
        for q in range(lanes):
            bucket[start + q] = nodes[q] - n_buckets


@numba.njit(inline="always")
def _leading_zeros(x):
    """Number of leading zero bits of a nonzero uint64."""
    count = 0
    while not (x >> np.uint64(63)):
        x <<= np.uint64(1)
        count += 1
    return count


@numba.njit(inline="always")
def _radix_order(digits, order, tmp, counts):
    """Stable sort of ``order`` by ``digits[order]``, a byte at a time (bytes all rows share are skipped)."""
    size = order.shape[0]
    counts[:, :] = 0
    for i in range(size):
        d = digits[i]
        for byte in range(8):
            counts[byte, (d >> np.uint64(8 * byte)) & np.uint64(255)] += 1
    src, dst = order, tmp
    in_tmp = False
    for byte in range(8):
        first = (digits[0] >> np.uint64(8 * byte)) & np.uint64(255)
        if counts[byte, first] == size:
            continue
        total = 0
        for v in range(256):
            c = counts[byte, v]
            counts[byte, v] = total
            total += c
        for i in range(size):
            p = src[i]
            v = (digits[p] >> np.uint64(8 * byte)) & np.uint64(255)
            dst[counts[byte, v]] = p
            counts[byte, v] += 1
        src, dst = dst, src
        in_tmp = not in_tmp
    if in_tmp:
        order[:] = tmp


@numba.njit(cache=True)
def _sort_bucket(local, ids, order, tmp, counts):
    """Order the rows of one bucket (``local``, rows in increasing ``ids``).

    A function of its own rather than inlined: NumPy expressions inside a
    parallel loop's body are turned into nested parallel loops.

    The rows are sorted by the 64 bits that follow the prefix they all share,
    with a radix sort, and rows that tie on those bits by a merge sort on
    whole rows.
    """
    size, n_w = local.shape
    for i in range(size):
        order[i] = i
    if size < 2:
        return
    word = n_w
    spread = np.uint64(0)
    for w in range(n_w):
        spread = np.uint64(0)
        for i in range(1, size):
            spread |= local[i, w] ^ local[0, w]
        if spread:
            word = w
            break
    if word == n_w:
        return  # all rows equal: index order
    shift = _leading_zeros(spread)
    digits = np.empty(size, dtype=np.uint64)
    for i in range(size):
        d = local[i, word] << np.uint64(shift)
        if shift and word + 1 < n_w:
            d |= local[i, word + 1] >> np.uint64(64 - shift)
        digits[i] = d
    _radix_order(digits, order, tmp, counts)
    if word + 1 == n_w:
        return  # the digits held every remaining bit
    lo = 0
    while lo < size:
        hi = lo + 1
        while hi < size and digits[order[hi]] == digits[order[lo]]:
            hi += 1
        if hi - lo > 1:
            _merge_sort(local, ids, order[lo:hi], tmp[lo:hi])
        lo = hi


@numba.njit(cache=True, parallel=True)
def _bucket_order(words, levels):
    """:func:`row_order` by the parallel sample sort, into ``2**levels`` buckets."""
    n, n_w = words.shape
    n_buckets = 1 << levels
    tree, tree_ids = _splitter_tree(words, levels)
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    bucket = np.empty(n, dtype=np.int32)
    sizes = np.zeros((n_blocks, n_buckets), dtype=np.int64)
    for blk in numba.prange(n_blocks):
        lo, hi = blk * _BLOCK, min(n, (blk + 1) * _BLOCK)
        _classify(words, lo, hi, tree, tree_ids, levels, bucket)
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
    perm = np.empty(n, dtype=np.int64)
    for blk in numba.prange(n_blocks):
        for r in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            b = bucket[r]
            perm[offsets[blk, b]] = r
            offsets[blk, b] += 1
    for b in numba.prange(n_buckets):
        lo, hi = starts[b], starts[b + 1]
        size = hi - lo
        local = np.empty((size, n_w), dtype=np.uint64)
        ids = perm[lo:hi].copy()
        for i in range(size):
            local[i] = words[ids[i]]
        order = np.empty(size, dtype=np.int64)
        _sort_bucket(local, ids, order, np.empty(size, dtype=np.int64), np.empty((8, 256), dtype=np.int64))
        for i in range(size):
            perm[lo + i] = ids[order[i]]
    return perm


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
    n = words.shape[0]
    if n <= SORT_PARALLEL_ROWS:
        return _small_order(words)
    levels = 0
    while (_BUCKET_ROWS << levels) < n:
        levels += 1
    return _bucket_order(words, levels)
