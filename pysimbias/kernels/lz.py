"""Numba kernels for bit counting and Lempel–Ziv complexities of packed functions.

Pure array-in / array-out.  Every kernel takes packed keys ``keys`` (uint64,
shape (N, W)) holding N functions on ``m`` inputs, laid out as DESIGN.md
section 2 fixes (bit i in word ``i // 64`` at position ``i % 64``), and
returns one int64 per row.  No strings are built: bits are read straight from
the words.

- :func:`count_ones` -- number of 1s.
- :func:`lz76` -- Lempel–Ziv (1976) phrase count in the Kaspar–Schuster
  formulation, equal to ``antropy.lziv_complexity(s, normalize=False)``;
  strings of up to 128 bits are parsed many at once, in lockstep.
- :func:`lz78` -- the distinct-phrase count of the ``lempel-ziv-complexity``
  package (an LZ78 parse whose unfinished last phrase is not counted).
"""

import numba
import numpy as np

from . import prange_only
from .bits import popcount64, reverse64

__all__ = ["count_ones", "lz76", "lz78"]

# Rows per parallel work item (scratch buffers are allocated once per item).
_BLOCK = 512

_ONE = np.uint64(1)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@numba.njit(cache=True, inline="always")
def _bit(words, i):
    """Bit i of a packed function, as uint64 0 or 1."""
    return (words[i >> 6] >> np.uint64(i & 63)) & _ONE


@numba.njit(cache=True)
def _reverse_into(row, m, out):
    """Write the packed reversal of an m-bit function (bit i <- bit m-1-i) into out."""
    n_w = row.shape[0]
    for w in range(n_w):
        out[w] = reverse64(row[n_w - 1 - w])
    shift = 64 * n_w - m  # reversed string = (all W words reversed) >> shift
    if shift == 0:
        return
    s = np.uint64(shift)
    back = np.uint64(64 - shift)
    for w in range(n_w - 1):
        out[w] = (out[w] >> s) | (out[w + 1] << back)
    out[n_w - 1] = out[n_w - 1] >> s


@numba.njit(cache=True, inline="always")
def _flip_mask(bit):
    """All ones if bit == 0, else zero: ``word ^ mask`` marks where bit sits.

    Computed as ``bit - 1`` (wrapping), without a branch: the bits of a
    string are as unpredictable as the string.
    """
    return bit - _ONE


@numba.njit(cache=True)
def _lz76_words(s, m, ends):
    """Kaspar–Schuster phrase count of one packed m-bit string (any length).

    Each phrase starting at l is the longest prefix of s[l:] that also starts
    at some p < l (overlap allowed), plus one symbol; a last phrase that runs
    into the end of the string counts as one.  The candidate matches are kept
    as a bit set of their *end* positions (scratch ``ends``): extending every
    match by one symbol is a one-bit left shift ANDed with the positions that
    hold that symbol, so the whole parse costs about m word steps.
    """
    n_w = s.shape[0]
    phrases = 1
    l = 1
    while l < m:
        # ends := {p < l : s[p] == s[l]}
        flip = _flip_mask(_bit(s, l))
        top = l >> 6
        for w in range(top):
            ends[w] = s[w] ^ flip
        ends[top] = (s[top] ^ flip) & ((_ONE << np.uint64(l & 63)) - _ONE)
        for w in range(top + 1, n_w):
            ends[w] = 0
        alive = np.uint64(0)
        for w in range(top + 1):
            alive |= ends[w]
        k = 0
        while alive != 0:
            k += 1
            if l + k >= m:  # the match runs to the end of the string
                break
            flip = _flip_mask(_bit(s, l + k))
            top = (l + k - 1) >> 6  # ends now lie in [k, l + k)
            carry = np.uint64(0)
            alive = np.uint64(0)
            for w in range(top + 1):
                e = ends[w]
                e_new = ((e << _ONE) | carry) & (s[w] ^ flip)
                carry = e >> np.uint64(63)
                ends[w] = e_new
                alive |= e_new
        phrases += 1
        l += k + 1
    return phrases


