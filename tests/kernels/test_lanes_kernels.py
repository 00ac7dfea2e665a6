"""The per-lane vector operations against plain NumPy, lane by lane.

Each operation acts on rows of LANES float64 values.  The NumPy versions
below compute the same sums term by term; the kernels fuse each multiply
with its add (rounded once), so sums agree to a few units in the last place
(relative 1e-14 here), and single operations without a fused multiply-add
exactly.
"""

import numba
import numpy as np
import pytest

from pysimbias.kernels.lanes import (DOT_ROWS, LANES, lane_adam, lane_add, lane_copy, lane_dots, lane_mul,
                                     lane_sgd)


@numba.njit
def _dots(out, out_row, out_rs, x, x_row, x_step, w, w_row, w_rs, w_step, n, count):
    lane_dots(out, out_row, out_rs, x, x_row, x_step, w, w_row, w_rs, w_step, n, count)


@numba.njit
def _elementwise(out, x, rows):
    for r in range(rows):
        lane_copy(out[0], r, x, r)
        lane_mul(out[1], r, x, r)
        lane_add(out[2], r, x, r)


@numba.njit
def _optimizers(params, first, second, grad, fix, hyper):
    for k in range(params.shape[1]):
        lane_sgd(params[0], first[0], grad, k, hyper[0], hyper[1])
        lane_adam(params[1], first[1], second, grad, k, fix, hyper[0], hyper[2], hyper[3], hyper[4])


def _reference_dots(out, out_row, out_rs, x, x_row, x_step, w, w_row, w_rs, w_step, n, count):
    out = out.copy()
    for r in range(count):
        total = out[out_row + r * out_rs].copy()
        for t in range(n):
            total += x[x_row + t * x_step] * w[w_row + r * w_rs + t * w_step]
        out[out_row + r * out_rs] = total
    return out


@pytest.mark.parametrize("count", [0, 1, 3, DOT_ROWS - 1, DOT_ROWS, DOT_ROWS + 1, 3 * DOT_ROWS + 2])
@pytest.mark.parametrize("n", [0, 1, 7, 40])
def test_dots_are_lane_by_lane_sums(count, n):
    rng = np.random.default_rng(count * 100 + n)
    x = rng.normal(size=(200, LANES))
    w = rng.normal(size=(2000, LANES))
    for out_rs, x_step, w_rs, w_step in [(1, 1, 1, count + 1), (3, 2, n + 1, 1), (2, 5, 1, 41)]:
        out = rng.normal(size=(100, LANES))
        args = (5, out_rs, x, 3, x_step, w, 7, w_rs, w_step, n, count)
        expected = _reference_dots(out, *args)
        _dots(out, *args)
        assert np.allclose(out, expected, rtol=1e-14, atol=1e-14)
        # Rows outside the sums are untouched, and each lane only sees its own lane.
        touched = {5 + r * out_rs for r in range(count)}
        untouched = [i for i in range(out.shape[0]) if i not in touched]
        assert np.array_equal(out[untouched], expected[untouched])


def test_a_lane_does_not_depend_on_the_other_lanes():
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(50, LANES)), rng.normal(size=(500, LANES))
    out = np.zeros((20, LANES))
    _dots(out, 0, 1, x, 0, 1, w, 0, 1, 12, 12, 12)
    for lane in range(LANES):
        other = rng.normal(size=(50, LANES)), rng.normal(size=(500, LANES))
        other[0][:, lane], other[1][:, lane] = x[:, lane], w[:, lane]
        again = np.full((20, LANES), np.nan)
        again[:, lane] = 0.0
        _dots(again, 0, 1, other[0], 0, 1, other[1], 0, 1, 12, 12, 12)
        assert np.array_equal(again[:, lane], out[:, lane])


def test_copy_mul_add_are_exact():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(9, LANES))
    x[0] = [np.inf, -0.0, np.nan, 1e-310]
    out = rng.normal(size=(3, 9, LANES))
    start = out.copy()
    _elementwise(out, x, 9)
    assert np.array_equal(out[0], x, equal_nan=True)
    assert np.array_equal(out[1], start[1] * x, equal_nan=True)
    assert np.array_equal(out[2], start[2] + x, equal_nan=True)


def test_sgd_and_adam_follow_their_formulas_lane_by_lane():
    rng = np.random.default_rng(5)
    rows = 11
    params, first = rng.normal(size=(2, rows, LANES)), rng.normal(size=(2, rows, LANES))
    second, grad = rng.random(size=(rows, LANES)), rng.normal(size=(rows, LANES))
    beta1, beta2 = 0.9, 0.999
    steps = np.array([1, 2, 7, 100])[:LANES]
    fix = np.array([1 - beta1 ** steps, 1 - beta2 ** steps])
    lr, momentum, eps = 0.05, 0.8, 1e-8
    velocity = momentum * first[0] + grad
    sgd = params[0] - lr * velocity
    m = beta1 * first[1] + (1 - beta1) * grad
    v = beta2 * second + (1 - beta2) * grad * grad
    adam = params[1] - lr * (m / fix[0]) / (np.sqrt(v / fix[1]) + eps)
    _optimizers(params, first, second, grad, fix, np.array([lr, momentum, beta1, beta2, eps]))
    for got, want in [(params[0], sgd), (first[0], velocity), (params[1], adam), (first[1], m), (second, v)]:
        assert np.allclose(got, want, rtol=1e-14, atol=1e-15)
