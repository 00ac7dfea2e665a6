"""Reproducible random numbers for the Numba kernels.

Seeding (DESIGN.md section 2): a run has one integer seed; chunk ``k`` takes
its 128-bit key from ``numpy.random.SeedSequence(seed, spawn_key=(k,))``,
which is exactly ``SeedSequence(seed).spawn(k + 1)[k]``.  Sample ``j`` of a
chunk gets a 64-bit stream seed derived from the chunk key and ``j`` alone,
so a sample's parameters never depend on which thread draws them.

Within a sample the generator is counter-based: draw ``c`` of stream ``s`` is
SplitMix64's output ``mix(s + (c + 1) * GAMMA)`` (SplitMix64 passes BigCrush).
Normals come from a 128-layer ziggurat (Marsaglia & Tsang 2000) whose layer
index and magnitude use disjoint bits of one 64-bit draw; the rare rejected
draws are resolved from a second, sequential stream of the same sample.
Every draw is a pure function of (stream seed, index), so the first pass
vectorizes and the result is independent of thread count and scheduling.
"""

import math

import numba
import numpy as np

__all__ = ["chunk_key", "stream_seed", "fill_normal", "fill_uniform", "fill_bits", "sample_random_keys"]

GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SLOW_SALT = np.uint64(0xD1B54A32D192ED03)
_SAMPLE_SALT = np.uint64(0x8CB92BA72F3D8DD7)


@numba.njit(inline="always")
def mix64(z):
    """SplitMix64 finalizer: a bijective 64-bit hash."""
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
    return mix64(key0 ^ mix64(key1 + np.uint64(j) * GAMMA + _SAMPLE_SALT))


def _ziggurat_tables():
    """Marsaglia & Tsang's 128-layer ziggurat tables for 32-bit magnitudes."""
    m1 = 2147483648.0
    dn = 3.442619855899
    tn = dn
    vn = 9.91256303526217e-3
    kn = np.zeros(128, dtype=np.int64)
    wn = np.zeros(128, dtype=np.float64)
    fn = np.zeros(128, dtype=np.float64)
    q = vn / math.exp(-0.5 * dn * dn)
    kn[0] = int((dn / q) * m1)
    kn[1] = 0
    wn[0] = q / m1
    wn[127] = dn / m1
    fn[0] = 1.0
    fn[127] = math.exp(-0.5 * dn * dn)
    for i in range(126, 0, -1):
        dn = math.sqrt(-2.0 * math.log(vn / dn + math.exp(-0.5 * dn * dn)))
        kn[i + 1] = int((dn / tn) * m1)
        tn = dn
        fn[i] = math.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn


_KN, _WN, _FN = _ziggurat_tables()
_ZIG_R = 3.442619855899
_WN32 = _WN.astype(np.float32)


@numba.njit(inline="always")
def _uniform01(u):
    """Uniform double in (0, 1] from a 64-bit draw."""
    return ((u >> np.uint64(11)) + np.uint64(1)) * (1.0 / 9007199254740992.0)


@numba.njit(inline="always")
def _split(u):
    """Ziggurat fields of one draw: signed 32-bit magnitude and layer index."""
    hz = np.int64(np.int32(np.uint32(u >> np.uint64(32))))
    iz = np.int64(u & np.uint64(127))
    return hz, iz


@numba.njit(cache=True)
def _normal_slow(hz, iz, slow_seed, ctr):
    """Resolve a rejected ziggurat draw; returns (value, new counter)."""
    while True:
        x = hz * _WN[iz]
        if iz == 0:
            while True:
                ctr += 1
                a = -math.log(_uniform01(mix64(slow_seed + np.uint64(ctr) * GAMMA))) / _ZIG_R
                ctr += 1
                b = -math.log(_uniform01(mix64(slow_seed + np.uint64(ctr) * GAMMA)))
                if b + b >= a * a:
                    break
            return (_ZIG_R + a if hz > 0 else -_ZIG_R - a), ctr
        ctr += 1
        u = _uniform01(mix64(slow_seed + np.uint64(ctr) * GAMMA))
        if _FN[iz] + u * (_FN[iz - 1] - _FN[iz]) < math.exp(-0.5 * x * x):
            return x, ctr
        ctr += 1
        hz, iz = _split(mix64(slow_seed + np.uint64(ctr) * GAMMA))
        if abs(hz) < _KN[iz]:
            return hz * _WN[iz], ctr


@numba.njit(cache=True)
def fill_normal(seed, out, scale):
    """Fill ``out`` (float32) with ``scale`` times standard normals of stream ``seed``."""
    n = out.shape[0]
    n_rejected = 0
    for k in range(n):
        hz, iz = _split(mix64(seed + np.uint64(k + 1) * GAMMA))
        ok = abs(hz) < _KN[iz]
        out[k] = np.float32(hz) * _WN32[iz] * scale
        n_rejected += 0 if ok else 1
    if n_rejected:
        slow_seed = mix64(seed ^ _SLOW_SALT)
        ctr = 0
        for k in range(n):
            hz, iz = _split(mix64(seed + np.uint64(k + 1) * GAMMA))
            if abs(hz) >= _KN[iz]:
                x, ctr = _normal_slow(hz, iz, slow_seed, ctr)
                out[k] = np.float32(x * scale)


_SQRT3 = math.sqrt(3.0)


@numba.njit(cache=True, fastmath=True)
def fill_uniform(seed, out, scale):
    """Fill ``out`` (float32) with uniforms of mean 0 and standard deviation ``scale``."""
    for k in range(out.shape[0]):
        u = mix64(seed + np.uint64(k + 1) * GAMMA) >> np.uint64(40)  # 24 bits
        out[k] = np.float32((np.float32(u) * np.float32(2.0 / 16777216.0) - np.float32(1.0)
                             + np.float32(1.0 / 16777216.0)) * np.float32(_SQRT3) * scale)


@numba.njit(cache=True)
def fill_bits(seed, out, m):
    """Fill one packed m-bit key ``out`` (uint64 words) with fair coin flips."""
    nw = out.shape[0]
    for w in range(nw):
        out[w] = mix64(seed + np.uint64(w + 1) * GAMMA)
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