@numba.njit(cache=True)
def _lz76_lanes(s0, s1, m, phrases, match0, match1, extending):
    """:func:`_lz76_words` for many strings of m <= 128 bits at once, in lockstep.

    The parse is restated as m - 1 steps, one per symbol i = 1 .. m-1, the
    same for every string: a step either starts a phrase at i (the matches
    are the earlier positions holding s[i]) or extends the current one (the
    match ends shift by one and keep those holding s[i]); a step that leaves
    no match ends the phrase at i.  Every step is branch-free, so the loop
    over strings (lanes) vectorizes.  ``s0``/``s1`` hold each string's low
    and high word; the other arrays are per-lane scratch of the same length,
    and ``phrases`` receives the counts.
    """
    n = s0.shape[0]
    for b in range(n):
        phrases[b] = 1
        match0[b] = 0
        match1[b] = 0
        extending[b] = 0
    for i in range(1, m):
        high = i >= 64
        shift = np.uint64(i & 63)
        below = (_ONE << shift) - _ONE
        mask0 = _ALL if high else below
        mask1 = below if high else np.uint64(0)
        for b in range(n):
            a0 = s0[b]
            a1 = s1[b]
            flip = _flip_mask(((a1 if high else a0) >> shift) & _ONE)
            x0 = a0 ^ flip
            x1 = a1 ^ flip
            e0 = match0[b]
            e1 = match1[b]
            ext = extending[b]
            n0 = (((e0 << _ONE) & x0) & ext) | ((x0 & mask0) & ~ext)
            n1 = ((((e1 << _ONE) | (e0 >> np.uint64(63))) & x1) & ext) | ((x1 & mask1) & ~ext)
            alive = np.uint64((n0 | n1) != 0)
            phrases[b] += np.int64(_ONE - alive)
            extending[b] = np.uint64(0) - alive
            match0[b] = n0
            match1[b] = n1
    for b in range(n):
        phrases[b] += np.int64(extending[b] != 0)  # a last phrase that runs to the end


@numba.njit(cache=True, parallel=prange_only())
def count_ones(keys, m):
    """Number of 1s of each packed function.

    Parameters
    ----------
    keys : ndarray of uint64, shape (N, W)
        Packed functions; bits at positions >= m must be zero.
    m : int
        Number of inputs (bits per function).

    Returns
    -------
    ones : ndarray of int64, shape (N,)
    """
    n = keys.shape[0]
    out = np.empty(n, dtype=np.int64)
    for r in numba.prange(n):
        total = np.uint64(0)
        for w in range(keys.shape[1]):
            total += popcount64(keys[r, w])
        out[r] = np.int64(total)
    return out


