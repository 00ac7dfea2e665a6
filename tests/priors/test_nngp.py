"""The nngp prior: kernels against closed forms and wide networks, the perceptron identity, the width limit."""

import math

import numpy as np
import pytest
from scipy import stats

import pysimbias
from pysimbias import InvalidParameterError
from pysimbias.inputs.encodings import make_encoding
from pysimbias.priors.nngp import (ACTIVATION_FUNCTIONS, CLOSED_FORMS, expected_products, gauss_hermite_expectation,
                                   nngp_kernel)


def _covariances(n=3):
    """(K_xx, K_yy, K_xy) grids from a first-layer kernel on {0,1}^n, plus extreme correlations."""
    points = make_encoding("binary", n).points
    kernel = nngp_kernel(points, 0, "linear", 1.3, 0.7)
    diag = np.diag(kernel)
    kxx, kyy = np.meshgrid(diag, diag, indexing="ij")
    return (np.r_[kxx.ravel(), 2.0, 2.0, 0.5], np.r_[kyy.ravel(), 2.0, 2.0, 0.0],
            np.r_[kernel.ravel(), 2.0, -2.0, 0.0])


@pytest.mark.parametrize("activation, tolerance", [("erf", 1e-9), ("linear", 1e-12), ("relu", 1e-3), ("sin", 1e-9),
                                                    ("gaussian", 1e-9), ("step", 2e-2)])
def test_closed_forms_against_gauss_hermite(activation, tolerance):
    kxx, kyy, kxy = _covariances()
    closed = CLOSED_FORMS[activation](kxx, kyy, kxy)
    numeric = gauss_hermite_expectation(ACTIVATION_FUNCTIONS[activation], kxx, kyy, kxy, points=128)
    np.testing.assert_allclose(closed, numeric, atol=tolerance)


#: Monte Carlo pairs per covariance in the test below, and its bound in standard errors
MC_PAIRS = 400_000
MC_Z = 5.0


@pytest.mark.parametrize("activation", sorted(ACTIVATION_FUNCTIONS))
def test_expectations_against_monte_carlo(activation):
    """E[phi(u) phi(v)] (closed form or Gauss–Hermite) against the mean over Gaussian pairs, within MC_Z errors."""
    rng = np.random.default_rng(sorted(ACTIVATION_FUNCTIONS).index(activation))
    phi = ACTIVATION_FUNCTIONS[activation]
    for kxx, kyy, kxy in ((1.0, 1.0, 0.5), (2.5, 0.7, -0.9), (0.3, 4.0, 1.0), (1.7, 1.7, 1.7), (3.0, 1.0, 0.0)):
        z1, z2 = rng.standard_normal((2, MC_PAIRS))
        rho = kxy / math.sqrt(kxx * kyy)
        u, v = math.sqrt(kxx) * z1, math.sqrt(kyy) * (rho * z1 + math.sqrt(1 - rho * rho) * z2)
        products = phi(u) * phi(v)
        error = products.std() / math.sqrt(MC_PAIRS)
        exact = expected_products(activation, kxx, kyy, kxy)
        assert abs(exact - products.mean()) <= MC_Z * error + 1e-12, (kxx, kyy, kxy)


def test_step_sin_gaussian_closed_form_special_values():
    # step: P(u > 0) = 1/2 on the diagonal, 1/4 for independent, 0 for opposite; 0 for a variance-0 input
    np.testing.assert_allclose(CLOSED_FORMS["step"](np.array([2.0, 2.0, 2.0, 0.0]), np.array([2.0, 3.0, 2.0, 1.0]),
                                                    np.array([2.0, 0.0, -2.0, 0.0])), [0.5, 0.25, 0.0, 0.0],
                               atol=1e-15)
    # sin: E[sin(u)^2] = (1 - exp(-2K)) / 2; gaussian: E[exp(-u^2)] = (1 + 2K)^(-1/2)
    np.testing.assert_allclose(CLOSED_FORMS["sin"](0.8, 0.8, 0.8), (1 - math.exp(-1.6)) / 2)
    np.testing.assert_allclose(CLOSED_FORMS["gaussian"](0.8, 0.8, 0.8), 1 / math.sqrt(2.6))
    # huge variances (sigma_w = 40): E[sin(u)^2] -> 1/2, not inf * 0
    np.testing.assert_allclose(CLOSED_FORMS["sin"](1600.0, 1600.0, 1600.0), 0.5)


def test_relu_closed_form_special_values():
    # equal inputs: E[relu(u)^2] = K/2; opposite inputs: 0; independent: (sqrt(K)/sqrt(2 pi))^2
    np.testing.assert_allclose(CLOSED_FORMS["relu"](3.0, 3.0, 3.0), 1.5)
    np.testing.assert_allclose(CLOSED_FORMS["relu"](3.0, 3.0, -3.0), 0.0, atol=1e-15)
    np.testing.assert_allclose(CLOSED_FORMS["relu"](3.0, 2.0, 0.0), math.sqrt(6.0) / (2 * math.pi))


