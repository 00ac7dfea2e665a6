"""The ``nngp`` prior: the infinite-width limit of the ``mlp`` (its neural-network Gaussian process).

A network with Gaussian weights ~ N(0, sigma_w^2 / fan_in) and biases
~ N(0, sigma_b^2) tends, as every hidden layer gets wider, to a Gaussian
process whose covariance follows the layers (Neal 1996; Lee et al. 2018):

    K^0(x, x') = sigma_b^2 + sigma_w^2 x.x' / d
    K^{l+1}(x, x') = sigma_b^2 + sigma_w^2 E[phi(u) phi(v)],
        (u, v) ~ N(0, [[K^l(x, x), K^l(x, x')], [K^l(x, x'), K^l(x', x')]])

(sigma_b = 0 without biases).  With L hidden layers the output unit's
pre-activation is the Gaussian process with covariance K^L, and a sample is
its sign on the encoded inputs.  The expectation E[phi(u) phi(v)] has a closed
form for relu, erf, linear, step, sin and gaussian (:data:`CLOSED_FORMS`);
every other activation (tanh, gelu, silu, selu, sigmoid) is integrated with
a tensor Gauss–Hermite rule of :data:`HERMITE_POINTS` nodes
per axis (:func:`gauss_hermite_expectation`), so a new activation needs only
its NumPy function in :data:`ACTIVATION_FUNCTIONS`.

The kernel is computed once per run in NumPy; the draws reuse the ``gp``
prior's Cholesky factorisation and kernel
(:func:`~pysimbias.priors.metric.cholesky_with_jitter`,
:func:`~pysimbias.kernels.priors.gp_keys`).
"""

import math

import numpy as np
from scipy.special import erf, expit, ndtr

from ..errors import InvalidParameterError
from ..kernels.activations import SELU_ALPHA, SELU_LAMBDA
from ..kernels.bits import n_words
from ..kernels.priors import gp_keys
from .metric import MAX_GP_INPUTS, cholesky_with_jitter
from .registry import register_prior

__all__ = ["ACTIVATION_FUNCTIONS", "CLOSED_FORMS", "HERMITE_POINTS", "NNGPPrior", "expected_products",
           "gauss_hermite_expectation", "nngp_kernel"]

#: Gauss–Hermite nodes per axis for activations without a closed form.
HERMITE_POINTS = 128
# Triples (K_xx, K_x'x', K_xx') integrated at once (bounds the work arrays).
_TRIPLE_BLOCK = 1 << 14


def _relu_expectation(kxx, kyy, kxy):
    """E[relu(u) relu(v)] = sqrt(K_xx K_yy) (sin t + (pi - t) cos t) / (2 pi), t the angle of K (Cho & Saul 2009)."""
    norms = np.sqrt(kxx * kyy)
    cos = np.clip(np.divide(kxy, norms, out=np.ones_like(norms), where=norms > 0), -1.0, 1.0)
    theta = np.arccos(cos)
    return norms * (np.sin(theta) + (math.pi - theta) * cos) / (2 * math.pi)


def _erf_expectation(kxx, kyy, kxy):
    """E[erf(u) erf(v)] = (2 / pi) arcsin(2 K_xy / sqrt((1 + 2 K_xx)(1 + 2 K_yy))) (Williams 1997)."""
    return (2 / math.pi) * np.arcsin(np.clip(2 * kxy / np.sqrt((1 + 2 * kxx) * (1 + 2 * kyy)), -1.0, 1.0))


def _linear_expectation(kxx, kyy, kxy):
    """E[u v] = K_xy."""
    return kxy + 0.0 * (kxx + kyy)


def _step_expectation(kxx, kyy, kxy):
    """E[step(u) step(v)] = P(u > 0, v > 0) = (pi - t) / (2 pi), t the angle of K (arc-cosine kernel of order 0).

    An input of variance 0 has u = 0 and step(0) = 0.
    """
    norms = np.sqrt(kxx * kyy)
    cos = np.clip(np.divide(kxy, norms, out=np.ones_like(norms), where=norms > 0), -1.0, 1.0)
    return np.where(norms > 0, (math.pi - np.arccos(cos)) / (2 * math.pi), 0.0)


