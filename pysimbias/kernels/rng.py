"""Reproducible random numbers for the Numba kernels.

Seeding (DESIGN.md section 2): a run has one integer seed; chunk ``k`` takes
its 128-bit key from ``numpy.random.SeedSequence(seed, spawn_key=(k,))``,
which is exactly ``SeedSequence(seed).spawn(k + 1)[k]``.  Sample ``j`` of a
chunk gets a 64-bit stream seed derived from the chunk key and ``j`` alone,
so a sample's parameters never depend on which thread draws them.

Within a sample the generator is counter-based: draw ``c`` of stream ``s`` is
SplitMix64's output ``mix(s + (c + 1) * GAMMA)`` (SplitMix64 passes BigCrush).
Normals come from a 1024-layer ziggurat (Marsaglia & Tsang 2000), two per
64-bit draw, whose layer index and magnitude use disjoint bits; the rare rejected
draws are resolved from a second, sequential stream of the same sample.
Every draw is a pure function of (stream seed, index), so the first pass
vectorizes and the result is independent of thread count and scheduling.
"""

import math

import numba
import numpy as np

from . import prange_only

__all__ = ["chunk_key", "stream_seed", "fill_normal", "fill_normal_columns", "fill_normal_work", "normal_work_size", "fill_uniform", "fill_bits", "sample_random_keys"]

GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SLOW_SALT = np.uint64(0xD1B54A32D192ED03)
_SAMPLE_SALT = np.uint64(0x8CB92BA72F3D8DD7)


