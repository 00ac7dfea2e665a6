"""Numba kernels: the hidden-layer activations, float32 for the sampler and float64 for the trainer.

Pure array-in / array-out.  Definitions (``Phi`` is the standard normal
distribution function):

* ``relu(x) = max(x, 0)``, ``tanh``, ``linear(x) = x``;
* ``gelu(x) = x Phi(x) = (x / 2) erfc(-x / sqrt 2)`` (the exact form, not the
  tanh approximation);
* ``silu(x) = x sigmoid(x)`` (swish), ``sigmoid(x) = 1 / (1 + exp(-x))``;
* ``selu(x) = lambda x`` for x > 0, ``lambda alpha (exp(x) - 1)`` otherwise,
  with Klambauer et al.'s (2017) constants :data:`SELU_LAMBDA`,
  :data:`SELU_ALPHA`;
* ``sin``, ``gaussian(x) = exp(-x^2 / 2)``, ``erf``;
* ``step(x) = 1`` if x > 0, else 0 (so step(0) = 0, as the network's
  Heaviside output maps a pre-activation of 0 to 0).

The float32 forms (:func:`apply_activation`) are written so that LLVM
vectorizes their loops: no calls into libm, only arithmetic, ``llvm.fma``
and bit casts.  ``exp`` is reduced by ln 2 (Cody–Waite) to a degree-7
polynomial and scaled by 2^k built from its exponent bits; ``exp(-x^2)``
splits x^2 exactly into two floats with an FMA, so its relative error does
not grow with x^2; ``erfc`` is ``exp(-t^2) erfcx(t)``, with the scaled
complement ``(1 + 2t) erfcx(t)`` a degree-12 polynomial in ``(t - 2) / (t +
2)`` (the variable of Shepherd & Laframboise 1981); ``erf`` is an odd
polynomial for |x| <= 1; ``sin`` is reduced by pi in float64 against a
three-part pi and evaluated by an odd float64 polynomial.  Every polynomial
was fitted here, by weighted least squares on Chebyshev nodes.  Measured
accuracy over the float32 range, in ulps of the float32 result
(``tests/kernels/test_activations.py`` asserts the bounds, against SciPy in
float64, on 4.2 million values; results below the smallest normal float32,
2^-126, are within 2 x 2^-149 instead):

=========  ========  =====  ==========================================
name       measured  bound  note
=========  ========  =====  ==========================================
tanh       5.45      6      |x| >= 2^-110; below, absolute error < 2^-130
gelu       4.64      5
silu       3.25      4
selu       1.71      2
sigmoid    2.78      3
sin        0.5       1      correctly rounded on every value tested with
                            |x| <= 2^40; beyond, a value in [-1, 1] that
                            need not be sin(x) (float32 values there are
                            2^17 apart, far more than the period)
gaussian   1.15      2
erf        1.29      2
relu, linear, step   0      exact
=========  ========  =====  ==========================================

The loops are all float32 arithmetic without reassociation, so their
results do not depend on the vector width, the thread count or the
machine.  The trainer's float64 forms (:func:`value64`, :func:`slope64`)
use ``math``'s functions; they need not vectorize.
"""

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

__all__ = ["ACTIVATIONS", "SELU_ALPHA", "SELU_LAMBDA", "activation32", "apply_activation", "slope64", "value64"]

ACTIVATIONS = {"relu": 0, "tanh": 1, "linear": 2, "gelu": 3, "silu": 4, "selu": 5, "sigmoid": 6, "sin": 7,
               "gaussian": 8, "erf": 9, "step": 10}
#: SELU's scale and negative-side factor (Klambauer, Unterthiner, Mayr & Hochreiter 2017).
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717

