"""Reproducible random numbers for the Numba kernels.

Seeding (DESIGN.md section 2): a run has one integer seed; chunk ``k`` takes
its 128-bit key from ``numpy.random.SeedSequence(seed, spawn_key=(k,))``,
which is exactly ``SeedSequence(seed).spawn(k + 1)[k]``.  Sample ``j`` of a
chunk gets a 64-bit stream seed derived from the chunk key and ``j`` alone,
so a sample's parameters never depend on which thread draws them.

Within a sample the generator is counter-based: draw ``c`` of stream ``s`` is
SplitMix64's output ``mix(s + (c + 1) * GAMMA)`` (SplitMix64 passes BigCrush).
Normals (generator version 2, :data:`GENERATOR_VERSION`) are two per 64-bit
draw, one per 32-bit half, each the inverse normal distribution function of
that half by Giles's single-precision erfinv: float32 arithmetic with FMAs,
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

__all__ = ["chunk_key", "stream_seed", "GENERATOR_VERSION", "TAIL_LIMIT", "fill_normal", "fill_normal_columns", "fill_normal_work", "normal_work_size", "fill_uniform", "fill_bits", "sample_random_keys"]

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


# --- normals: the inverse normal distribution function in float32 -----------------

#: Version of the normal generator, recorded in every run's manifest: 1 was a
#: 1024-layer ziggurat (pysimbias 0.2.0 - 0.4.0), 2 the inverse CDF below.
GENERATOR_VERSION = 2

_F = np.float32
def _parts(coefficients):
    """``(even, odd)`` coefficients of a polynomial, for :func:`_polynomial`."""
    return coefficients[0::2], coefficients[1::2]


#: Phi^-1(a) = -t P(w) for a < 1/2, with t = 1 - 2a and w = -log(4a (1 - a))
#: (Giles 2011 writes erfinv(t) = t p(w) so; his float32 coefficients reach
#: only w = 16, where float32 inputs end, and ours reach w = 21.5).  P is one
#: polynomial in w - 2.5 for w < 5 and another in sqrt(w) - 3.5 beyond, each
#: fitted here by least squares in relative error on Chebyshev nodes against
#: SciPy's ndtri (relative error 5.0e-8 and 1.7e-8 with the float32
#: coefficients); coefficients constant first.
_CENTRAL = _parts(tuple(_F(c) for c in (2.1233134269714355, 0.34880203008651733, -0.005907719489187002,
                                 -0.0017716210568323731, 0.00030878771212883294, -7.032982466625981e-06,
                                 -4.8975530262396205e-06, 6.622295245506393e-07, 3.2901397162277135e-08,
                                 -1.2645068991901098e-08)))
_TAIL = _parts(tuple(_F(c) for c in (4.7170891761779785, 1.4246350526809692, 0.004632445517927408, -0.002923917956650257,
                              0.0015577074373140931, -0.000934427313040942, 0.0005827090935781598,
                              -0.0003677433996926993, 0.00013851930270902812, 3.3108524803537875e-05,
                              -3.288078369223513e-05)))
_W_SPLIT = _F(5.0)
#: log(1 + f) = f - f^2 / 2 + f^3 Q(f) for sqrt(1/2) <= 1 + f < sqrt(2): Q's
#: coefficients, constant first (weighted least squares on Chebyshev nodes,
#: relative error 7.4e-9 in float64; no division, which would not vectorize
#: under Numba's Python error model).
_LOG_Q = _parts(tuple(_F(c) for c in (0.3333335518836975, -0.2500085234642029, 0.19999825954437256, -0.16621370613574982,
                               0.14227114617824554, -0.13202103972434998, 0.1262032687664032, -0.07362867891788483)))
_SQRT_HALF_BITS = np.int32(0x3F3504F3)  # the float32 bits of sqrt(1/2), rounded up
_LOG_SHIFT = np.int32(0x3F800000 - 0x3F3504F3)  # moves 1 + f >= sqrt(2) into the next exponent
_MANTISSA = np.int32(0x007FFFFF)
_TWO_M32 = _F(2.0 ** -32)
_TWO_M31 = _F(2.0 ** -31)
#: The largest |value| the generator gives: Phi^-1(2^-33) (the 32-bit input 0 or 2^32 - 1).
TAIL_LIMIT = 6.3379577545537895


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
    all the coefficients, which lets the vectorized loop run twice as many
    FMAs at once.
    """
    x2 = x * x
    return _fma(x, _horner(parts[1], x2), _horner(parts[0], x2))


