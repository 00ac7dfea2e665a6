"""The activation kernels: float32 forms against SciPy in float64, float64 forms and their slopes, vectorizing.

Float32 accuracy is measured in ulps of the float32 result, over every 1021st
positive float32 (subnormals to the largest finite), its negative, a dense
grid on [-30, 30] and edge values (+-0, the smallest subnormal and normal,
where exp under- and overflows, +-inf).  Results below the smallest normal
float32 carry fewer bits; there the bound is an absolute error in units of
the smallest subnormal, 2^-149.
"""

import math
import platform
import re

import numpy as np
import pytest
from scipy import special

from pysimbias.kernels import activations as ka
from pysimbias.kernels.activations import ACTIVATIONS, SELU_ALPHA, SELU_LAMBDA, activation32, slope64, value64

TINY = 2.0 ** -126
SUBNORMAL = 2.0 ** -149
#: activation -> (max ulp on normal results, max error in units of 2^-149 on smaller ones)
BOUNDS = {"relu": (0, 0), "linear": (0, 0), "step": (0, 0), "tanh": (6, 1), "gelu": (5, 2), "silu": (4, 2),
          "selu": (2, 1), "sigmoid": (3, 1), "sin": (1, 1), "gaussian": (2, 1), "erf": (2, 1)}
#: sin is accurate for |x| up to this; beyond, float32 cannot resolve its period anyway
SIN_RANGE = 2.0 ** 40
#: tanh's own bound holds for |x| >= this; below, its x * p / q passes through a subnormal
TANH_SMALL = 2.0 ** -110


def _sweep():
    positive = np.arange(0, 0x7F800000, 1021, dtype=np.uint32).view(np.float32)
    edges = np.array([0.0, 1e-45, TINY, 1e-30, 1e-7, 0.5, 1.0, 2.0, 7.9053111, 10.0, 20.0, 88.72, 89.0, 103.9, 104.0,
                      110.0, 120.0, 1e10, 2.0 ** 24, 2.0 ** 40, np.finfo(np.float32).max, np.inf], dtype=np.float32)
    x = np.concatenate([positive, edges, np.linspace(0.0, 30.0, 300_001, dtype=np.float32)])
    return np.concatenate([x, -x])


X = _sweep()


def _reference(name, x):
    """The activation in float64 (SciPy / NumPy), on float32 inputs."""
    x = x.astype(np.float64)
    with np.errstate(all="ignore"):
        values = {
            "relu": lambda: np.maximum(x, 0.0),
            "linear": lambda: x,
            "step": lambda: (x > 0).astype(np.float64),
            "tanh": lambda: np.tanh(x),
            "gelu": lambda: np.where(x == -np.inf, -0.0, x * special.ndtr(x)),
            "silu": lambda: np.where(x == -np.inf, -0.0, x * special.expit(x)),
            "selu": lambda: np.where(x > 0, SELU_LAMBDA * x, SELU_LAMBDA * SELU_ALPHA * np.expm1(x)),
            "sigmoid": lambda: special.expit(x),
            "sin": lambda: np.sin(x),
            "gaussian": lambda: np.exp(-0.5 * x * x),
            "erf": lambda: special.erf(x),
        }
        return values[name]()


def _errors(name, x):
    """(ulp errors on normal results, absolute errors / 2^-149 on smaller ones) of the float32 form."""
    got = activation32(x, ACTIVATIONS[name]).astype(np.float64)
    ref = _reference(name, x)
    with np.errstate(all="ignore"):
        rounded = ref.astype(np.float32)
        ulps = np.abs(got - ref) / np.spacing(np.abs(rounded)).astype(np.float64)
        ulps[got == rounded] = 0.0  # also where the result overflows to +-inf, as it should
        normal = np.abs(ref) >= TINY
        return ulps[normal], np.abs(got - ref)[~normal] / SUBNORMAL


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_float32_forms_against_scipy(name):
    x = X
    if name == "sin":
        x = x[np.abs(x) <= SIN_RANGE]
    if name == "tanh":
        x = x[np.abs(x) >= TANH_SMALL]
    ulps, tiny = _errors(name, x)
    max_ulp, max_tiny = BOUNDS[name]
    print(f"\n{name}: max {ulps.max():.3f} ulp, {tiny.max(initial=0.0):.2f} x 2^-149 below the normal range")
    assert np.isfinite(ulps).all()
    assert ulps.max() <= max_ulp
    assert tiny.max(initial=0.0) <= max_tiny


