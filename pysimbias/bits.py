"""Packed representation of Boolean functions (DESIGN.md section 2).

A function on m inputs is the m-bit string whose character i is f(input i).
In memory it is packed little-endian into ``W = ceil(m / 64)`` uint64 words:
bit i lives in word ``i // 64`` at bit position ``i % 64``.  Unused high bits
of the last word are always zero.
"""

import numba
import numpy as np

from .sorting_kernels import lexsort_rows

__all__ = [
    "n_words",
    "pack_bits",
    "unpack_bits",
    "keys_to_text",
    "text_to_keys",
    "text_sort_order",
    "text_order_words",
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


@numba.njit(cache=True)
def _unpack_rows(keys, m, out):
    for r in range(keys.shape[0]):
        for i in range(m):
            out[r, i] = (keys[r, i >> 6] >> np.uint64(i & 63)) & np.uint64(1)


def unpack_bits(keys, m):
    """Unpack (n, W) uint64 keys into an (n, m) uint8 matrix of 0/1."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    if keys.ndim == 1:
        return unpack_bits(keys[None, :], m)[0]
    out = np.empty((keys.shape[0], int(m)), dtype=np.uint8)
    _unpack_rows(keys, int(m), out)
    return out


def keys_to_text(keys, m):
    """Text form of packed functions: '0'/'1' strings, character i = f(input i).

    Returns
    -------
    texts : ndarray of bytes (dtype ``S{m}``), shape (n,)
    """
    bits = unpack_bits(keys, m)
    if bits.ndim == 1:
        bits = bits[None, :]
    chars = bits + np.uint8(ord("0"))
    return np.ascontiguousarray(chars).view(f"S{int(m)}").ravel()


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


def _reverse_bits64(words):
    """Reverse the bit order of every uint64 (bit 0 becomes bit 63)."""
    x = np.array(words, dtype=np.uint64, copy=True)
    for shift, mask in (
        (1, 0x5555555555555555),
        (2, 0x3333333333333333),
        (4, 0x0F0F0F0F0F0F0F0F),
        (8, 0x00FF00FF00FF00FF),
        (16, 0x0000FFFF0000FFFF),
        (32, 0x00000000FFFFFFFF),
    ):
        s, k = np.uint64(shift), np.uint64(mask)
        x = ((x >> s) & k) | ((x & k) << s)
    return x


def text_order_words(keys):
    """Words whose lexicographic row order (column 0 first) is the text order.

    Character i of the text form is bit i of the packed key, so comparing
    text forms character by character is the same as comparing the
    bit-reversed words in order.

    Returns
    -------
    words : ndarray of uint64, shape (n, W)
    """
    return _reverse_bits64(np.asarray(keys, dtype=np.uint64))


def text_sort_order(keys, counts=None):
    """Indices that sort functions by count (descending), then by text form.

    Comparing the text forms character by character is the same as comparing
    the bit-reversed words in order, so no strings are built.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    if counts is None:
        return lexsort_rows(text_order_words(keys))
    words = np.empty((keys.shape[0], keys.shape[1] + 1), dtype=np.uint64)
    words[:, 0] = ~np.asarray(counts, dtype=np.int64).astype(np.uint64)  # larger counts first
    words[:, 1:] = text_order_words(keys)
    return lexsort_rows(words)
