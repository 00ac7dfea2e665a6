"""Slow, obviously correct references for the fast kernels (DESIGN.md section 2).

Everything here is plain Python or plain float64 NumPy, written for clarity
rather than speed, so that the Numba kernels can be checked against it.

Conventions (binding, DESIGN.md section 2):

* input i of {0,1}^n is the n-bit binary expansion of i, most significant bit
  first;
* a function is the m-bit string whose character i is f(input i); packed, bit i
  lives in 64-bit word i // 64 at position i % 64;
* a network's flat parameter vector holds, layer by layer, the weight matrix
  (fan_in x fan_out, row-major) and then, with biases, the bias vector; the
  output bit is 1 iff the final pre-activation is > 0.
"""

import math

import numpy as np
from scipy import special

__all__ = [
    "binary_inputs",
    "split_params",
    "reference_forward",
    "reference_forward_with_bound",
    "reference_pack",
    "reference_function_text",
    "reference_unpack",
    "exact_normal_tail",
    "reference_consistent_rows",
    "reference_disagreements",
    "FLOAT32_UNIT_ROUNDOFF",
]

#: Unit roundoff of IEEE float32 (half an ulp of 1.0).
FLOAT32_UNIT_ROUNDOFF = 2.0 ** -24


def binary_inputs(n):
    """The 2**n inputs of {0,1}^n in binary counting order, MSB first.

    Returns
    -------
    X : ndarray of float64, shape (2**n, n)
        Row i is the binary expansion of i; ``X[1] == [0, ..., 0, 1]``.
    """
    rows = []
    for i in range(2 ** n):
        row = []
        for position in range(n):
            shift = n - 1 - position  # the first column is the most significant bit
            row.append(float((i >> shift) & 1))
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(2 ** n, n)


def split_params(params_row, d, widths, bias):
    """Cut a flat parameter vector into per-layer (W, b) pairs, in float64.

    W has shape (fan_in, fan_out) (read row-major from the vector); b has
    shape (fan_out,) and is all zeros when ``bias`` is false.
    """
    params = np.asarray(params_row, dtype=np.float64)
    sizes = [int(d)] + [int(w) for w in widths] + [1]
    layers = []
    offset = 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        W = params[offset:offset + fan_in * fan_out].reshape(fan_in, fan_out)
        offset += fan_in * fan_out
        if bias:
            b = params[offset:offset + fan_out]
            offset += fan_out
        else:
            b = np.zeros(fan_out)
        layers.append((W, b))
    if offset != params.shape[0]:
        raise ValueError(f"parameter vector has {params.shape[0]} entries, the architecture needs {offset}")
    return layers


def _activation(name):
    """(the activation in float64, its Lipschitz constant); step's is None: it jumps at 0."""
    lam, alpha = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
    table = {
        "relu": (lambda a: np.maximum(a, 0.0), 1.0),
        "tanh": (np.tanh, 1.0),
        "linear": (lambda a: a, 1.0),
        "gelu": (lambda a: a * special.ndtr(a), 1.13),  # max of Phi(x) + x phi(x): 1.1289
        "silu": (lambda a: a * special.expit(a), 1.1),  # 1.0998
        "selu": (lambda a: np.where(a > 0, lam * a, lam * alpha * np.expm1(np.minimum(a, 0.0))), lam * alpha),
        "sigmoid": (special.expit, 0.25),
        "sin": (np.sin, 1.0),
        "gaussian": (lambda a: np.exp(-0.5 * a * a), 0.61),  # exp(-1/2)
        "erf": (special.erf, 1.13),  # 2 / sqrt(pi)
        "step": (lambda a: (a > 0).astype(np.float64), None),
    }
    if name not in table:
        raise ValueError(f"unknown activation {name!r}")
    return table[name]


def reference_forward(params_row, X, widths, bias, activation_name):
    """Float64 forward pass of one network on every input.

    Parameters
    ----------
    params_row : array_like, shape (P,)
        Flat parameter vector in the layout described above.
    X : array_like, shape (m, d)
        Inputs, one per row.
    widths : sequence of int
        Hidden widths (empty for the perceptron).
    bias : bool
    activation_name : str
        One of pysimbias's activations (``pysimbias.kernels.activations.ACTIVATIONS``).

    Returns
    -------
    z : ndarray of float64, shape (m,)
        Pre-activation of the output unit for every input.
    """
    return reference_forward_with_bound(params_row, X, widths, bias, activation_name)[0]