def _sin_expectation(kxx, kyy, kxy):
    """E[sin u sin v] = (E cos(u - v) - E cos(u + v)) / 2 = exp(-(K_xx + K_yy) / 2) sinh(K_xy).

    Evaluated as the difference of two exponentials whose exponents are <= 0
    (|K_xy| <= (K_xx + K_yy) / 2), so no large variance overflows it.
    """
    mean = 0.5 * (kxx + kyy)
    return 0.5 * (np.exp(kxy - mean) - np.exp(-kxy - mean))


def _gaussian_expectation(kxx, kyy, kxy):
    """E[exp(-u^2 / 2) exp(-v^2 / 2)] = det(I + K)^(-1/2) = ((1 + K_xx)(1 + K_yy) - K_xy^2)^(-1/2)."""
    return 1.0 / np.sqrt((1 + kxx) * (1 + kyy) - kxy * kxy)


#: activation -> E[phi(u) phi(v)] as a function of (K_xx, K_yy, K_xy), where it has a closed form
CLOSED_FORMS = {"relu": _relu_expectation, "erf": _erf_expectation, "linear": _linear_expectation,
                "step": _step_expectation, "sin": _sin_expectation, "gaussian": _gaussian_expectation}
#: activation -> its NumPy function, for the Gauss–Hermite rule (and for checking the closed forms)
ACTIVATION_FUNCTIONS = {
    "relu": lambda u: np.maximum(u, 0.0),
    "tanh": np.tanh,
    "linear": lambda u: u,
    "gelu": lambda u: u * ndtr(u),
    "silu": lambda u: u * expit(u),
    "selu": lambda u: np.where(u > 0, SELU_LAMBDA * u, SELU_LAMBDA * SELU_ALPHA * np.expm1(np.minimum(u, 0.0))),
    "sigmoid": expit,
    "sin": np.sin,
    "gaussian": lambda u: np.exp(-0.5 * u * u),
    "erf": erf,
    "step": lambda u: (u > 0).astype(np.float64),
}


def gauss_hermite_expectation(phi, kxx, kyy, kxy, points=HERMITE_POINTS):
    """E[phi(u) phi(v)] for (u, v) ~ N(0, [[kxx, kxy], [kxy, kyy]]), by a tensor Gauss–Hermite rule.

    With u = sqrt(kxx) z1 and v = sqrt(kyy) (rho z1 + sqrt(1 - rho^2) z2) for
    independent standard normals z1, z2, the expectation is a double integral
    against the standard normal density, which the probabilists' Hermite rule
    of ``points`` nodes per axis integrates exactly for polynomials of degree
    below 2 * points.

    Parameters
    ----------
    phi : callable
        The activation, applied elementwise to NumPy arrays.
    kxx, kyy, kxy : array_like of float64, broadcastable
        Variances and covariance (kxx, kyy >= 0).
    points : int

    Returns
    -------
    ndarray of float64
    """
    kxx, kyy, kxy = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (kxx, kyy, kxy)))
    nodes, weights = np.polynomial.hermite_e.hermegauss(int(points))
    weights = weights / math.sqrt(2 * math.pi)
    sx, sy = np.sqrt(kxx), np.sqrt(kyy)
    norms = sx * sy
    rho = np.clip(np.divide(kxy, norms, out=np.zeros_like(norms), where=norms > 0), -1.0, 1.0)
    rest = np.sqrt(1.0 - rho * rho)
    total = np.zeros(kxx.shape)
    for z1, w1 in zip(nodes, weights):
        u = phi(sx * z1)
        v = phi(sy[..., None] * (rho[..., None] * z1 + rest[..., None] * nodes))
        total += w1 * u * (v @ weights)
    return total


def expected_products(activation, kxx, kyy, kxy):
    """E[phi(u) phi(v)] for the named activation: its closed form, else Gauss–Hermite.

    Raises InvalidParameterError for an activation with neither.
    """
    if activation in CLOSED_FORMS:
        return CLOSED_FORMS[activation](kxx, kyy, kxy)
    if activation not in ACTIVATION_FUNCTIONS:
        raise InvalidParameterError("activation", f"nngp has no kernel for activation {activation!r}; it knows "
                                                  f"{', '.join(sorted(ACTIVATION_FUNCTIONS))}")
    return gauss_hermite_expectation(ACTIVATION_FUNCTIONS[activation], kxx, kyy, kxy)