_F = np.float32
_SELU_LAMBDA32 = _F(SELU_LAMBDA)
_SELU_SCALE32 = _F(SELU_LAMBDA * SELU_ALPHA)
_ROUND32 = _F(12582912.0)  # 1.5 * 2^23: x + this - this rounds x to an integer, for |x| < 2^22
_LOG2E = _F(1.4426950408889634)
_LN2_HI = _F(0.693145751953125)  # 16 significant bits: k * _LN2_HI is exact for |k| < 2^8
_LN2_LO = _F(math.log(2) - 0.693145751953125)
_EXP_LOW = _F(-110.0)  # exp below rounds to 0 in float32
_EXP_HIGH = _F(89.0)  # exp above rounds to infinity
#: expm1(r) = r + r^2 (1/2 + r q(r)) on |r| <= ln(2) / 2; q's coefficients, constant first
_EXPM1_Q = tuple(_F(c) for c in (0.1666666716337204, 0.0416666679084301, 0.00833331048488617,
                                 0.0013888853136450052, 0.00019891270494554192))
#: (1 + 2t) erfcx(t) as a polynomial in y = (t - 2) / (t + 2), constant first
_ERFCX = tuple(_F(c) for c in (1.2769784, -0.092763759, -0.16603038, 0.16404937, -0.054220241, -0.008018462,
                               0.0087244073, 0.0012162628, -0.00146355, -0.00035677064, 0.00022101312,
                               6.295093e-05, -2.0043932e-05))
_ERFCX_MAX = _F(30.0)  # erfc(t) is 0 in float32 beyond 10.1; the clamp keeps (t - 2) / (t + 2) finite
#: erf(x) / x = 2 / sqrt(pi) + x^2 Q(x^2) on |x| <= 1: 2 / sqrt(pi) as two float32s, and Q, constant first
_ERF_HI = _F(2.0 / math.sqrt(math.pi))
_ERF_LO = _F(2.0 / math.sqrt(math.pi) - float(_ERF_HI))
_ERF_Q = tuple(_F(c) for c in (-0.37612637877464294, 0.1128375455737114, -0.026861755177378654, 0.005204732064157724,
                               -0.0008163730963133276, 8.386716217501089e-05))
_SQRT_HALF = _F(math.sqrt(0.5))
_GAUSS_MAX = _F(20.0)  # exp(-x^2 / 2) is 0 in float32 beyond it; the clamp keeps x^2 finite
_SILU_LOW = _F(-120.0)  # silu is -0 below it
_ROUND64 = 6755399441055744.0  # 1.5 * 2^52
_INV_PI = 1.0 / math.pi
_PI_PARTS = (3.141592653589793, 1.2246467991473532e-16, -2.9947698097183397e-33)  # pi = sum, to ~160 bits
#: sin(r) / r as a polynomial in r^2 on |r| <= pi / 2 + 2^-18, constant first
_SIN = (0.9999999999999498, -0.1666666666646694, 0.008333333320371686, -0.00019841266685400525,
        2.755695308802037e-06, -2.5030274419410794e-08, 1.5411302785449e-10)


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (``llvm.fma``), for three float32 or three float64 values."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        t = context.get_value_type(signature.return_type)
        name = "llvm.fma.f32" if signature.return_type == types.float32 else "llvm.fma.f64"
        return builder.call(cgutils.get_or_insert_function(builder.module, ir.FunctionType(t, [t, t, t]), name), args)

    return a(a, b, c), codegen


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose IEEE bits are the int32 ``bits``."""
    if bits != types.int32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@numba.njit(inline="always")
def _horner(coefficients, x):
    """``sum_i coefficients[i] x^i`` by Horner's rule with FMAs."""
    acc = coefficients[-1]
    for i in range(len(coefficients) - 2, -1, -1):
        acc = _fma(acc, x, coefficients[i])
    return acc