@numba.njit(inline="always")
def mix64(z):
    """SplitMix64 finalizer: a bijective 64-bit hash."""
    z = np.uint64(z)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def chunk_key(seed, chunk):
    """The two uint64 words that seed chunk ``chunk`` of a run with ``seed``."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(int(chunk),))
    return ss.generate_state(2, dtype=np.uint64)


@numba.njit(inline="always")
def stream_seed(key0, key1, j):
    """Stream seed of sample ``j`` of the chunk with key ``(key0, key1)``."""
    return mix64(np.uint64(key0) ^ mix64(np.uint64(key1) + np.uint64(j) * GAMMA + _SAMPLE_SALT))


def _normal_tail_area(r):
    """Area under exp(-x^2 / 2) beyond ``r``."""
    return math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))


def _ziggurat_edge(layers):
    """Base strip edge r and layer area v of a ``layers``-layer normal ziggurat.

    Bisection on r: the layers, stacked up from the base strip (area v =
    r f(r) + tail(r)), must close exactly at the density's peak f(0) = 1.
    Gives Marsaglia & Tsang's r = 3.6541528853610088 for 256 layers.
    """
    def too_small(r):  # the stack reaches the peak before its last layer
        v = r * math.exp(-0.5 * r * r) + _normal_tail_area(r)
        x = r
        for _ in range(layers - 2):
            y = v / x + math.exp(-0.5 * x * x)
            if y >= 1.0:
                return True
            x = math.sqrt(-2.0 * math.log(y))
        return v / x + math.exp(-0.5 * x * x) >= 1.0

    lo, hi = 2.0, 6.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if too_small(mid) else (lo, mid)
    r = 0.5 * (lo + hi)
    return r, r * math.exp(-0.5 * r * r) + _normal_tail_area(r)


def _ziggurat_tables(bits, layers):
    """Marsaglia & Tsang's ziggurat tables for ``bits``-bit magnitudes.

    Returns the acceptance bounds ``kn``, the scales ``wn`` (magnitude to x)
    and the density at each layer edge ``fn``.
    """
    dn, vn = _ziggurat_edge(layers)
    m1 = float(1 << bits)
    tn = dn
    kn = np.zeros(layers, dtype=np.int64)
    wn = np.zeros(layers, dtype=np.float64)
    fn = np.zeros(layers, dtype=np.float64)
    q = vn / math.exp(-0.5 * dn * dn)
    kn[0] = int((dn / q) * m1)
    kn[1] = 0
    wn[0] = q / m1
    wn[layers - 1] = dn / m1
    fn[0] = 1.0
    fn[layers - 1] = math.exp(-0.5 * dn * dn)
    for i in range(layers - 2, 0, -1):
        dn = math.sqrt(-2.0 * math.log(vn / dn + math.exp(-0.5 * dn * dn)))
        kn[i + 1] = int((dn / tn) * m1)
        tn = dn
        fn[i] = math.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn


# One 64-bit draw gives two normals; each 32-bit half holds a 10-bit layer
# index (low bits) and a signed 22-bit magnitude (high bits), so the index and
# the magnitude never share bits.  With 1024 layers about 0.4% of the values
# leave the fast path.
_LAYER_BITS = 10
_LAYERS = 1 << _LAYER_BITS
_KN, _WN, _FN = _ziggurat_tables(31 - _LAYER_BITS, _LAYERS)
_KN32 = _KN.astype(np.int32)
_WN32 = _WN.astype(np.float32)
_ZIG_R = _ziggurat_edge(_LAYERS)[0]


@numba.njit(inline="always")
def _uniform01(u):
    """Uniform double in (0, 1] from a 64-bit draw."""
    return ((u >> np.uint64(11)) + np.uint64(1)) * (1.0 / 9007199254740992.0)


@numba.njit(inline="always")
def _split(half):
    """Ziggurat fields of a 32-bit half-draw: signed magnitude and layer index."""
    h = np.int32(half)
    return h >> np.int32(_LAYER_BITS), h & np.int32(_LAYERS - 1)


@numba.njit(inline="always")
def _draw(seed, k):
    """Draw ``k`` (0-based) of the stream ``seed``."""
    return mix64(seed + np.uint64(k + 1) * GAMMA)


@numba.njit(inline="always")
def _normal_slow(hz, iz, slow_seed, ctr):
    """Resolve a rejected ziggurat draw; returns (value, new counter)."""
    while True:
        x = hz * _WN[iz]
        if iz == 0:
            while True:
                a = -math.log(_uniform01(_draw(slow_seed, ctr))) / _ZIG_R
                b = -math.log(_uniform01(_draw(slow_seed, ctr + 1)))
                ctr += 2
                if b + b >= a * a:
                    break
            return (_ZIG_R + a if hz > 0 else -_ZIG_R - a), ctr
        u = _uniform01(_draw(slow_seed, ctr))
        ctr += 1
        if _FN[iz] + u * (_FN[iz - 1] - _FN[iz]) < math.exp(-0.5 * x * x):
            return x, ctr
        hz, iz = _split(np.uint32(_draw(slow_seed, ctr) & np.uint64(0xFFFFFFFF)))
        ctr += 1
        if abs(hz) < _KN32[iz]:
            return hz * _WN[iz], ctr


@numba.njit(cache=True)
def normal_work_size(n):
    """Length of the uint64 work array that :func:`fill_normal_work` needs for n values."""
    return (n + 1) // 2 + (n + 7) // 8


# Up to this many values a single scalar pass is faster than three vector passes.
_SCALAR_FILL_MAX = 64


@numba.njit(inline="always")
def _fill_normal_scalar(seed, out, scale):
    """:func:`fill_normal_work` in one scalar pass: the same values, for short fills."""
    n = out.shape[0]
    slow_seed = mix64(seed ^ _SLOW_SALT)
    ctr = 0
    for p in range((n + 1) >> 1):
        u = _draw(seed, p)
        for k in range(2 * p, min(2 * p + 2, n)):
            hz, iz = _split(np.uint32(u & np.uint64(0xFFFFFFFF)))
            u >>= np.uint64(32)
            if abs(hz) < _KN32[iz]:
                out[k] = np.float32(hz) * _WN32[iz] * scale
            else:
                x, ctr = _normal_slow(hz, iz, slow_seed, ctr)
                out[k] = np.float32(x * scale)


@numba.njit(inline="always")
def fill_normal_work(seed, out, scale, work):
    """:func:`fill_normal` with a caller-owned uint64 work array (:func:`normal_work_size`).

    Three passes, the first two branch-free so that they vectorize: hash the
    draws, map every 32-bit half through the ziggurat's fast path (flagging
    the values it rejects), then resolve the flagged values in index order.
    Short fills take one scalar pass with the same result.
    """
    seed = np.uint64(seed)
    scale = np.float32(scale)
    n = out.shape[0]
    if n <= _SCALAR_FILL_MAX:
        _fill_normal_scalar(seed, out, scale)
        return
    n_draws = (n + 1) >> 1
    draws = work[:n_draws]
    for p in range(n_draws):
        draws[p] = _draw(seed, p)
    halves = draws.view(np.int32)
    flag_words = work[n_draws:n_draws + (n + 7) // 8]
    flags = flag_words.view(np.uint8)
    for k in range(n):
        hz, iz = _split(halves[k])
        out[k] = np.float32(hz) * _WN32[iz] * scale
        flags[k] = np.uint8(abs(hz) >= _KN32[iz])
    for k in range(n, flags.shape[0]):
        flags[k] = 0
    slow_seed = mix64(seed ^ _SLOW_SALT)
    ctr = 0
    for w in range(flag_words.shape[0]):
        if flag_words[w]:
            for k in range(8 * w, 8 * w + 8):
                if flags[k]:
                    hz, iz = _split(halves[k])
                    x, ctr = _normal_slow(hz, iz, slow_seed, ctr)
                    out[k] = np.float32(x * scale)


@numba.njit(inline="always")
def _half(draw, k):
    """The 32-bit half of a 64-bit draw that value ``k`` uses: the low half for even k."""
    return np.uint32((draw >> np.uint64(32 * (k & 1))) & np.uint64(0xFFFFFFFF))


@numba.njit(inline="always")
def fill_normal_columns(seeds, out, draws, flags):
    """Column j of ``out`` = the standard normals of stream ``seeds[j]``, for every column at once.

    The values :func:`fill_normal` gives with scale 1, computed across
    streams rather than along one: every pass runs over the columns, so it
    vectorizes even when each stream holds only a few values, as the
    parameters of a small network do.

    Parameters
    ----------
    seeds : ndarray of uint64, shape (B,)
    out : ndarray of float32, shape (n, B)
    draws : ndarray of uint64, shape ((n + 1) // 2, B)
        Work array.
    flags : ndarray of uint8, shape (n, B), C-contiguous
        Work array (its rows are scanned eight flags at a time).
    """
    n, lanes = out.shape
    for p in range(draws.shape[0]):
        for j in range(lanes):
            draws[p, j] = _draw(seeds[j], p)
    for k in range(n):
        for j in range(lanes):
            hz, iz = _split(_half(draws[k >> 1, j], k))
            out[k, j] = np.float32(hz) * _WN32[iz]
            flags[k, j] = np.uint8(abs(hz) >= _KN32[iz])
    # The few rejected values are found eight flags at a time and resolved in
    # row order, so each stream spends its slow-path draws as fill_normal does.
    ctrs = np.zeros(lanes, dtype=np.int64)
    flat = flags[:n].reshape(-1)
    n_words = flat.shape[0] >> 3
    flag_words = flat[:8 * n_words].view(np.uint64)
    for w in range(n_words + 1):
        if w == n_words or flag_words[w]:
            for i in range(8 * w, min(8 * w + 8, flat.shape[0])):
                if flat[i]:
                    k, j = i // lanes, i % lanes
                    hz, iz = _split(_half(draws[k >> 1, j], k))
                    x, ctrs[j] = _normal_slow(hz, iz, mix64(seeds[j] ^ _SLOW_SALT), ctrs[j])
                    out[k, j] = np.float32(x)



@numba.njit(cache=True)
def fill_normal(seed, out, scale):
    """Fill ``out`` (float32) with ``scale`` times standard normals of stream ``seed``.

    Draw p gives values 2p (its low half) and 2p + 1 (its high half), so a
    shorter fill is a prefix of a longer one.  Values the ziggurat's fast path
    rejects (about 0.4%) are then resolved in index order from a second stream.
    """
    fill_normal_work(seed, out, scale, np.empty(normal_work_size(out.shape[0]), dtype=np.uint64))


_SQRT3 = math.sqrt(3.0)


@numba.njit(cache=True, fastmath=True)
def fill_uniform(seed, out, scale):
    """Fill ``out`` (float32) with uniforms of mean 0 and standard deviation ``scale``."""
    seed = np.uint64(seed)
    for k in range(out.shape[0]):
        u = _draw(seed, k) >> np.uint64(40)  # 24 bits
        out[k] = np.float32((np.float32(u) * np.float32(2.0 / 16777216.0) - np.float32(1.0)
                             + np.float32(1.0 / 16777216.0)) * np.float32(_SQRT3) * scale)


@numba.njit(cache=True)
def fill_bits(seed, out, m):
    """Fill one packed m-bit key ``out`` (uint64 words) with fair coin flips."""
    seed = np.uint64(seed)
    nw = out.shape[0]
    for w in range(nw):
        out[w] = _draw(seed, w)
    rem = m & 63
    if rem:
        out[nw - 1] &= (np.uint64(1) << np.uint64(rem)) - np.uint64(1)


@numba.njit(cache=True, parallel=prange_only())
def sample_random_keys(key0, key1, start, count, m):
    """Keys of samples ``start .. start+count-1`` of a chunk of uniform random functions."""
    keys = np.empty((count, (m + 63) // 64), dtype=np.uint64)
    for r in numba.prange(count):
        fill_bits(stream_seed(key0, key1, start + r), keys[r], m)
    return keys
