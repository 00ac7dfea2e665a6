"""The register-blocked micro-kernel against a float64 NumPy layer, for every vector shape.

``dense_tile`` sums with fused multiply-adds in fan-in order, so its error
against float64 is bounded by fan_in float32 roundings of the partial sums;
the tests use a bound of that form and cover every tile height, fan-ins
from 1, inputs from one to several register blocks, both activations, and
layers with and without bias.  Each machine compiles one shape for its
runs, but every shape runs anywhere (LLVM splits or joins the vectors), so
all of them are tested here, and checked to give the same bits.
"""

import ctypes
import mmap
import os

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysimbias.kernels import vector as vector_kernels
from pysimbias.kernels.vector import (ROW_MULTIPLE, SHAPES, make_dense_tile, make_pack_positive, padded_length,
                                      shape_for_features, target_shape)
from reference import reference_pack

EPS32 = np.finfo(np.float32).eps


def _tile_runner(shape):
    dense_tile = make_dense_tile(shape)

    @numba.njit
    def run(rows, out, out_row, params, w_off, w_stride, b_off, h, fan_in, relu, h_row=0):
        dense_tile(rows, out, out_row, params, w_off, w_stride, b_off, h, h_row, fan_in, relu)

    return run


def _pack_runner(shape):
    pack_positive = make_pack_positive(shape)

    @numba.njit
    def run(buf, row, keys, r, m):
        pack_positive(buf, row, keys, r, m)

    return run


TILES = {shape: _tile_runner(shape) for shape in SHAPES}
PACKS = {shape: _pack_runner(shape) for shape in SHAPES}
SHAPE_IDS = [shape.isa for shape in SHAPES]


def reference_tile(rows, params, w_off, w_stride, b_off, h, h_row, fan_in, relu):
    """The same layer in float64: values and an error bound for float32 FMA sums."""
    idx = w_off + np.arange(fan_in)[:, None] * w_stride + np.arange(rows)[None, :]
    W = params[idx].astype(np.float64)  # fan_in x rows
    H = h[h_row:h_row + fan_in].astype(np.float64)
    b = params[b_off:b_off + rows].astype(np.float64) if b_off >= 0 else np.zeros(rows)
    z = W.T @ H + b[:, None]
    bound = (fan_in + 2) * EPS32 * (np.abs(W).T @ np.abs(H) + np.abs(b)[:, None])
    return (np.maximum(z, 0) if relu else z), bound


def make_tile_case(shape, rows, fan_in, n_blocks, bias, seed):
    """Random arguments of one tile; the output is NaN outside and inside the tile."""
    rng = np.random.default_rng(seed)
    row_len = n_blocks * shape.block
    w_stride = rows + int(rng.integers(0, 5))
    w_off = int(rng.integers(0, 7))
    n_par = w_off + fan_in * w_stride + rows + 3
    params = rng.standard_normal(n_par).astype(np.float32)
    b_off = n_par - rows - 1 if bias else -1
    h_row = int(rng.integers(0, 3))
    h = rng.standard_normal((h_row + fan_in + 2, row_len)).astype(np.float32)
    out_row = int(rng.integers(0, 3))
    out = np.full((out_row + rows + 2, row_len), np.nan, dtype=np.float32)
    return out, out_row, params, w_off, w_stride, b_off, h, h_row


def check_tile(shape, rows, fan_in, n_blocks, bias, relu, seed):
    out, out_row, params, w_off, w_stride, b_off, h, h_row = make_tile_case(shape, rows, fan_in, n_blocks, bias, seed)
    TILES[shape](rows, out, out_row, params, w_off, w_stride, b_off, h, fan_in, int(relu), h_row)
    want, bound = reference_tile(rows, params, w_off, w_stride, b_off, h, h_row, fan_in, relu)
    got = out[out_row:out_row + rows].astype(np.float64)
    assert np.all(np.abs(got - want) <= bound + 1e-30)
    # Rows outside the tile are untouched.
    assert np.all(np.isnan(out[:out_row])) and np.all(np.isnan(out[out_row + rows:]))


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("bias, relu", [(True, True), (False, False), (True, False)])
def test_every_tile_height(shape, bias, relu):
    for rows in range(1, shape.max_rows + 1):
        for fan_in, n_blocks in ((1, 1), (7, 4), (40, 2), (33, 3)):
            check_tile(shape, rows, fan_in, n_blocks, bias, relu, seed=rows * 1000 + fan_in)


@settings(max_examples=60, deadline=None)
@given(shape=st.sampled_from(SHAPES), rows=st.integers(1, 12), fan_in=st.integers(1, 70),
       n_blocks=st.integers(1, 5), bias=st.booleans(), relu=st.booleans(), seed=st.integers(0, 2 ** 32 - 1))
def test_random_tiles(shape, rows, fan_in, n_blocks, bias, relu, seed):
    check_tile(shape, min(rows, shape.max_rows), fan_in, n_blocks, bias, relu, seed)


