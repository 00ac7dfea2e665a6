"""Numba kernels of the non-neural priors and the nulls: random functions as packed keys.

Pure array-in / array-out.  Each ``*_keys`` kernel returns the packed
functions (uint64, shape (count, W)) of samples ``start .. start+count-1`` of
the chunk with key ``(key0, key1)``.  Sample j draws only from its own stream
``stream_seed(key0, key1, j)`` (:mod:`pysimbias.kernels.rng`), so results never depend
on threads or chunking.

Random integers and uniforms come from the stream's raw 64-bit draws, which
:func:`~pysimbias.kernels.rng.fill_bits` returns in order (draw w is word w):

- an integer below b is ``mulhi(draw, b)``, the high word of the 128-bit
  product (Lemire's multiply-shift; its bias is below b / 2^64);
- a uniform in [0, 1) is ``(draw >> 11) / 2^53``;
- a fair bit is one bit of a draw.

Priors:

- :func:`gp_keys` -- sign of ``L @ z`` for m standard normals z
  (``fill_normal``, normal generator version
  :data:`~pysimbias.kernels.rng.GENERATOR_VERSION`) and a lower-triangular
  L: a Gaussian-process draw when
  ``L @ L.T`` (the Cholesky factorisation) is the covariance.
- :func:`voronoi_keys` -- K distinct random inputs as centres (draws 0..K-1,
  a partial Fisher–Yates shuffle), fair labels (draws K..), every input takes
  the label of its nearest centre (squared Euclidean distance); ties are
  broken at random, independently per input: of the nearest centres, input i
  takes centre t with the smallest ``stream_seed(sample seed, i, t)``.
- :func:`tree_keys` -- a complete axis-aligned tree of depth D: internal node
  k (heap order, root 1) splits on coordinate ``mulhi(draw 2(k-1), d)`` at a
  uniform threshold in that coordinate's [low, high] (draw 2k-1), an input
  going left iff its coordinate is <= the threshold; the 2^D leaves get fair
  labels (draws 2(2^D - 1)..).
- :func:`fixed_ones_keys` -- t drawn from cumulative counts (draw 0), then
  a uniformly random set of t ones (the smaller of the t ones or m - t zeros
  chosen by a partial Fisher–Yates shuffle, draws 1..).
- :func:`shuffled_keys` -- a reference function drawn from cumulative counts
  (draw 0), its inputs permuted by a full Fisher–Yates shuffle (position i,
  from m-1 down to 1, swapped with position ``mulhi(draw m-i, i + 1)``):
  output bit i is the reference's bit ``perm[i]``.
"""

import numba
import numpy as np

from . import prange_only
from .rng import fill_bits, fill_normal, stream_seed

__all__ = ["mulhi", "gp_keys", "voronoi_keys", "tree_keys", "fixed_ones_keys", "shuffled_keys"]

_ONE = np.uint64(1)
_LOW32 = np.uint64(0xFFFFFFFF)
_THIRTY_TWO = np.uint64(32)
# Samples per parallel work item (scratch buffers are allocated once per item).
_BLOCK = 64


@numba.njit(cache=True, inline="always")
def mulhi(a, b):
    """High 64 bits of the 128-bit product of two uint64 values."""
    a = np.uint64(a)
    b = np.uint64(b)
    a_lo = a & _LOW32
    a_hi = a >> _THIRTY_TWO
    b_lo = b & _LOW32
    b_hi = b >> _THIRTY_TWO
    lo_lo = a_lo * b_lo
    hi_lo = a_hi * b_lo
    cross = (lo_lo >> _THIRTY_TWO) + (hi_lo & _LOW32) + a_lo * b_hi
    return a_hi * b_hi + (hi_lo >> _THIRTY_TWO) + (cross >> _THIRTY_TWO)


@numba.njit(cache=True, inline="always")
def _unit(draw):
    """Uniform double in [0, 1) from a raw draw."""
    return np.float64(draw >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, inline="always")
def _set_bit(key, i):
    key[i >> 6] |= _ONE << np.uint64(i & 63)


@numba.njit(cache=True, inline="always")
def _clear(key):
    for w in range(key.shape[0]):
        key[w] = np.uint64(0)


@numba.njit(cache=True, inline="always")
def _pick(cumulative, draw):
    """Index drawn with probability proportional to the steps of ``cumulative``."""
    target = np.int64(mulhi(draw, np.uint64(cumulative[cumulative.shape[0] - 1])))
    return np.searchsorted(cumulative, target, side="right")


@numba.njit(cache=True, inline="always")
def _partial_shuffle(order, draws, first, count):
    """Fisher–Yates steps 0..count-1 on ``order`` (length m) with draws[first + t]."""
    m = order.shape[0]
    for i in range(m):
        order[i] = i
    for t in range(count):
        j = t + np.int64(mulhi(draws[first + t], np.uint64(m - t)))
        held = order[t]
        order[t] = order[j]
        order[j] = held