def test_tiny_tanh_and_huge_sin_stay_bounded():
    """The two ranges the bounds above leave out: still close (tanh) or at least in [-1, 1] (sin)."""
    small = X[(np.abs(X) < TANH_SMALL) & (X != 0)]
    tanh = activation32(small, ACTIVATIONS["tanh"]).astype(np.float64)
    assert np.abs(tanh - np.tanh(small.astype(np.float64))).max() <= 2.0 ** -130
    huge = X[np.isfinite(X) & (np.abs(X) > SIN_RANGE)]
    assert np.abs(activation32(huge, ACTIVATIONS["sin"])).max() <= 1.0


def test_special_values():
    x = np.array([np.inf, -np.inf, 0.0, -0.0, np.nan], dtype=np.float32)
    expected = {
        "relu": [np.inf, 0, 0, 0], "tanh": [1, -1, 0, 0], "linear": [np.inf, -np.inf, 0, 0],
        "gelu": [np.inf, 0, 0, 0], "silu": [np.inf, 0, 0, 0], "selu": [np.inf, -SELU_LAMBDA * SELU_ALPHA, 0, 0],
        "sigmoid": [1, 0, 0.5, 0.5], "gaussian": [0, 0, 1, 1], "erf": [1, -1, 0, 0], "step": [1, 0, 0, 0, 0],
    }
    for name, values in expected.items():
        got = activation32(x, ACTIVATIONS[name])
        np.testing.assert_allclose(got[:len(values)], np.array(values, dtype=np.float32), rtol=1e-7, err_msg=name)
    assert np.isnan(activation32(x[:2], ACTIVATIONS["sin"])).all()  # sin(+-inf) is undefined, as in NumPy
    # step(0) = 0, as the Heaviside output of a zero pre-activation; step is the only one defined at NaN
    assert activation32(np.array([0.0, 1e-45, -1e-45], dtype=np.float32), ACTIVATIONS["step"]).tolist() == [0, 1, 0]


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="reads x86 assembly")
@pytest.mark.parametrize("name", [name for name in ACTIVATIONS if name not in ("relu", "linear")])
def test_activation_loops_vectorize(name):
    """The compiled row loop holds packed (``...ps`` / ``...pd``) arithmetic: LLVM vectorized it."""
    apply = getattr(ka, f"_apply_{name}")
    apply(np.zeros((2, 64), dtype=np.float32), 0, 2)
    asm = apply.inspect_asm(apply.signatures[0])
    packed = re.findall(r"\bv?(?:mul|add|sub|div|max|min|and|cmp\w*|fn?m(?:add|sub)\d+)p[sd]\s+[^\n]*%[xyz]mm", asm)
    assert len(packed) >= 4


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_float64_forms_and_slopes(name):
    """The trainer's value against the definition; its slope against central differences."""
    act = ACTIVATIONS[name]
    h = 1e-6
    for z in np.r_[np.linspace(-6.0, 6.0, 241), -40.0, 40.0, 1e-3, -1e-3]:
        value = value64(z, act)
        with np.errstate(all="ignore"):
            expected = {"relu": max(z, 0.0), "linear": z, "step": float(z > 0), "tanh": math.tanh(z),
                        "gelu": 0.5 * z * math.erfc(-z / math.sqrt(2.0)), "silu": z * special.expit(z),
                        "selu": SELU_LAMBDA * z if z > 0 else SELU_LAMBDA * SELU_ALPHA * math.expm1(z),
                        "sigmoid": special.expit(z), "sin": math.sin(z), "gaussian": math.exp(-z * z / 2),
                        "erf": math.erf(z)}[name]
        assert value == pytest.approx(expected, rel=1e-14, abs=1e-300)
        if abs(z) > 2 * h:  # relu, selu and step have a kink or jump at 0
            numeric = (value64(z + h, act) - value64(z - h, act)) / (2 * h)
            assert slope64(z, value, act) == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def test_slopes_at_the_kinks():
    """relu'(0) = 0 and selu'(0) = lambda alpha (the left-hand slopes); step' = 0 everywhere."""
    for name, expected in (("relu", 0.0), ("selu", SELU_LAMBDA * SELU_ALPHA), ("step", 0.0)):
        act = ACTIVATIONS[name]
        assert slope64(0.0, value64(0.0, act), act) == pytest.approx(expected, rel=1e-15)
    assert slope64(0.3, 1.0, ACTIVATIONS["step"]) == 0.0