@numba.njit(cache=True, parallel=prange_only())
def lz76(keys, m, reverse):
    """Lempel–Ziv (1976) phrase count, Kaspar–Schuster formulation.

    Equals ``antropy.lziv_complexity(s, normalize=False)`` where s is the
    '0'/'1' text form of the function (character i = bit i).

    Parameters
    ----------
    keys : ndarray of uint64, shape (N, W)
        Packed functions on m inputs, W = ceil(m / 64), m >= 1.
    m : int
        Number of inputs (bits per function).
    reverse : bool
        Parse the reversed string (character i = bit m-1-i) instead.

    Returns
    -------
    phrases : ndarray of int64, shape (N,)
    """
    n = keys.shape[0]
    n_w = keys.shape[1]
    out = np.empty(n, dtype=np.int64)
    for b in numba.prange((n + _BLOCK - 1) // _BLOCK):
        lo = b * _BLOCK
        hi = min(n, lo + _BLOCK)
        s = np.empty(n_w, dtype=np.uint64)
        if n_w <= 2:
            lanes = np.zeros((6, hi - lo), dtype=np.uint64)
            for r in range(lo, hi):
                if reverse:
                    _reverse_into(keys[r], m, s)
                else:
                    s[:] = keys[r]
                lanes[0, r - lo] = s[0]
                if n_w == 2:
                    lanes[1, r - lo] = s[1]
            _lz76_lanes(lanes[0], lanes[1], m, out[lo:hi], lanes[2], lanes[3], lanes[4])
        else:
            ends = np.empty(n_w, dtype=np.uint64)
            for r in range(lo, hi):
                if reverse:
                    _reverse_into(keys[r], m, s)
                else:
                    s[:] = keys[r]
                out[r] = _lz76_words(s, m, ends)
    return out


@numba.njit(inline="always")
def _lz78_step(child, word, node, nodes):
    """One symbol (bit 0 of ``word``) of an LZ78 trie walk, without a branch: the next (node, nodes).

    ``child`` (uint32, 2 (m + 1) slots, zeroed beforehand) holds the trie:
    node 0 is the root, the empty phrase, every other node one stored
    phrase; slot 2 node + b is node's child by symbol b, 0 if missing (the
    root is nobody's child).  A missing child becomes node ``nodes`` (a new
    phrase) and the walk restarts at the root; the slot is written either
    way.  Unsigned indices spare Numba's negative-index fix-ups.
    """
    slot = node + node + (word & _ONE)
    nxt = np.uint64(child[slot])
    seen = nxt != 0
    child[slot] = nxt if seen else nodes
    return (nxt if seen else np.uint64(0)), (nodes if seen else nodes + _ONE)


@numba.njit(cache=True)
def _lz78_rows(keys, lo, hi, m, child, out):
    """Distinct LZ78 phrases of rows ``lo .. hi-1`` into ``out``, four trie walks interleaved.

    The walks' dependent table loads overlap; each row's word is shifted
    down one bit per symbol.  ``child`` is scratch of shape (4, 2 (m + 1)).
    A row's count is its number of stored phrases (nodes - 1).
    """
    n_w = keys.shape[1]
    for r in range(lo, hi, 4):
        lanes = min(4, hi - r)
        child[:] = 0
        last = r + lanes - 1  # rows past hi repeat the last one, and are not stored
        r1 = min(r + 1, last)
        r2 = min(r + 2, last)
        r3 = min(r + 3, last)
        node0 = node1 = node2 = node3 = np.uint64(0)
        nodes0 = nodes1 = nodes2 = nodes3 = _ONE
        for w in range(n_w):
            x0 = keys[r, w]
            x1 = keys[r1, w]
            x2 = keys[r2, w]
            x3 = keys[r3, w]
            for _ in range(min(64, m - 64 * w)):
                node0, nodes0 = _lz78_step(child[0], x0, node0, nodes0)
                node1, nodes1 = _lz78_step(child[1], x1, node1, nodes1)
                node2, nodes2 = _lz78_step(child[2], x2, node2, nodes2)
                node3, nodes3 = _lz78_step(child[3], x3, node3, nodes3)
                x0 >>= _ONE
                x1 >>= _ONE
                x2 >>= _ONE
                x3 >>= _ONE
        counts = (nodes0, nodes1, nodes2, nodes3)
        for lane in range(lanes):
            out[r + lane] = np.int64(counts[lane]) - 1


@numba.njit(cache=True, parallel=prange_only())
def lz78(keys, m):
    """Distinct-phrase (LZ78) count, as ``lempel_ziv_complexity`` computes it.

    The string is cut into phrases, each the shortest prefix of the rest
    that has not been seen as a phrase before; the count is the number of
    phrases stored, so an unfinished last phrase (one already seen) does not
    count.

    Parameters
    ----------
    keys : ndarray of uint64, shape (N, W)
        Packed functions on m inputs, W = ceil(m / 64).
    m : int
        Number of inputs (bits per function).

    Returns
    -------
    phrases : ndarray of int64, shape (N,)
    """
    n = keys.shape[0]
    out = np.empty(n, dtype=np.int64)
    for b in numba.prange((n + _BLOCK - 1) // _BLOCK):
        child = np.empty((4, 2 * (m + 1)), dtype=np.uint32)
        _lz78_rows(keys, b * _BLOCK, min(n, (b + 1) * _BLOCK), m, child, out)
    return out