def _wide_network_kernel(points, hidden_layers, activation, sigma_w, sigma_b, width, rng):
    """sigma_b^2 + sigma_w^2 phi(h) phi(h)^T / width of one random network's last hidden layer."""
    phi = ACTIVATION_FUNCTIONS[activation]
    layer = np.asarray(points, dtype=np.float64)
    for _ in range(hidden_layers):
        fan_in = layer.shape[1]
        pre = layer @ rng.normal(0.0, sigma_w / math.sqrt(fan_in), (fan_in, width)) + rng.normal(0.0, sigma_b, width)
        layer = phi(pre)
    return sigma_b ** 2 + sigma_w ** 2 * (layer @ layer.T) / width


@pytest.mark.parametrize("activation", sorted(ACTIVATION_FUNCTIONS))
@pytest.mark.parametrize("hidden_layers", [1, 2])
def test_kernel_against_wide_networks(activation, hidden_layers):
    """Monte Carlo over the units of very wide layers: the error shrinks like 1/sqrt(width)."""
    points = make_encoding("pm1", 3).points
    width = 6000
    estimate = _wide_network_kernel(points, hidden_layers, activation, 1.2, 0.6, width, np.random.default_rng(5))
    exact = nngp_kernel(points, hidden_layers, activation, 1.2, 0.6)
    assert np.abs(estimate - exact).max() < 8 * np.abs(exact).max() / math.sqrt(width)


def test_no_hidden_layer_kernel_is_the_perceptrons():
    points = make_encoding("binary", 4).points
    kernel = nngp_kernel(points, 0, "relu", 1.5, 0.5)
    np.testing.assert_array_equal(kernel, 0.25 + 2.25 * (points @ points.T) / 4)


def _chi_square_pvalue(first, second):
    """Two-sample chi-square test of equal P(f), rare functions pooled."""
    keys = {}
    for column, run in enumerate((first, second)):
        for key, count in zip(map(bytes, run.histogram.keys), run.histogram.counts):
            keys.setdefault(key, [0, 0])[column] += count
    rows = np.array(list(keys.values()))
    common = rows.sum(axis=1) >= 20
    table = np.vstack([rows[common], rows[~common].sum(axis=0)])
    table = table[table.sum(axis=1) > 0]
    return stats.chi2_contingency(table.T)[1]


@pytest.mark.parametrize("bias", [True, False])
def test_no_hidden_layer_nngp_is_the_perceptron_prior(bias):
    kwargs = dict(n=3, samples=40_000, bias=bias, sigma_w=1.0, sigma_b=1.0)
    gp = pysimbias.sample(prior="nngp", widths="", seed=1, **kwargs)
    perceptron = pysimbias.sample(prior="perceptron", seed=2, **kwargs)
    assert _chi_square_pvalue(gp, perceptron) > 1e-3
    if bias:  # a prior that is close but not the same is told apart at this size
        other = pysimbias.sample(prior="perceptron", seed=2, **{**kwargs, "sigma_b": 0.7})
        assert _chi_square_pvalue(gp, other) < 1e-6


def test_bias_free_origin_outputs_zero():
    run = pysimbias.sample(prior="nngp", n=3, samples=2000, seed=3, widths="4", bias=False)
    assert not (run.histogram.keys[:, 0] & 1).any()
    assert run.histogram.distinct > 10


def _total_variation(first, second):
    probabilities = [dict(zip(map(bytes, run.histogram.keys), run.histogram.probabilities))
                     for run in (first, second)]
    keys = set(probabilities[0]) | set(probabilities[1])
    return 0.5 * sum(abs(probabilities[0].get(k, 0.0) - probabilities[1].get(k, 0.0)) for k in keys)


def test_mlp_approaches_nngp_as_width_grows():
    """Total variation between P_mlp(f) and P_nngp(f) on n = 3 falls towards the sampling floor."""
    kwargs = dict(n=3, samples=30_000, activation="relu")
    gp = pysimbias.sample(prior="nngp", widths="1", seed=1, **kwargs)
    floor = _total_variation(gp, pysimbias.sample(prior="nngp", widths="1", seed=2, **kwargs))
    distances = [_total_variation(gp, pysimbias.sample(prior="mlp", widths=str(w), seed=3, **kwargs))
                 for w in (1, 4, 64)]
    assert distances[0] > distances[1] > distances[2]
    assert distances[0] > 5 * floor and distances[2] < 2 * floor


def test_manifest_and_validation():
    run = pysimbias.sample(prior="nngp", n=3, samples=100, seed=0, widths="5,5", activation="tanh")
    assert run.manifest["prior"]["hidden_layers"] == 2
    assert run.manifest["prior"]["expectation"].startswith("Gauss-Hermite")
    assert run.manifest["prior"]["jitter"] > 0
    with pytest.raises(InvalidParameterError) as info:
        pysimbias.sample(prior="nngp", n=3, samples=10, law="uniform")
    assert info.value.param == "law"
    with pytest.raises(InvalidParameterError) as info:
        pysimbias.sample(prior="mlp", n=3, samples=10, widths="")
    assert info.value.param == "widths"
    with pytest.raises(InvalidParameterError) as info:
        expected_products("softsign", 1.0, 1.0, 0.5)
    assert info.value.param == "activation"
