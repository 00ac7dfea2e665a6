"""Reproducible random numbers for the Numba kernels.

Seeding (DESIGN.md section 2): a run has one integer seed; chunk ``k`` takes
its 128-bit key from ``numpy.random.SeedSequence(seed, spawn_key=(k,))``,
which is exactly ``SeedSequence(seed).spawn(k + 1)[k]``.  Sample ``j`` of a
chunk gets a 64-bit stream seed derived from the chunk key and ``j`` alone,
so a sample's parameters never depend on which thread draws them.

Within a sample the generator is counter-based: draw ``c`` of stream ``s`` is
SplitMix64's output ``mix(s + (c + 1) * GAMMA)`` (SplitMix64 passes BigCrush).
Normals come from a 256-layer ziggurat (Marsaglia & Tsang 2000), two per
64-bit draw, whose layer index and magnitude use disjoint bits; the rare rejected
draws are resolved from a second, sequential stream of the same sample.
Every draw is a pure function of (stream seed, index), so the first pass
vectorizes and the result is independent of thread count and scheduling.
"""

import math

import numba
import numpy as np

__all__ = ["chunk_key", "stream_seed", "fill_normal", "fill_normal_flags", "fill_uniform", "fill_bits", "sample_random_keys"]

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


def _ziggurat_tables(bits, layers=256, dn=3.6541528853610088, vn=4.92867323399e-3):
    """Marsaglia & Tsang's ziggurat tables for ``bits``-bit magnitudes.

    ``dn`` is the base strip's right edge r and ``vn`` the area of each layer
    (the defaults are the 256-layer values).
    """
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


# One 64-bit draw gives two normals; each 32-bit half holds an 8-bit layer
# index (low bits) and a signed 24-bit magnitude (high bits), so the index and
# the magnitude never share bits.  About 1.5% of draws leave the fast path.
_KN, _WN, _FN = _ziggurat_tables(23)
_KN32 = _KN.astype(np.int32)
_WN32 = _WN.astype(np.float32)
_ZIG_R = 3.6541528853610088


@numba.njit(inline="always")
def _uniform01(u):
    """Uniform double in (0, 1] from a 64-bit draw."""
    return ((u >> np.uint64(11)) + np.uint64(1)) * (1.0 / 9007199254740992.0)


@numba.njit(inline="always")
def _split(half):
    """Ziggurat fields of a 32-bit half-draw: signed magnitude and layer index."""
    h = np.int32(np.uint32(half))
    return h >> np.int32(8), h & np.int32(255)


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
        hz, iz = _split(_draw(slow_seed, ctr) & np.uint64(0xFFFFFFFF))
        ctr += 1
        if abs(hz) < _KN32[iz]:
            return hz * _WN[iz], ctr


@numba.njit(inline="always")
def _half(seed, k):
    """The 32-bit half-draw normal ``k`` uses: draw k // 2, low half for even k."""
    u = _draw(seed, k >> 1)
    return (u >> np.uint64(32)) if k & 1 else (u & np.uint64(0xFFFFFFFF))


@numba.njit(cache=True, fastmath=True)
def fill_normal_flags(seed, out, scale, rejected):
    """:func:`fill_normal` with a caller-owned uint8 scratch array ``rejected`` (len(out))."""
    seed = np.uint64(seed)
    scale = np.float32(scale)
    n = out.shape[0]
    n_rejected = 0
    for p in range(n >> 1):
        u = _draw(seed, p)
        h0, i0 = _split(u & np.uint64(0xFFFFFFFF))
        h1, i1 = _split(u >> np.uint64(32))
        out[2 * p] = np.float32(h0) * _WN32[i0] * scale
        out[2 * p + 1] = np.float32(h1) * _WN32[i1] * scale
        r0 = np.uint8(abs(h0) >= _KN32[i0])
        r1 = np.uint8(abs(h1) >= _KN32[i1])
        rejected[2 * p] = r0
        rejected[2 * p + 1] = r1
        n_rejected += r0 + r1
    if n & 1:
        h0, i0 = _split(_half(seed, n - 1))
        out[n - 1] = np.float32(h0) * _WN32[i0] * scale
        rejected[n - 1] = np.uint8(abs(h0) >= _KN32[i0])
        n_rejected += rejected[n - 1]
    if n_rejected:
        slow_seed = mix64(seed ^ _SLOW_SALT)
        ctr = 0
        for k in range(n):
            if rejected[k]:
                hz, iz = _split(_half(seed, k))
                x, ctr = _normal_slow(hz, iz, slow_seed, ctr)
                out[k] = np.float32(x * scale)


@numba.njit(cache=True)
def fill_normal(seed, out, scale):
    """Fill ``out`` (float32) with ``scale`` times standard normals of stream ``seed``.

    Draw p gives values 2p (its low half) and 2p + 1 (its high half), so a
    shorter fill is a prefix of a longer one.  Values the ziggurat's fast path
    rejects (about 1%) are then resolved in index order from a second stream.
    """
    fill_normal_flags(seed, out, scale, np.empty(out.shape[0], dtype=np.uint8))


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


@numba.njit(cache=True, parallel=True)
def sample_random_keys(key0, key1, start, count, m):
    """Keys of samples ``start .. start+count-1`` of a chunk of uniform random functions."""
    keys = np.empty((count, (m + 63) // 64), dtype=np.uint64)
    for r in numba.prange(count):
        fill_bits(stream_seed(key0, key1, start + r), keys[r], m)
    return keys
