"""Packed representation of Boolean functions (DESIGN.md section 2).

A function on m inputs is the m-bit string whose character i is f(input i).
In memory it is packed little-endian into ``W = ceil(m / 64)`` uint64 words:
bit i lives in word ``i // 64`` at bit position ``i % 64``.  Unused high bits
of the last word are always zero.
"""

import numba
import numpy as np

from . import prange_only
from .sort import bucket_order, bucket_rows, row_order, sorts_in_parallel

__all__ = [
    "n_words",
    "pack_bits",
    "unpack_bits",
    "keys_to_text",
    "text_to_keys",
    "text_sort_order",
    "order_by_count",
    "text_order_words",
    "count_order_words",
    "take_rows",
    "popcount64",
]


def n_words(m):
    """Number of uint64 words that hold an m-bit function."""
    return (int(m) + 63) // 64


@numba.njit(cache=True)
def _pack_rows(bits, out):
    n, m = bits.shape
    for r in range(n):
        for i in range(m):
            if bits[r, i]:
                out[r, i >> 6] |= np.uint64(1) << np.uint64(i & 63)


def pack_bits(bits):
    """Pack a Boolean (n, m) matrix into (n, W) uint64 keys.

    Parameters
    ----------
    bits : array_like of bool, shape (n, m) or (m,)
        Row r, column i is f_r(input i).

    Returns
    -------
    keys : ndarray of uint64, shape (n, W)
    """
    bits = np.asarray(bits, dtype=np.bool_)
    if bits.ndim == 1:
        return pack_bits(bits[None, :])[0]
    out = np.zeros((bits.shape[0], n_words(bits.shape[1])), dtype=np.uint64)
    _pack_rows(bits, out)
    return out


def _byte_table(zero):
    """Entry v: the 8 bytes ``zero + bit t of v`` for t = 0..7, as one little-endian uint64."""
    v = np.arange(256, dtype=np.uint64)[:, None]
    t = np.arange(8, dtype=np.uint64)[None, :]
    return (((v >> t) & np.uint64(1)) + np.uint64(zero)) << (np.uint64(8) * t)


#: One byte of a key spread over 8 output bytes: 0/1 values, and '0'/'1' characters.
_BIT_BYTES = {0: _byte_table(0).sum(axis=1), ord("0"): _byte_table(ord("0")).sum(axis=1)}


@numba.njit(cache=True)
def _unpack_rows(keys, table, out):
    """``out[r, j]`` = the 8 output bytes of byte j of ``keys[r]`` (``table[byte]``): one lookup per 8 bits."""
    for r in range(keys.shape[0]):
        for j in range(out.shape[1]):
            out[r, j] = table[(keys[r, j >> 3] >> np.uint64((j & 7) << 3)) & np.uint64(255)]


def _unpacked(keys, m, zero):
    """(n, m) uint8 matrix of ``zero + bit``; rows padded to whole bytes are filled, then cut to m."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    if keys.ndim == 1:
        keys = keys[None, :]
    m = int(m)
    out = np.empty((keys.shape[0], -(-m // 8) * 8), dtype=np.uint8)
    _unpack_rows(keys, _BIT_BYTES[zero], out.view(np.uint64))
    return out if out.shape[1] == m else np.ascontiguousarray(out[:, :m])


def unpack_bits(keys, m):
    """Unpack (n, W) uint64 keys into an (n, m) uint8 matrix of 0/1 (a 1-d key gives one row, 1-d)."""
    out = _unpacked(keys, m, 0)
    return out[0] if np.ndim(keys) == 1 else out


def keys_to_text(keys, m):
    """Text form of packed functions: '0'/'1' strings, character i = f(input i).

    Returns
    -------
    texts : ndarray of bytes (dtype ``S{m}``), shape (n,)
    """
    return _unpacked(keys, m, ord("0")).view(f"S{int(m)}").ravel()


def text_to_keys(texts):
    """Pack '0'/'1' strings (str or bytes, all of one length m) into keys.

    Returns
    -------
    keys : ndarray of uint64, shape (n, W)
    m : int
    """
    rows = [t.encode("ascii") if isinstance(t, str) else bytes(t) for t in texts]
    if not rows:
        raise ValueError("no functions given")
    m = len(rows[0])
    if m == 0 or any(len(r) != m for r in rows):
        raise ValueError("function strings must be non-empty and all of one length")
    chars = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), m)
    if not np.all((chars == ord("0")) | (chars == ord("1"))):
        raise ValueError("function strings may contain only '0' and '1'")
    return pack_bits(chars == ord("1")), m


@numba.njit(inline="always")
def _swap(x, shift, mask):
    """Swap the bit groups selected by mask with those shift positions above."""
    s = np.uint64(shift)
    k = np.uint64(mask)
    return ((x >> s) & k) | ((x & k) << s)


@numba.njit(inline="always")
def reverse64(x):
    """Reverse the bit order of one uint64 (bit 0 becomes bit 63)."""
    x = _swap(x, 1, 0x5555555555555555)
    x = _swap(x, 2, 0x3333333333333333)
    x = _swap(x, 4, 0x0F0F0F0F0F0F0F0F)
    x = _swap(x, 8, 0x00FF00FF00FF00FF)
    x = _swap(x, 16, 0x0000FFFF0000FFFF)
    return _swap(x, 32, 0x00000000FFFFFFFF)


@numba.njit(cache=True, inline="always")
def popcount64(x):
    """Number of set bits of one uint64 (SWAR; vectorizes)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@numba.njit(inline="always")