@numba.njit(inline="always")
def _exp_parts(a, tail):
    """``(p, s1, s2)`` with ``exp(a + tail) = s1 s2 (1 + p)``, s1 and s2 powers of 2 and ``p = expm1(r)``.

    ``a`` is clamped to [-110, 89]; ``tail`` is a correction far below
    ``a``'s ulp (the low half of a split square).
    """
    a = min(max(a, _EXP_LOW), _EXP_HIGH)
    kf = (a * _LOG2E + _ROUND32) - _ROUND32
    r = _fma(kf, -_LN2_HI, a)
    r = _fma(kf, -_LN2_LO, r) + tail
    p = _fma(r * r, _fma(r, _horner(_EXPM1_Q, r), _F(0.5)), r)
    k = np.int32(kf)
    k1 = np.int32(k >> np.int32(1))
    s1 = _float32_from_bits(np.int32((k1 + np.int32(127)) << np.int32(23)))
    s2 = _float32_from_bits(np.int32((k - k1 + np.int32(127)) << np.int32(23)))
    return p, s1, s2


@numba.njit(inline="always")
def _exp_scaled(a, tail):
    """``(s, q)`` with ``exp(a + tail) = s q``, s a power of 2 and q >= 2^-80 (normal) for a >= -110.

    A product with ``exp`` that lands near or below the smallest normal
    float32 loses no bits to a subnormal intermediate when it multiplies
    by ``s`` last.
    """
    p, s1, s2 = _exp_parts(a, tail)
    return s1, _fma(s2, p, s2)


@numba.njit(inline="always")
def _exp_neg_square(x, scale):
    """:func:`_exp_scaled` of ``-scale x^2`` for scale 1 or 1/2, x^2 split exactly into two floats (|x| <= 20)."""
    x = min(max(x, -_GAUSS_MAX), _GAUSS_MAX)
    hi = x * x
    lo = _fma(x, x, -hi)
    return _exp_scaled(-scale * hi, -scale * lo)


@numba.njit(inline="always")
def _erfcx(t):
    """``exp(t^2) erfc(t)`` for t >= 0 (clamped to 30)."""
    t = min(t, _ERFCX_MAX)
    return _horner(_ERFCX, (t - _F(2.0)) / (t + _F(2.0))) / _fma(_F(2.0), t, _F(1.0))


@numba.njit(inline="always", fastmath=True)
def _tanh32(x):
    """float32 tanh as a rational minimax approximation (within 6 ulp of tanh; vectorizes)."""
    c = np.float32(7.90531110763549805)  # beyond this, tanh rounds to +-1 in float32
    x = min(max(x, -c), c)
    x2 = x * x
    p = x2 * np.float32(-2.76076847742355e-16) + np.float32(2.00018790482477e-13)
    p = x2 * p + np.float32(-8.60467152213735e-11)
    p = x2 * p + np.float32(5.12229709037114e-08)
    p = x2 * p + np.float32(1.48572235717979e-05)
    p = x2 * p + np.float32(6.37261928875436e-04)
    p = x2 * p + np.float32(4.89352455891786e-03)
    q = x2 * np.float32(1.19825839466702e-06) + np.float32(1.18534705686654e-04)
    q = x2 * q + np.float32(2.26843463243900e-03)
    q = x2 * q + np.float32(4.89352518554385e-03)
    return x * p / q


@numba.njit(inline="always")
def _gelu32(x):
    """``x Phi(x)``, Phi by ``erfc``: ``Phi(x) = h`` for x < 0 and ``1 - h`` else, ``h = erfc(|x| / sqrt 2) / 2``."""
    x = max(x, -_GAUSS_MAX)
    s, q = _exp_neg_square(x, _F(0.5))
    half_erfcx = _F(0.5) * _erfcx(abs(x) * _SQRT_HALF)
    return s * (x * (q * half_erfcx)) if x < _F(0.0) else x * (_F(1.0) - s * (q * half_erfcx))


@numba.njit(inline="always")
def _logistic_parts(x):
    """``(s, q, sig)``: ``e = exp(-|x|) = s q`` and ``sig = 1 / (1 + e)``."""
    s, q = _exp_scaled(-abs(x), _F(0.0))
    return s, q, _F(1.0) / (_F(1.0) + s * q)


@numba.njit(inline="always")
def _sigmoid32(x):
    """``1 / (1 + e)`` for x >= 0, ``e / (1 + e)`` else, ``e = exp(-|x|)``: no cancellation on either side."""
    s, q, sig = _logistic_parts(x)
    return sig if x >= _F(0.0) else s * (q * sig)