@numba.njit(inline="always")
def _log32(y):
    """``log(y)`` for a normal positive float32: y = 2^e (1 + f) with sqrt(1/2) <= 1 + f < sqrt(2)."""
    bits = np.int32(_bits_from_float32(y) + _LOG_SHIFT)
    e = _F(np.int32(np.int32(bits >> np.int32(23)) - np.int32(127)))
    f = _float32_from_bits(np.int32(np.int32(bits & _MANTISSA) + _SQRT_HALF_BITS)) - _F(1.0)
    r = _fma(f * f, _fma(f, _polynomial(_LOG_Q, f), _F(-0.5)), f)
    return _fma(e, _LN2_HI, _fma(e, _LN2_LO, r))


@numba.njit(inline="always")
def _normal_of_half(h):
    """The standard normal of the 32-bit half ``h`` (an int32 holding the bits of k): Phi^-1((k + 1/2) / 2^32).

    With ``m = min(k, 2^32 - 1 - k)`` and ``q = 2^31 - 1 - m``, both the
    smaller tail's probability ``a = (m + 1/2) 2^-32`` and the distance from
    the centre ``t = 1 - 2a = (q + 1/2) 2^-31`` are computed from their
    integers, so both keep full relative precision; then
    ``w = -log(4a (1 - a))`` and the value is ``t p(w)``, negative for
    k < 2^31.  Branch-free: both polynomials are evaluated and one is
    selected.
    """
    sign = np.int32(h >> np.int32(31))  # -1 for k >= 2^31 (u > 1/2), else 0
    m = np.int32(h ^ sign)
    a = (_F(m) + _F(0.5)) * _TWO_M32
    t = (_F(np.int32(m ^ np.int32(0x7FFFFFFF))) + _F(0.5)) * _TWO_M31
    w = -_log32((_F(4.0) * a) * (_F(1.0) - a))
    central = _polynomial(_CENTRAL, w - _F(2.5))
    tail = _polynomial(_TAIL, math.sqrt(max(w, _F(0.0))) - _F(3.5))
    x = t * (central if w < _W_SPLIT else tail)
    return -x if sign == np.int32(0) else x


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

    Two branch-free passes that vectorize: hash the draws, then map every
    32-bit half through :func:`_normal_of_half`.
    """
    seed = np.uint64(seed)
    scale = np.float32(scale)
    n = out.shape[0]
    draws = work[:(n + 1) >> 1]
    for p in range(draws.shape[0]):
        draws[p] = _draw(seed, p)
    halves = draws.view(np.int32)
    for k in range(n):
        out[k] = _normal_of_half(halves[k]) * scale


@numba.njit(inline="always")
def fill_normal_columns(seeds, out, draws):
    """Column j of ``out`` = the standard normals of stream ``seeds[j]``, for every column at once.

    The values :func:`fill_normal` gives with scale 1, computed across
    streams rather than along one: both passes (hash the draws, map their
    halves) run over the columns, so they vectorize even when each stream
    holds only a few values, as the parameters of a small network do.

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
    for k in range(n):
        halves = draws[k >> 1].view(np.int32)  # low, high, low, high, ...: value k is half k & 1
        row = out[k]
        for j in range(lanes):
            row[j] = _normal_of_half(halves[2 * j + (k & 1)])


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