def put_count_order_row(out, r, keys, row, count):
    """Write row ``r`` of :func:`count_order_words`: ``count``'s complement, then ``keys[row]``'s first W words.

    Words are written from the last, each from the key word before it, so
    ``out`` may be ``keys`` itself with ``r <= row``.
    """
    for w in range(out.shape[1] - 2, -1, -1):
        out[r, 1 + w] = reverse64(keys[row, w])
    out[r, 0] = ~np.uint64(count)


@numba.njit(cache=True, parallel=prange_only())
def _order_words(keys, counts, with_counts):
    """Bit-reversed words of every key, after the count's complement when ``with_counts``."""
    first = 1 if with_counts else 0
    out = np.empty((keys.shape[0], keys.shape[1] + first), dtype=np.uint64)
    for r in numba.prange(keys.shape[0]):
        if with_counts:
            put_count_order_row(out, r, keys, r, counts[r])
        else:
            for w in range(keys.shape[1]):
                out[r, w] = reverse64(keys[r, w])
    return out


@numba.njit(cache=True, parallel=prange_only())
def _sorted_count_items(words):
    """Keys and counts of the rows of :func:`count_order_words`, in the rows' lexicographic order.

    The rows go through the buckets of the parallel sort, and each bucket,
    once sorted, is turned back into keys and counts while it is in the
    cache: no array of sorted rows is made.  The keys and counts are
    written over ``words`` (a C-contiguous array, used up), whose memory
    the run has already touched: a 10^8-sample run's 39 million rows would
    otherwise fault in another 0.9 GB.
    """
    rows, starts = bucket_rows(words)
    # words is not read again: its memory, already touched, holds the keys and then the counts
    n, n_w = words.shape[0], words.shape[1] - 1
    flat = words.reshape(n * (n_w + 1))
    keys = flat[:n * n_w].reshape((n, n_w))
    counts = flat[n * n_w:].view(np.int64)
    for b in numba.prange(starts.shape[0] - 1):
        lo = starts[b]
        bucket = rows[lo:starts[b + 1]]
        order = bucket_order(bucket)
        for i in range(order.shape[0]):
            r = order[i]
            counts[lo + i] = np.int64(~bucket[r, 0])
            for w in range(keys.shape[1]):
                keys[lo + i, w] = reverse64(bucket[r, 1 + w])
    return keys, counts


@numba.njit(cache=True, parallel=prange_only())
def take_rows(keys, order):
    """``keys[order]`` for a 2-d key array, gathered by all threads.

    Gathering millions of rows in a new order is one random memory access per
    row; NumPy's take does them one after the other, this several at a time.
    """
    out = np.empty((order.shape[0], keys.shape[1]), dtype=keys.dtype)
    for i in numba.prange(order.shape[0]):
        row = order[i]
        for w in range(keys.shape[1]):
            out[i, w] = keys[row, w]
    return out


def text_order_words(keys):
    """Words whose lexicographic row order (column 0 first) is the text order.

    Character i of the text form is bit i of the packed key, so comparing
    text forms character by character is the same as comparing the
    bit-reversed words in order.

    Returns
    -------
    words : ndarray of uint64, shape (n, W)
    """
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    return _order_words(keys.reshape(-1, keys.shape[-1]), np.zeros(0, dtype=np.int64), False).reshape(keys.shape)


def count_order_words(keys, counts):
    """Words whose lexicographic row order is the count order: count descending, then text.

    Returns
    -------
    words : ndarray of uint64, shape (n, W + 1)
        Column 0 is the count's complement, the others :func:`text_order_words`.
    """
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    return _order_words(keys, np.ascontiguousarray(counts, dtype=np.int64), True)


def text_sort_order(keys, counts=None):
    """Indices that sort functions by count (descending, when given), then by text form.

    Comparing the text forms character by character is the same as comparing
    the bit-reversed words in order, so no strings are built; the rows are
    ordered by :func:`pysimbias.kernels.sort.row_order`.
    """
    if counts is None:
        return row_order(text_order_words(keys))
    return row_order(count_order_words(keys, counts))


def order_count_words(words):
    """Functions and their counts in count order, from rows of :func:`count_order_words` in any order.

    Up to :data:`~pysimbias.kernels.sort.SORT_PARALLEL_ROWS` rows are ordered
    by NumPy and gathered; more go through the buckets of the parallel sort,
    whose results are written over ``words``: pass rows that are not needed
    again (every caller passes rows made for the call).

    Returns
    -------
    keys : ndarray of uint64, shape (n, W)
    counts : ndarray of int64, shape (n,)
    """
    words = np.ascontiguousarray(words, dtype=np.uint64)
    if sorts_in_parallel(words.shape[0]):
        return _sorted_count_items(words)
    order = row_order(words)
    return text_order_words(words[order, 1:]), (~words[order, 0]).astype(np.int64)


def order_by_count(keys, counts):
    """Functions and their counts in count order (count descending, then text), as new arrays.

    The rows that :func:`text_sort_order` orders, but found by sorting the
    order words themselves and turning them back into keys and counts, which
    is faster than sorting indices and then gathering the rows.

    Parameters
    ----------
    keys : ndarray of uint64, shape (n, W)
    counts : ndarray of int64, shape (n,)

    Returns
    -------
    keys : ndarray of uint64, shape (n, W)
    counts : ndarray of int64, shape (n,)
    """
    return order_count_words(count_order_words(keys, counts))