@numba.njit(inline="always")
def _silu32(x):
    """``x sigmoid(x)`` (x clamped below at -120, where it is -0 in float32)."""
    x = max(x, _SILU_LOW)
    s, q, sig = _logistic_parts(x)
    return x * sig if x >= _F(0.0) else s * (x * (q * sig))


@numba.njit(inline="always")
def _selu32(x):
    """``lambda x`` for x > 0, else ``lambda alpha expm1(x)`` with ``expm1 = s p + (s - 1)``, ``s = 2^k``."""
    p, s1, s2 = _exp_parts(min(x, _F(0.0)), _F(0.0))
    s = s1 * s2
    negative = _SELU_SCALE32 * _fma(s, p, s - _F(1.0))
    return _SELU_LAMBDA32 * x if x > _F(0.0) else negative


@numba.njit(inline="always")
def _sin32(x):
    """``sin(x)``: x - k pi against a three-part pi in float64, then an odd float64 polynomial; sign (-1)^k."""
    xd = np.float64(x)
    k = (xd * _INV_PI + _ROUND64) - _ROUND64
    r = _fma(k, -_PI_PARTS[0], xd)
    r = _fma(k, -_PI_PARTS[1], r)
    r = _fma(k, -_PI_PARTS[2], r)
    odd = abs(k - 2.0 * ((0.5 * k + _ROUND64) - _ROUND64))  # 1.0 when k is odd
    value = r * _horner(_SIN, r * r) * (1.0 - 2.0 * odd)
    return _F(min(max(value, -1.0), 1.0))


@numba.njit(inline="always")
def _gaussian32(x):
    """``exp(-x^2 / 2)``."""
    s, q = _exp_neg_square(x, _F(0.5))
    return s * q


@numba.njit(inline="always")
def _erf32(x):
    """``x (2 / sqrt(pi) + x^2 Q(x^2))`` for |x| <= 1, else ``sign(x) (1 - exp(-x^2) erfcx(|x|))``."""
    a = abs(x)
    small = _fma(x, _ERF_HI, x * _fma(x * x, _horner(_ERF_Q, x * x), _ERF_LO))
    s, q = _exp_neg_square(a, _F(1.0))
    large = _F(1.0) - s * (q * _erfcx(a))
    return small if a <= _F(1.0) else (large if x > _F(0.0) else -large)


@numba.njit(inline="always")
def _step32(x):
    """1 for x > 0, else 0 (NaN gives 0)."""
    return _F(1.0) if x > _F(0.0) else _F(0.0)


def _row_loop(function):
    """A kernel ``(buf, first, last)`` that applies the float32 ``function`` to rows ``first .. last-1`` of buf."""

    @numba.njit(error_model="numpy")  # a division by zero gives inf, not an exception that blocks vectorizing
    def apply(buf, first, last):
        for r in range(first, last):
            for i in range(buf.shape[1]):
                buf[r, i] = function(buf[r, i])

    return apply


(_apply_tanh, _apply_gelu, _apply_silu, _apply_selu, _apply_sigmoid, _apply_sin, _apply_gaussian, _apply_erf,
 _apply_step) = (_row_loop(f) for f in (_tanh32, _gelu32, _silu32, _selu32, _sigmoid32, _sin32, _gaussian32, _erf32,
                                        _step32))


@numba.njit
def _apply_nothing(buf, first, last):
    """The row loop of ReLU (which the dense tile applies) and of linear."""


#: The row loop of every activation code.
_ROW_LOOPS = {0: _apply_nothing, 1: _apply_tanh, 2: _apply_nothing, 3: _apply_gelu, 4: _apply_silu, 5: _apply_selu,
              6: _apply_sigmoid, 7: _apply_sin, 8: _apply_gaussian, 9: _apply_erf, 10: _apply_step}


