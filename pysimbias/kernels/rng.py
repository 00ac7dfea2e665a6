"""Reproducible random numbers for the Numba kernels.

Seeding (DESIGN.md section 2): a run has one integer seed; chunk ``k`` takes
its 128-bit key from ``numpy.random.SeedSequence(seed, spawn_key=(k,))``,
which is exactly ``SeedSequence(seed).spawn(k + 1)[k]``.  Sample ``j`` of a
chunk gets a 64-bit stream seed derived from the chunk key and ``j`` alone,
so a sample's parameters never depend on which thread draws them.

Within a sample the generator is counter-based: draw ``c`` of stream ``s`` is
SplitMix64's output ``mix(s + (c + 1) * GAMMA)`` (SplitMix64 passes BigCrush).
Normals (generator version 2, :data:`GENERATOR_VERSION`) are two per 64-bit
draw by the Box-Muller transform (Box & Muller 1958), the low 32-bit half
giving the radius and the high half the angle: float32 arithmetic with FMAs,
no tables, no rejection, no branches, so the loops vectorize and every value
is a pure function of (stream seed, index), independent of vector width,
thread count and scheduling.
"""

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from . import prange_only
from .activations import _LN2_HI, _LN2_LO, _float32_from_bits, _fma, _horner

__all__ = ["chunk_key", "stream_seed", "GENERATOR_VERSION", "TAIL_LIMIT", "fill_normal", "fill_normal_columns",
           "fill_normal_work", "normal_work_size", "fill_uniform", "fill_bits", "sample_random_keys"]

GAMMA = np.uint64(0x9E3779B97F4A7C15)
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


# --- normals: Box-Muller in float32 ------------------------------------------------

#: Version of the normal generator, recorded in every run's manifest: 1 was a
#: 1024-layer ziggurat (pysimbias 0.2.0 - 0.4.0), 2 the Box-Muller pairs below.
GENERATOR_VERSION = 2

_F = np.float32
#: log(1 + f) = f - f^2 / 2 + f^3 Q(f) for sqrt(1/2) <= 1 + f < sqrt(2): Q's
#: coefficients, constant first (weighted least squares on Chebyshev nodes,
#: relative error 7.4e-9 in float64; no division, which would not vectorize
#: under Numba's Python error model).
_LOG_Q = (0.3333335518836975, -0.2500085234642029, 0.19999825954437256, -0.16621370613574982,
          0.14227114617824554, -0.13202103972434998, 0.1262032687664032, -0.07362867891788483)
#: sin(a) = a + a^3 S(a^2) and cos(a) = 1 + a^2 C(a^2) for |a| <= pi / 4: the
#: Taylor coefficients (the first term left out is below 10^-9).
_SIN_S = tuple(_F((-1) ** (i + 1) / math.factorial(2 * i + 3)) for i in range(4))
_COS_C = tuple(_F((-1) ** (i + 1) / math.factorial(2 * i + 2)) for i in range(5))
_SQRT_HALF_BITS = np.int32(0x3F3504F3)  # the float32 bits of sqrt(1/2), rounded up
_LOG_SHIFT = np.int32(0x3F800000 - 0x3F3504F3)  # moves 1 + f >= sqrt(2) into the next exponent
_MANTISSA = np.int32(0x007FFFFF)
_TWO_M32 = _F(2.0 ** -32)
_ANGLE = _F(2.0 * math.pi / 2.0 ** 32)  # radians per step of the 32-bit angle
_QUARTER = np.int32(1 << 29)  # an eighth of the circle, in angle steps
#: The largest |value| the generator gives: sqrt(-2 log(2^-33)), the radius of
#: the 32-bit radius input 0, times |cos| or |sin| of an angle within 2^-31 of
#: a multiple of pi / 2.
TAIL_LIMIT = 6.763705635001895


def _parts(coefficients):
    """``(even, odd)`` float32 coefficients of a polynomial, for :func:`_polynomial`."""
    coefficients = tuple(_F(c) for c in coefficients)
    return coefficients[0::2], coefficients[1::2]


_LOG_Q = _parts(_LOG_Q)


@intrinsic
def _bits_from_float32(typingctx, value):
    """The IEEE bits of the float32 ``value`` as an int32."""
    if value != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


@numba.njit(inline="always")
def _polynomial(parts, x):
    """``sum_i c_i x^i`` for ``parts = (even, odd)``, the even and odd coefficients: ``E(x^2) + x O(x^2)``.

    The two halves are independent Horner chains, half as long as one over
    all the coefficients.
    """
    x2 = x * x
    return _fma(x, _horner(parts[1], x2), _horner(parts[0], x2))


@numba.njit(inline="always")
def _minus_two_log(h):
    """``-2 log(u)`` for ``u = (k + 1/2) 2^-32``, k the 32-bit half ``h`` (an int32 holding its bits).

    ``lo = min(u, 1 - u)`` is computed from its integer and ``u = lo`` or
    ``1 - lo``; ``u = 2^e (1 + f)`` with sqrt(1/2) <= 1 + f < sqrt(2) from
    its bits, except that for e = 0 (u near 1) ``f = -lo`` exactly, so that
    small radii keep their relative precision; then
    ``log(u) = e log 2 + f - f^2 / 2 + f^3 Q(f)``.
    """
    sign = np.int32(h >> np.int32(31))  # -1 for k >= 2^31, else 0
    lo = (_F(np.int32(h ^ sign)) + _F(0.5)) * _TWO_M32
    u = lo if sign == np.int32(0) else _F(1.0) - lo
    bits = np.int32(_bits_from_float32(u) + _LOG_SHIFT)
    e = np.int32(np.int32(bits >> np.int32(23)) - np.int32(127))
    f = _float32_from_bits(np.int32(np.int32(bits & _MANTISSA) + _SQRT_HALF_BITS)) - _F(1.0)
    f = -lo if e == np.int32(0) else f
    log1p = _fma(f * f, _fma(f, _polynomial(_LOG_Q, f), _F(-0.5)), f)
    ef = _F(e)
    return _F(-2.0) * _fma(ef, _LN2_HI, _fma(ef, _LN2_LO, log1p))


