"""The register-blocked micro-kernel against a float64 NumPy layer.

``dense_tile`` sums with fused multiply-adds in fan-in order, so its error
against float64 is bounded by fan_in float32 roundings of the partial sums;
the tests use a bound of that form and cover every tile height, fan-ins
from 1, inputs from one to several register blocks, both activations, and
layers with and without bias.
"""

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysimbias.vector_kernels import BLOCK, MAX_ROWS, dense_tile, pack_positive, padded_length
from reference import reference_pack

EPS32 = np.finfo(np.float32).eps


@numba.njit
def _run_tile(rows, out, out_row, params, w_off, w_stride, b_off, h, fan_in, relu, h_row=0):
    dense_tile(rows, out, out_row, params, w_off, w_stride, b_off, h, h_row, fan_in, relu)


def reference_tile(rows, params, w_off, w_stride, b_off, h, h_row, fan_in, relu):
    """The same layer in float64: values and an error bound for float32 FMA sums."""
    idx = w_off + np.arange(fan_in)[:, None] * w_stride + np.arange(rows)[None, :]
    W = params[idx].astype(np.float64)  # fan_in x rows
    H = h[h_row:h_row + fan_in].astype(np.float64)
    b = params[b_off:b_off + rows].astype(np.float64) if b_off >= 0 else np.zeros(rows)
    z = W.T @ H + b[:, None]
    bound = (fan_in + 2) * EPS32 * (np.abs(W).T @ np.abs(H) + np.abs(b)[:, None])
    return (np.maximum(z, 0) if relu else z), bound


def check_tile(rows, fan_in, n_blocks, bias, relu, seed):
    rng = np.random.default_rng(seed)
    row_len = n_blocks * BLOCK
    w_stride = rows + int(rng.integers(0, 5))
    w_off = int(rng.integers(0, 7))
    n_par = w_off + fan_in * w_stride + rows + 3
    params = rng.standard_normal(n_par).astype(np.float32)
    b_off = n_par - rows - 1 if bias else -1
    h_row = int(rng.integers(0, 3))
    h = rng.standard_normal((h_row + fan_in + 2, row_len)).astype(np.float32)
    out_row = int(rng.integers(0, 3))
    out = np.full((out_row + rows + 2, row_len), np.nan, dtype=np.float32)
    _run_tile(rows, out, out_row, params, w_off, w_stride, b_off, h, fan_in, int(relu), h_row)
    want, bound = reference_tile(rows, params, w_off, w_stride, b_off, h, h_row, fan_in, relu)
    got = out[out_row:out_row + rows].astype(np.float64)
    assert np.all(np.abs(got - want) <= bound + 1e-30)
    # Rows outside the tile are untouched.
    assert np.all(np.isnan(out[:out_row])) and np.all(np.isnan(out[out_row + rows:]))


@pytest.mark.parametrize("rows", range(1, MAX_ROWS + 1))
@pytest.mark.parametrize("bias, relu", [(True, True), (False, False), (True, False)])
def test_every_tile_height(rows, bias, relu):
    for fan_in, n_blocks in ((1, 1), (7, 4), (40, 2), (33, 3)):
        check_tile(rows, fan_in, n_blocks, bias, relu, seed=rows * 1000 + fan_in)


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, MAX_ROWS), fan_in=st.integers(1, 70), n_blocks=st.integers(1, 5),
       bias=st.booleans(), relu=st.booleans(), seed=st.integers(0, 2 ** 32 - 1))
def test_random_tiles(rows, fan_in, n_blocks, bias, relu, seed):
    check_tile(rows, fan_in, n_blocks, bias, relu, seed)


def test_sums_in_fan_in_order_with_fma():
    # 1 + 2^-24 - 1: exact with one rounding per fused multiply-add in order
    # (a pairwise or reassociated sum would give 0 or 2^-24 differently).
    h = np.zeros((3, BLOCK), dtype=np.float32)
    h[:, 0] = [1.0, 2.0 ** -24, -1.0]
    params = np.ones(3, dtype=np.float32)
    out = np.zeros((1, BLOCK), dtype=np.float32)
    _run_tile(1, out, 0, params, 0, 1, -1, h, 3, 0)
    assert out[0, 0] == np.float32(0.0)  # (1 + 2^-24) rounds to 1 first
    h[:, 0] = [2.0 ** -24, 1.0, -1.0]
    _run_tile(1, out, 0, params, 0, 1, -1, h, 3, 0)
    assert out[0, 0] == np.float32(0.0)
    h[:, 0] = [1.0, -1.0, 2.0 ** -24]
    _run_tile(1, out, 0, params, 0, 1, -1, h, 3, 0)
    assert out[0, 0] == np.float32(2.0 ** -24)


@pytest.mark.parametrize("m, want", [(1, 32), (32, 32), (33, 64), (64, 64), (65, 96), (128, 128), (1000, 1024)])
def test_padded_length(m, want):
    assert padded_length(m) == want


@numba.njit
def _run_pack(buf, row, keys, r, m):
    pack_positive(buf, row, keys, r, m)


@pytest.mark.parametrize("m", [1, 5, 32, 33, 63, 64, 65, 96, 97, 128, 200, 256])
def test_pack_positive_matches_reference(m):
    rng = np.random.default_rng(m)
    n_words = -(-m // 64)
    for _ in range(20):
        buf = rng.standard_normal((3, padded_length(m))).astype(np.float32)
        buf[rng.random(buf.shape) < 0.1] = 0.0
        buf[rng.random(buf.shape) < 0.05] = -0.0
        buf[rng.random(buf.shape) < 0.05] = np.nan
        keys = np.full((4, n_words), 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)
        _run_pack(buf, 1, keys, 2, m)
        np.testing.assert_array_equal(keys[2], reference_pack(buf[1, :m] > 0))
        assert np.all(keys[[0, 1, 3]] == 0xFFFFFFFFFFFFFFFF)