@numba.njit(cache=True, parallel=prange_only())
def gp_keys(key0, key1, start, count, chol):
    """Signs of Gaussian-process draws ``chol @ z``, packed (output 1 iff > 0).

    Parameters
    ----------
    chol : ndarray of float64, shape (m, m)
        Lower-triangular Cholesky factor of the covariance (only the lower
        triangle is read).
    """
    m = chol.shape[0]
    keys = np.empty((count, (m + 63) // 64), dtype=np.uint64)
    for blk in numba.prange((count + _BLOCK - 1) // _BLOCK):
        z = np.empty(m, dtype=np.float32)
        for s in range(blk * _BLOCK, min(count, (blk + 1) * _BLOCK)):
            fill_normal(stream_seed(key0, key1, start + s), z, np.float32(1.0))
            key = keys[s]
            _clear(key)
            for i in range(m):
                g = 0.0
                for k in range(i + 1):
                    g += chol[i, k] * np.float64(z[k])
                if g > 0.0:
                    _set_bit(key, i)
    return keys


@numba.njit(cache=True, parallel=prange_only())
def voronoi_keys(key0, key1, start, count, points, n_centres):
    """Nearest-centre labellings with ``n_centres`` random input centres."""
    m, d = points.shape
    n_draws = n_centres + (n_centres + 63) // 64
    keys = np.empty((count, (m + 63) // 64), dtype=np.uint64)
    for blk in numba.prange((count + _BLOCK - 1) // _BLOCK):
        draws = np.empty(n_draws, dtype=np.uint64)
        order = np.empty(m, dtype=np.int64)
        for s in range(blk * _BLOCK, min(count, (blk + 1) * _BLOCK)):
            seed = stream_seed(key0, key1, start + s)
            fill_bits(seed, draws, 64 * n_draws)
            _partial_shuffle(order, draws, 0, n_centres)
            key = keys[s]
            _clear(key)
            for i in range(m):
                best = 0
                best_dist = np.inf
                best_priority = np.uint64(0)
                have_priority = False
                for t in range(n_centres):
                    c = order[t]
                    dist = 0.0
                    for a in range(d):
                        diff = points[i, a] - points[c, a]
                        dist += diff * diff
                    if dist < best_dist:
                        best_dist = dist
                        best = t
                        have_priority = False
                    elif dist == best_dist:
                        if not have_priority:
                            best_priority = stream_seed(seed, i, best)
                            have_priority = True
                        priority = stream_seed(seed, i, t)
                        if priority < best_priority:
                            best = t
                            best_priority = priority
                if (draws[n_centres + (best >> 6)] >> np.uint64(best & 63)) & _ONE:
                    _set_bit(key, i)
    return keys


@numba.njit(cache=True, parallel=prange_only())
def tree_keys(key0, key1, start, count, points, lows, highs, depth):
    """Random complete axis-aligned decision trees of depth ``depth``, packed."""
    m, d = points.shape
    n_internal = (1 << depth) - 1
    n_leaves = 1 << depth
    n_draws = 2 * n_internal + (n_leaves + 63) // 64
    keys = np.empty((count, (m + 63) // 64), dtype=np.uint64)
    for blk in numba.prange((count + _BLOCK - 1) // _BLOCK):
        draws = np.empty(n_draws, dtype=np.uint64)
        feature = np.empty(n_internal + 1, dtype=np.int64)
        threshold = np.empty(n_internal + 1, dtype=np.float64)
        for s in range(blk * _BLOCK, min(count, (blk + 1) * _BLOCK)):
            fill_bits(stream_seed(key0, key1, start + s), draws, 64 * n_draws)
            for node in range(1, n_internal + 1):
                f = np.int64(mulhi(draws[2 * (node - 1)], np.uint64(d)))
                feature[node] = f
                threshold[node] = lows[f] + _unit(draws[2 * node - 1]) * (highs[f] - lows[f])
            key = keys[s]
            _clear(key)
            for i in range(m):
                node = 1
                for _ in range(depth):
                    node = 2 * node + (0 if points[i, feature[node]] <= threshold[node] else 1)
                leaf = node - n_leaves
                if (draws[2 * n_internal + (leaf >> 6)] >> np.uint64(leaf & 63)) & _ONE:
                    _set_bit(key, i)
    return keys


@numba.njit(cache=True, parallel=prange_only())
def fixed_ones_keys(key0, key1, start, count, m, cumulative):
    """Uniform functions with t ones, t drawn from ``cumulative`` (counts of t = 0..m, summed)."""
    n_draws = 1 + m // 2
    keys = np.empty((count, (m + 63) // 64), dtype=np.uint64)
    for blk in numba.prange((count + _BLOCK - 1) // _BLOCK):
        draws = np.empty(n_draws, dtype=np.uint64)
        order = np.empty(m, dtype=np.int64)
        for s in range(blk * _BLOCK, min(count, (blk + 1) * _BLOCK)):
            fill_bits(stream_seed(key0, key1, start + s), draws, 64 * n_draws)
            t = _pick(cumulative, draws[0])
            chosen = min(t, m - t)
            _partial_shuffle(order, draws, 1, chosen)
            key = keys[s]
            _clear(key)
            if chosen == t:
                for k in range(chosen):
                    _set_bit(key, order[k])
            else:
                for k in range(chosen, m):
                    _set_bit(key, order[k])
    return keys


@numba.njit(cache=True, parallel=prange_only())
def shuffled_keys(key0, key1, start, count, reference, cumulative, m):
    """Reference functions drawn by ``cumulative`` counts, inputs freshly permuted."""
    keys = np.empty((count, reference.shape[1]), dtype=np.uint64)
    for blk in numba.prange((count + _BLOCK - 1) // _BLOCK):
        draws = np.empty(m, dtype=np.uint64)
        perm = np.empty(m, dtype=np.int64)
        for s in range(blk * _BLOCK, min(count, (blk + 1) * _BLOCK)):
            fill_bits(stream_seed(key0, key1, start + s), draws, 64 * m)
            row = reference[_pick(cumulative, draws[0])]
            for i in range(m):
                perm[i] = i
            for i in range(m - 1, 0, -1):
                j = np.int64(mulhi(draws[m - i], np.uint64(i + 1)))
                held = perm[i]
                perm[i] = perm[j]
                perm[j] = held
            key = keys[s]
            _clear(key)
            for i in range(m):
                p = perm[i]
                if (row[p >> 6] >> np.uint64(p & 63)) & _ONE:
                    _set_bit(key, i)
    return keys