@numba.njit(inline="always")
def _normal_pair(radius_half, angle_half):
    """Two standard normals ``r cos(theta), r sin(theta)`` of one 64-bit draw's halves (int32 bits).

    ``r = sqrt(-2 log((k1 + 1/2) 2^-32))`` for the low half k1 and
    ``theta = 2 pi (k2 + 1/2) 2^-32`` for the high half k2.  The angle is
    reduced exactly in integers: ``k2 = 2^30 j + d`` with -2^29 <= d < 2^29,
    so ``theta = j pi / 2 + a``, ``a = (d + 1/2) 2 pi 2^-32``, and
    (cos theta, sin theta) is (cos a, sin a) turned by j quarter turns.
    Branch-free, so the loops that call it vectorize.
    """
    r = math.sqrt(_minus_two_log(radius_half))
    shifted = np.int32(angle_half + _QUARTER)
    j = np.int32(np.int32(shifted >> np.int32(30)) & np.int32(3))
    d = np.int32(np.int32(shifted & np.int32((1 << 30) - 1)) - _QUARTER)
    a = (_F(d) + _F(0.5)) * _ANGLE
    a2 = a * a
    s = _fma(a * a2, _horner(_SIN_S, a2), a)
    c = _fma(a2, _horner(_COS_C, a2), _F(1.0))
    odd = (j & np.int32(1)) != np.int32(0)
    cos_theta = s if odd else c
    sin_theta = c if odd else s
    cos_theta = -cos_theta if (j == np.int32(1)) | (j == np.int32(2)) else cos_theta
    sin_theta = -sin_theta if j >= np.int32(2) else sin_theta
    return r * cos_theta, r * sin_theta


@numba.njit(inline="always")
def _draw(seed, k):
    """Draw ``k`` (0-based) of the stream ``seed``."""
    return mix64(seed + np.uint64(k + 1) * GAMMA)


@numba.njit(cache=True)
def normal_work_size(n):
    """Length of the uint64 work array that :func:`fill_normal_work` needs for n values."""
    return (n + 1) // 2


@numba.njit(inline="always")
def fill_normal_work(seed, out, scale, work):
    """:func:`fill_normal` with a caller-owned uint64 work array (:func:`normal_work_size`).

    Two branch-free passes that vectorize: hash the draws, then map each
    draw's halves to its pair of normals (:func:`_normal_pair`).
    """
    seed = np.uint64(seed)
    scale = np.float32(scale)
    n = out.shape[0]
    draws = work[:(n + 1) >> 1]
    for p in range(draws.shape[0]):
        draws[p] = _draw(seed, p)
    halves = draws.view(np.int32)  # radius, angle, radius, angle, ...
    for p in range(n >> 1):
        x, y = _normal_pair(halves[2 * p], halves[2 * p + 1])
        out[2 * p] = x * scale
        out[2 * p + 1] = y * scale
    if n & 1:
        out[n - 1] = _normal_pair(halves[n - 1], halves[n])[0] * scale


@numba.njit(inline="always")
def fill_normal_columns(seeds, out, draws):
    """Column j of ``out`` = the standard normals of stream ``seeds[j]``, for every column at once.

    The values :func:`fill_normal` gives with scale 1, computed across
    streams rather than along one: both passes (hash the draws, map each
    draw to its two normals) run over the columns, so they vectorize even
    when each stream holds only a few values, as the parameters of a small
    network do.

    Parameters
    ----------
    seeds : ndarray of uint64, shape (B,)
    out : ndarray of float32, shape (n, B)
    draws : ndarray of uint64, shape ((n + 1) // 2, B), C-contiguous
        Work array.
    """
    n, lanes = out.shape
    for p in range(draws.shape[0]):
        for j in range(lanes):
            draws[p, j] = _draw(seeds[j], p)
    for p in range(n >> 1):
        halves = draws[p].view(np.int32)  # radius, angle, radius, angle, ...: one pair per column
        cos_row, sin_row = out[2 * p], out[2 * p + 1]
        for j in range(lanes):
            cos_row[j], sin_row[j] = _normal_pair(halves[2 * j], halves[2 * j + 1])
    if n & 1:
        halves = draws[n >> 1].view(np.int32)
        last = out[n - 1]
        for j in range(lanes):
            last[j] = _normal_pair(halves[2 * j], halves[2 * j + 1])[0]


@numba.njit(cache=True)
def fill_normal(seed, out, scale):
    """Fill ``out`` (float32) with ``scale`` times standard normals of stream ``seed``.

    Draw p gives values 2p (its low half) and 2p + 1 (its high half), so a
    shorter fill is a prefix of a longer one.
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