def _layer(activation, kernel):
    """E[phi(u) phi(v)] over every pair of inputs; the numerical rule runs once per distinct (K_xx, K_yy, K_xy)."""
    diag = np.diag(kernel)
    if activation in CLOSED_FORMS:
        return expected_products(activation, diag[:, None], diag[None, :], kernel)
    rows, cols = np.triu_indices(kernel.shape[0])
    triples, index = np.unique(np.stack([diag[rows], diag[cols], kernel[rows, cols]], axis=1), axis=0,
                               return_inverse=True)
    values = np.concatenate([expected_products(activation, *block.T)
                             for block in np.array_split(triples, max(1, -(-len(triples) // _TRIPLE_BLOCK)))])
    out = np.empty_like(kernel)
    out[rows, cols] = values[index.ravel()]
    out[cols, rows] = out[rows, cols]
    return out


def nngp_kernel(points, hidden_layers, activation, sigma_w, sigma_b):
    """The NNGP covariance K^L of the output pre-activation on the points (float64, m x m).

    Parameters
    ----------
    points : array_like, shape (m, d)
        The encoded inputs.
    hidden_layers : int
        L, the number of hidden layers (0: the perceptron's kernel K^0).
    activation : str
        Hidden-layer activation.
    sigma_w, sigma_b : float
        Weight and bias scales (``sigma_b = 0`` for a network without biases).
    """
    points = np.asarray(points, dtype=np.float64)
    sw2, sb2 = float(sigma_w) ** 2, float(sigma_b) ** 2
    kernel = sb2 + sw2 * (points @ points.T) / points.shape[1]
    for _ in range(int(hidden_layers)):
        kernel = sb2 + sw2 * _layer(activation, kernel)
    return kernel


class NNGPPrior:
    """Sign of a draw of the ``mlp``'s neural-network Gaussian process on the encoded points.

    The depth is the number of ``--widths`` (their values do not matter in
    the limit; ``--widths ''`` gives the perceptron's kernel).  An input whose
    variance is 0 (the origin of a bias-free network) always outputs 0, as
    the network's Heaviside output does.
    """

    def __init__(self, config, encoding):
        self.m = encoding.m
        self.n_words = n_words(self.m)
        if self.m > MAX_GP_INPUTS:
            raise InvalidParameterError("prior", f"nngp needs an m x m covariance; use at most {MAX_GP_INPUTS} "
                                                 f"inputs (this encoding has {self.m})")
        if config.law != "gaussian":
            raise InvalidParameterError(
                "law", "nngp is the limit of Gaussian-law networks: with uniform weights the first layer sums only "
                       "d inputs, so its pre-activations are not Gaussian and no Gaussian process is their limit")
        self.hidden_layers = len(config.widths)
        self.activation = config.activation if self.hidden_layers else "linear"
        sigma_b = float(config.sigma_b) if config.bias else 0.0
        self.kernel = nngp_kernel(encoding.points, self.hidden_layers, self.activation, config.sigma_w, sigma_b)
        try:
            self.chol, self.jitter = cholesky_with_jitter(self.kernel)
        except InvalidParameterError:
            raise InvalidParameterError("prior", "the NNGP covariance is not positive definite even with jitter "
                                                 "1e-4; change --sigma-w, --sigma-b or the encoding") from None
        self.chol[np.diag(self.kernel) <= 0.0] = 0.0

    def sample_chunk(self, key, count):
        """Packed signs of the first ``count`` NNGP draws of chunk ``key``."""
        return gp_keys(key[0], key[1], 0, int(count), self.chol)

    def describe(self):
        """Manifest entry: depth, activation, how the layer expectation is computed, and the jitter used."""
        rule = "closed form" if self.activation in CLOSED_FORMS else f"Gauss-Hermite, {HERMITE_POINTS}^2 nodes"
        return {"name": "nngp", "hidden_layers": self.hidden_layers, "activation": self.activation,
                "expectation": rule, "jitter": self.jitter}


register_prior("nngp", NNGPPrior, "infinite-width limit of the mlp (--widths give the depth): sign of its NNGP draw",
               params=("widths", "activation", "bias", "law", "sigma_w", "sigma_b"))