def apply_activation(buf, first, last, act):
    """Apply activation ``act`` (an :data:`ACTIVATIONS` code) in place to rows ``first .. last-1`` of ``buf``.

    ``buf`` is a C-contiguous float32 matrix.  ReLU and linear do nothing
    here: the dense tile applies ReLU itself.  In a kernel whose ``act`` is
    a compile-time constant (a literal), only that activation's loop is
    compiled; with ``act`` a run-time integer, every activation's is.
    """
    _ROW_LOOPS[act](buf, first, last)


def _apply_any_activation(buf, first, last, act):
    """:func:`apply_activation` in a kernel, ``act`` known only when it runs."""
    if act == 1:
        _apply_tanh(buf, first, last)
    elif act == 3:
        _apply_gelu(buf, first, last)
    elif act == 4:
        _apply_silu(buf, first, last)
    elif act == 5:
        _apply_selu(buf, first, last)
    elif act == 6:
        _apply_sigmoid(buf, first, last)
    elif act == 7:
        _apply_sin(buf, first, last)
    elif act == 8:
        _apply_gaussian(buf, first, last)
    elif act == 9:
        _apply_erf(buf, first, last)
    elif act == 10:
        _apply_step(buf, first, last)


@overload(apply_activation, prefer_literal=True)
def _apply_activation_in_kernels(buf, first, last, act):
    """:func:`apply_activation` in Numba code: one activation's loop for a literal ``act``, else all of them."""
    if not isinstance(act, types.IntegerLiteral):
        return _apply_any_activation
    row_loop = _ROW_LOOPS[act.literal_value]

    def apply(buf, first, last, act):
        row_loop(buf, first, last)

    return apply


@numba.njit(cache=True)
def activation32(x, act):
    """The sampler's float32 activation ``act`` of every value of the 1-d array ``x`` (a new array)."""
    buf = np.empty((1, x.shape[0]), dtype=np.float32)
    buf[0] = x
    if act == 0:
        for i in range(x.shape[0]):
            buf[0, i] = max(buf[0, i], _F(0.0))
    apply_activation(buf, 0, 1, act)
    return buf[0]


@numba.njit(inline="always")
def value64(z, act):
    """The trainer's float64 activation ``act`` at ``z``."""
    if act == 0:
        return z if z > 0.0 else 0.0
    if act == 1:
        return math.tanh(z)
    if act == 3:
        return 0.5 * z * math.erfc(-z * math.sqrt(0.5))
    if act == 4:
        return z / (1.0 + math.exp(-z))
    if act == 5:
        return SELU_LAMBDA * z if z > 0.0 else SELU_LAMBDA * SELU_ALPHA * math.expm1(z)
    if act == 6:
        return 1.0 / (1.0 + math.exp(-z))
    if act == 7:
        return math.sin(z)
    if act == 8:
        return math.exp(-0.5 * z * z)
    if act == 9:
        return math.erf(z)
    if act == 10:
        return 1.0 if z > 0.0 else 0.0
    return z


@numba.njit(inline="always")
def slope64(z, h, act):
    """Derivative of activation ``act`` at ``z``, given ``h = value64(z, act)``.

    relu'(0) = 0 and selu'(0) = lambda alpha (the left-hand slopes); step's is 0.
    """
    if act == 0:
        return 1.0 if z > 0.0 else 0.0
    if act == 1:
        return 1.0 - h * h
    if act == 3:
        return 0.5 * math.erfc(-z * math.sqrt(0.5)) + z * math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    if act == 4:
        s = 1.0 / (1.0 + math.exp(-z))
        return s + h * (1.0 - s)
    if act == 5:
        return SELU_LAMBDA if z > 0.0 else h + SELU_LAMBDA * SELU_ALPHA
    if act == 6:
        return h * (1.0 - h)
    if act == 7:
        return math.cos(z)
    if act == 8:
        return -z * h
    if act == 9:
        return 2.0 / math.sqrt(math.pi) * math.exp(-z * z)
    if act == 10:
        return 0.0
    return 1.0