def test_every_shape_gives_the_same_bits():
    # The same layer computed in 16-, 8- and 4-lane vectors, 6 or 12 units a tile.
    rng = np.random.default_rng(5)
    fan_in, fan_out, m = 40, 40, 96
    params = rng.standard_normal(fan_in * fan_out + fan_out).astype(np.float32)
    h = rng.standard_normal((fan_in, m)).astype(np.float32)
    results = []
    for shape, run in TILES.items():
        out = np.zeros((fan_out, m), dtype=np.float32)
        for j in range(0, fan_out, shape.max_rows):
            rows = min(shape.max_rows, fan_out - j)
            run(rows, out, j, params, j, fan_out, fan_in * fan_out + j, h, fan_in, 1)
        results.append(out)
    for out in results[1:]:
        np.testing.assert_array_equal(out.view(np.uint32), results[0].view(np.uint32))


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_sums_in_fan_in_order_with_fma(shape):
    # 1 + 2^-24 - 1: exact with one rounding per fused multiply-add in order
    # (a pairwise or reassociated sum would give 0 or 2^-24 differently).
    run = TILES[shape]
    h = np.zeros((3, shape.block), dtype=np.float32)
    h[:, 0] = [1.0, 2.0 ** -24, -1.0]
    params = np.ones(3, dtype=np.float32)
    out = np.zeros((1, shape.block), dtype=np.float32)
    run(1, out, 0, params, 0, 1, -1, h, 3, 0)
    assert out[0, 0] == np.float32(0.0)  # (1 + 2^-24) rounds to 1 first
    h[:, 0] = [2.0 ** -24, 1.0, -1.0]
    run(1, out, 0, params, 0, 1, -1, h, 3, 0)
    assert out[0, 0] == np.float32(0.0)
    h[:, 0] = [1.0, -1.0, 2.0 ** -24]
    run(1, out, 0, params, 0, 1, -1, h, 3, 0)
    assert out[0, 0] == np.float32(2.0 ** -24)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_multiply_adds_are_fused(shape):
    # w h + b with w = h = 1 + 2^-12, b = -(1 + 2^-11): w h = 1 + 2^-11 + 2^-24 exactly, so a fused
    # multiply-add gives 2^-24, while rounding the product first (a tie, to even) gives 0.
    run = TILES[shape]
    x = np.float32(1 + 2.0 ** -12)
    h = np.full((1, shape.block), x, dtype=np.float32)
    params = np.array([x, -(1 + 2.0 ** -11)], dtype=np.float32)
    out = np.zeros((1, shape.block), dtype=np.float32)
    run(1, out, 0, params, 0, 1, 1, h, 1, 0)
    assert np.all(out == np.float32(2.0 ** -24))


@pytest.mark.parametrize("m", [1, 8, 15, 16, 17, 32, 33, 64, 65, 128, 1000])
def test_padded_length(m):
    # whole register blocks of every shape, so that buffers never depend on the shape; no more than needed
    assert all(ROW_MULTIPLE % shape.block == 0 for shape in SHAPES)
    assert padded_length(m) % ROW_MULTIPLE == 0 and m <= padded_length(m) < m + ROW_MULTIPLE


@pytest.mark.parametrize("features, isa", [
    ("+avx,+avx2,+avx512f,+fma", "avx512f"),
    ("+avx,+avx2,-avx512f,+fma", "avx"),
    ("-avx,-avx2,+sse4.2", "sse"),
    ("+neon,+fp-armv8", "neon"),
    ("", "sse"),
])
def test_shape_for_features(features, isa):
    assert shape_for_features(features).isa == isa


def test_shape_is_the_one_for_the_features_numba_compiles_for():
    features = numba.core.registry.cpu_target.target_context.codegen()._tm_features
    assert vector_kernels.SHAPE == shape_for_features(features)


def test_target_shape_follows_numba_cpu_features(monkeypatch):
    monkeypatch.setattr(numba.config, "CPU_FEATURES", "+avx,+avx2,-avx512f")
    assert target_shape().lanes == 8
    monkeypatch.setattr(numba.config, "CPU_FEATURES", "+avx512f")
    assert target_shape().lanes == 16


def guarded_rows(n_rows, row_len):
    """A float32 (n_rows, row_len) array whose last row ends where an unreadable page begins."""
    page = mmap.PAGESIZE
    nbytes = 4 * n_rows * row_len
    total = -(-nbytes // page) * page + page
    buffer = mmap.mmap(-1, total)
    start = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    assert libc.mprotect(start + total - page, page, 0) == 0, os.strerror(ctypes.get_errno())  # PROT_NONE
    return np.frombuffer(buffer, dtype=np.float32, count=nbytes // 4, offset=total - page - nbytes).reshape(
        n_rows, row_len)


@pytest.mark.skipif(os.name != "posix", reason="needs mmap and mprotect")
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("m", [1, 5, 33, 65, 97, 200])
def test_pack_positive_reads_nothing_past_the_row(shape, m):
    # The layer buffer's last row is the output row: a vector read past its end would fault here.
    rng = np.random.default_rng(m)
    buf = guarded_rows(2, -(-m // shape.block) * shape.block)
    buf[:] = rng.standard_normal(buf.shape)
    keys = np.zeros((1, -(-m // 64)), dtype=np.uint64)
    PACKS[shape](buf, 1, keys, 0, m)
    np.testing.assert_array_equal(keys[0], reference_pack(buf[1, :m] > 0))


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("m", [1, 5, 32, 33, 63, 64, 65, 96, 97, 128, 200, 256])
def test_pack_positive_matches_reference(shape, m):
    rng = np.random.default_rng(m)
    n_words = -(-m // 64)
    row_len = -(-m // shape.block) * shape.block
    for _ in range(20):
        buf = rng.standard_normal((3, row_len)).astype(np.float32)
        buf[rng.random(buf.shape) < 0.1] = 0.0
        buf[rng.random(buf.shape) < 0.05] = -0.0
        buf[rng.random(buf.shape) < 0.05] = np.nan
        keys = np.full((4, n_words), 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)
        PACKS[shape](buf, 1, keys, 2, m)
        np.testing.assert_array_equal(keys[2], reference_pack(buf[1, :m] > 0))
        assert np.all(keys[[0, 1, 3]] == 0xFFFFFFFFFFFFFFFF)