def reference_forward_with_bound(params_row, X, widths, bias, activation_name):
    """Float64 forward pass plus a bound on a float32 evaluation's error.

    The bound is the standard running error bound for dot products
    (Higham, *Accuracy and Stability of Numerical Algorithms*, 3.1): a float32
    sum ``b + sum_a w_a h_a`` over ``k`` terms (fused multiply-adds, any
    summation order) is off by at most ``gamma_{k+1} * (|b| + sum_a |w_a h_a|)``
    with ``gamma_k = k u / (1 - k u)``, ``u = 2**-24``.  Errors in the inputs
    ``h_a`` of a layer are carried along through ``|W|``, scaled by the
    activation's Lipschitz constant, and each activation adds a few ulps of
    its own.  The step function jumps: where the pre-activation is within
    its error of 0, its output may be off by 1.

    Returns
    -------
    z : ndarray of float64, shape (m,)
        Output pre-activations, as :func:`reference_forward`.
    bound : ndarray of float64, shape (m,)
        An upper bound on ``|z32 - z|`` for a float32 evaluation ``z32`` of the
        same (float32) parameters; a sign disagreement is legitimate only
        where ``|z| <= bound``.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError("X must be a 2-d (m, d) array")
    act, lipschitz = _activation(activation_name)
    u = FLOAT32_UNIT_ROUNDOFF
    layers = split_params(params_row, X.shape[1], widths, bias)
    h = X                    # float64 activations, (m, fan_in)
    err = np.zeros_like(X)   # bound on the float32 activations' errors
    for index, (W, b) in enumerate(layers):
        fan_in = W.shape[0]
        gamma = (fan_in + 1) * u / (1.0 - (fan_in + 1) * u)
        a = h @ W + b
        magnitude = np.abs(h) @ np.abs(W) + np.abs(b)
        # Error carried in from h, rounding of the products and sums, and the
        # slack that the float32 h's own size (|h| + err) adds to the rounding.
        a_err = err @ np.abs(W) + gamma * (magnitude + err @ np.abs(W))
        if index == len(layers) - 1:
            return a[:, 0], a_err[:, 0]
        h = act(a)
        # The float32 activations are within 6 ulp (16 u |h| is generous), or
        # 2^-148 where the value is below the normal range.  A ReLU whose input is certainly <= 0
        # in float32 too outputs an exact 0; a step is exact away from 0.
        if activation_name == "relu":
            err = np.where(a + a_err <= 0.0, 0.0, a_err)
        elif activation_name == "linear":
            err = a_err
        elif activation_name == "step":
            err = ((np.abs(a) <= a_err) & (a_err > 0)).astype(np.float64)
        else:
            err = lipschitz * a_err + np.maximum(16.0 * u * np.abs(h), np.where(h != 0.0, 2.0 ** -148, 0.0))
    raise AssertionError("unreachable")


def reference_pack(bits_bool_1d):
    """Pack a 1-d sequence of truth values into 64-bit words, in plain Python.

    Returns
    -------
    words : list of int
        ``ceil(m / 64)`` Python ints in [0, 2**64); bit i of the function is
        bit ``i % 64`` of ``words[i // 64]``.
    """
    bits = [bool(b) for b in bits_bool_1d]
    words = [0] * ((len(bits) + 63) // 64)
    for i, bit in enumerate(bits):
        if bit:
            words[i // 64] += 2 ** (i % 64)
    return words


def reference_function_text(bits):
    """The '0'/'1' text of a function, character i = f(input i)."""
    return "".join("1" if bool(b) else "0" for b in bits)


def reference_unpack(words, m):
    """Inverse of :func:`reference_pack`: the m bits of a list of words."""
    return [(int(words[i // 64]) >> (i % 64)) & 1 for i in range(m)]


def reference_consistent_rows(functions, target, inputs):
    """Indices of the functions (lists of bits) that equal ``target`` on every input index of ``inputs``."""
    return [r for r, bits in enumerate(functions) if all(bits[i] == target[i] for i in inputs)]


def reference_disagreements(functions, target, inputs):
    """For each function (a list of bits), the number of input indices of ``inputs`` where it differs from ``target``."""
    return [sum(1 for i in inputs if bits[i] != target[i]) for bits in functions]


def exact_normal_tail(x):
    """P(|Z| > x) for a standard normal Z."""
    return math.erfc(x / math.sqrt(2.0))


_GAMMA = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1


def reference_mix64(z):
    """SplitMix64's finalizer on a Python integer."""
    z &= _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def reference_draw_halves(seed, count):
    """The low and high 32-bit halves (radius and angle integers) of draws 0 .. count-1 of stream ``seed``."""
    draws = [reference_mix64(int(seed) + (c + 1) * _GAMMA) for c in range(count)]
    return (np.array([d & 0xFFFFFFFF for d in draws], dtype=np.int64),
            np.array([d >> 32 for d in draws], dtype=np.int64))


def reference_normal_pair(k1, k2):
    """Generator version 2 in float64: ``r cos(theta), r sin(theta)`` (see docs/conventions.md).

    ``r = sqrt(-2 log((k1 + 1/2) 2^-32))`` (log1p of the exact complement for
    k1 >= 2^31) and ``theta = 2 pi (k2 + 1/2) 2^-32``, taken as j quarter
    turns plus ``a = (d + 1/2) 2 pi 2^-32`` with ``k2 = 2^30 j + d``,
    -2^29 <= d < 2^29, as the kernel reduces it.
    """
    k1, k2 = np.asarray(k1, dtype=np.int64), np.asarray(k2, dtype=np.int64)
    log_u = np.where(k1 < 2 ** 31, np.log((k1 + 0.5) / 2.0 ** 32), np.log1p(-(2 ** 32 - 1 - k1 + 0.5) / 2.0 ** 32))
    r = np.sqrt(-2.0 * log_u)
    shifted = (k2 + 2 ** 29) % 2 ** 32
    j, d = shifted >> 30, (shifted & (2 ** 30 - 1)) - 2 ** 29
    a = (d + 0.5) * (2.0 * math.pi / 2.0 ** 32)
    turns = [(np.cos(a), np.sin(a)), (-np.sin(a), np.cos(a)), (-np.cos(a), -np.sin(a)), (np.sin(a), -np.cos(a))]
    cos_theta = np.select([j == q for q in range(4)], [c for c, _ in turns])
    sin_theta = np.select([j == q for q in range(4)], [s for _, s in turns])
    return r * cos_theta, r * sin_theta


def reference_normals(seed, n):
    """Values 0 .. n-1 of stream ``seed`` in float64: value 2p is draw p's cosine value, 2p + 1 its sine value."""
    x, y = reference_normal_pair(*reference_draw_halves(seed, (n + 1) // 2))
    return np.column_stack([x, y]).ravel()[:n]
