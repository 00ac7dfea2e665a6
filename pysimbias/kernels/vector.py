"""Register-blocked dense layers written as explicit LLVM vector code.

Pure array-in / array-out, like every kernel module.  A dense layer over all
inputs is a small matrix product: ``out[j, i] = act(b[j] + sum_a W[a, j] *
H[a, i])`` for R output units j and all m inputs i.  LLVM's loop vectorizer
only vectorizes innermost loops, so it cannot keep R x (2 vectors of inputs)
partial sums in registers across the fan-in loop; this module emits that
micro-kernel directly with llvmlite: for each block of inputs, ``2 R``
accumulator vectors live in registers while the fan-in is summed with fused
multiply-adds, and are stored once, with the activation applied.

The vector width and the tile height follow the CPU Numba compiles for
(:func:`target_shape`): 16 float32 lanes and 12 units with AVX-512's 32
registers, 8 lanes and 6 units with AVX's 16, 4 lanes with 128-bit vectors
(:data:`SHAPES`).  A tile that needs more
registers than the machine has spills them on every multiply-add.  Every
multiply-add is ``llvm.fma`` (rounded once), summed over the fan-in in
order, so the result is the same whatever the shape.

:func:`pack_positive` turns an output row into packed key words with one
vector compare per vector of inputs.

:func:`tree_keys` evaluates one linear threshold unit for 64 networks at
once, one network per vector lane, through a tree of partial sums shared by
all inputs (see :func:`pysimbias.kernels.network.sum_tree`).
"""

from typing import NamedTuple

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils, codegen
from numba.extending import intrinsic

__all__ = ["MAX_ROWS", "ROW_MULTIPLE", "SHAPE", "SHAPES", "TREE_LANES", "VectorShape", "padded_length", "dense_tile",
           "make_dense_tile", "make_pack_positive", "pack_positive", "shape_for_features", "target_shape",
           "tree_keys"]

VECTORS = 2  # vectors of inputs per register block

_F32 = ir.FloatType()
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)


def _i64(x):
    """An i64 LLVM constant."""
    return ir.Constant(_I64, x)


def _splat(builder, x, vec_type):
    """A ``vec_type`` vector with ``x`` in every lane."""
    undef = ir.Constant(vec_type, ir.Undefined)
    mask = ir.Constant(ir.VectorType(_I32, vec_type.count), [0] * vec_type.count)
    return builder.shuffle_vector(builder.insert_element(undef, x, ir.Constant(_I32, 0)), undef, mask)


def _is_array(t, dtype, ndim=None):
    """Whether Numba type ``t`` is a C-contiguous array of ``dtype`` (and ``ndim`` dimensions, when given)."""
    return (isinstance(t, types.Array) and t.dtype == dtype and t.layout == "C"
            and (ndim is None or t.ndim == ndim))


class VectorShape(NamedTuple):
    """Shape of the dense micro-kernel: float32 ``lanes`` per vector, at most ``max_rows`` units per tile."""

    isa: str
    lanes: int
    max_rows: int

    @property
    def block(self):
        """Inputs per register block."""
        return VECTORS * self.lanes


#: One shape per kind of vector unit: 2 x max_rows accumulators, the
#: vectors of inputs and a broadcast weight fit in its registers.
SHAPES = (
    VectorShape("avx512f", 16, 12),  # 32 registers of 16 float32
    VectorShape("avx", 8, 6),  # 16 registers of 8
    VectorShape("neon", 4, 12),  # 32 registers of 4
    VectorShape("sse", 4, 6),  # 16 registers of 4 (and any other machine)
)


def shape_for_features(features):
    """The :class:`VectorShape` for an LLVM feature string such as ``"+avx,+avx2,-avx512f"``."""
    enabled = {f[1:] for f in features.split(",") if f.startswith("+")}
    return next((shape for shape in SHAPES[:-1] if shape.isa in enabled), SHAPES[-1])


def target_shape():
    """The :class:`VectorShape` for the CPU Numba compiles for (``NUMBA_CPU_FEATURES``, else this one)."""
    features = numba.config.CPU_FEATURES
    return shape_for_features(codegen.get_host_cpu_features() if features is None else features)


#: The shape of this process's kernels.
SHAPE = target_shape()
MAX_ROWS = SHAPE.max_rows
#: Layer buffer rows hold a multiple of this many values: whole register
#: blocks of every shape, so a buffer suits any shape's kernels (Numba's
#: cache can keep a caller compiled for another shape).
ROW_MULTIPLE = max(shape.block for shape in SHAPES)


@numba.njit(cache=True)
def padded_length(m):
    """Row length of the layer buffers: m rounded up to a multiple of :data:`ROW_MULTIPLE`."""
    return (m + ROW_MULTIPLE - 1) // ROW_MULTIPLE * ROW_MULTIPLE


def _emit_tile(context, builder, signature, args, rows, lanes):
    """Emit the micro-kernel for ``rows`` output units of ``lanes``-wide vectors at the builder's position."""
    out, out_row, params, w_off, w_stride, b_off, h, h_row, fan_in, relu = args
    t_out, _, t_par, _, _, _, t_h = signature.args[:7]
    out_ptr = context.make_array(t_out)(context, builder, out).data
    par_ptr = context.make_array(t_par)(context, builder, params).data
    h_arr = context.make_array(t_h)(context, builder, h)
    h_ptr = h_arr.data
    row_len = builder.extract_value(h_arr.shape, 1)
    vec = ir.VectorType(_F32, lanes)
    fma = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vec, [vec, vec, vec]), f"llvm.fma.v{lanes}f32")
    vmax = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vec, [vec, vec]), f"llvm.maxnum.v{lanes}f32")
    zero_vec = ir.Constant(vec, [0.0] * lanes)

    def vec_ptr(ptr, index):
        return builder.bitcast(builder.gep(ptr, [index]), vec.as_pointer())

    acc = [[cgutils.alloca_once(builder, vec) for _ in range(VECTORS)] for _ in range(rows)]
    has_bias = builder.icmp_signed(">=", b_off, _i64(0))
    is_relu = builder.icmp_signed("!=", relu, _i64(0))
    block = VECTORS * lanes
    n_blocks = builder.udiv(row_len, _i64(block))
    with cgutils.for_range(builder, n_blocks) as block_loop:
        col = builder.mul(block_loop.index, _i64(block))
        for r in range(rows):
            b_index = builder.select(has_bias, builder.add(b_off, _i64(r)), _i64(0))
            b_val = builder.select(has_bias, builder.load(builder.gep(par_ptr, [b_index])), ir.Constant(_F32, 0.0))
            for v in range(VECTORS):
                builder.store(_splat(builder, b_val, vec), acc[r][v])
        with cgutils.for_range(builder, fan_in) as inner:
            k = inner.index
            h_base = builder.add(builder.mul(builder.add(h_row, k), row_len), col)
            h_vecs = [builder.load(vec_ptr(h_ptr, builder.add(h_base, _i64(lanes * v))), align=4)
                      for v in range(VECTORS)]
            w_base = builder.add(w_off, builder.mul(k, w_stride))
            for r in range(rows):
                w = _splat(builder, builder.load(builder.gep(par_ptr, [builder.add(w_base, _i64(r))])), vec)
                for v in range(VECTORS):
                    builder.store(builder.call(fma, [w, h_vecs[v], builder.load(acc[r][v])]), acc[r][v])
        for r in range(rows):
            o_base = builder.add(builder.mul(builder.add(out_row, _i64(r)), row_len), col)
            for v in range(VECTORS):
                value = builder.load(acc[r][v])
                value = builder.select(is_relu, builder.call(vmax, [value, zero_vec]), value)
                builder.store(value, vec_ptr(out_ptr, builder.add(o_base, _i64(lanes * v))), align=4)


def make_dense_tile(shape):
    """The :func:`dense_tile` kernel for a :class:`VectorShape` (any shape runs anywhere, the target's fastest)."""

    def tile_codegen(context, builder, signature, args):
        # A switch on the tile height, each case the micro-kernel for that many units.
        rows = args[0]
        done = builder.append_basic_block("tile_done")
        switch = builder.switch(rows, done)
        for height in range(1, shape.max_rows + 1):
            case = builder.append_basic_block(f"tile_{height}")
            switch.add_case(_i64(height), case)
            builder.position_at_end(case)
            _emit_tile(context, builder, signature.replace(args=signature.args[1:]), args[1:], height, shape.lanes)
            builder.branch(done)
        builder.position_at_end(done)
        return context.get_dummy_value()

    @intrinsic
    def tile(typingctx, rows, out, out_row, params, w_off, w_stride, b_off, h, h_row, fan_in, relu):
        if not (_is_array(out, types.float32, 2) and _is_array(params, types.float32)
                and _is_array(h, types.float32, 2)):
            return None
        i64 = types.int64
        return types.void(i64, out, i64, params, i64, i64, i64, h, i64, i64, i64), tile_codegen

    @numba.njit(inline="always")
    def dense_tile(rows, out, out_row, params, w_off, w_stride, b_off, h, h_row, fan_in, relu):
        """``out[out_row + r, :] = act(b[r] + sum_a params[w_off + a * w_stride + r] * h[h_row + a, :])``.

        For r < ``rows`` (1 .. the shape's ``max_rows``; other heights do
        nothing).  ``b[r]`` is ``params[b_off + r]``, or 0 when ``b_off`` <
        0; act is ReLU when ``relu`` is non-zero, else the identity.  ``out``
        and ``h`` are C-contiguous float32 arrays whose rows have the same
        length, a multiple of the shape's ``block``.  Rows are addressed by
        offsets rather than by array views, which would cost reference
        counting in the per-sample loops.
        """
        tile(np.int64(rows), out, np.int64(out_row), params, np.int64(w_off), np.int64(w_stride),
             np.int64(b_off), h, np.int64(h_row), np.int64(fan_in), np.int64(relu))

    return dense_tile


def make_pack_positive(shape):
    """The :func:`pack_positive` kernel for a :class:`VectorShape`."""
    lanes = shape.lanes
    vec = ir.VectorType(_F32, lanes)

    def pack_codegen(context, builder, signature, args):
        buf, row, keys, r = args
        buf_arr = context.make_array(signature.args[0])(context, builder, buf)
        key_arr = context.make_array(signature.args[2])(context, builder, keys)
        n_words = builder.extract_value(key_arr.shape, 1)
        row_len = builder.extract_value(buf_arr.shape, 1)
        row_base = builder.mul(row, row_len)
        key_base = builder.mul(r, n_words)
        zero_vec = ir.Constant(vec, [0.0] * lanes)
        last_vec = builder.sub(row_len, _i64(lanes))
        with cgutils.for_range(builder, n_words) as loop:
            word = _i64(0)
            for q in range(64 // lanes):
                index = builder.add(builder.mul(loop.index, _i64(64)), _i64(lanes * q))
                # A vector past the row's end (only in a last, partial word) is read
                # from inside the row instead; its bits lie beyond m and are cleared.
                index = builder.select(builder.icmp_signed(">", index, last_vec), last_vec, index)
                ptr = builder.bitcast(builder.gep(buf_arr.data, [builder.add(row_base, index)]), vec.as_pointer())
                positive = builder.fcmp_ordered(">", builder.load(ptr, align=4), zero_vec)
                bits = builder.zext(builder.bitcast(positive, ir.IntType(lanes)), _I64)
                word = builder.or_(word, builder.shl(bits, _i64(lanes * q)))
            builder.store(word, builder.gep(key_arr.data, [builder.add(key_base, loop.index)]))
        return context.get_dummy_value()

    @intrinsic
    def pack(typingctx, buf, row, keys, r):
        if not (_is_array(buf, types.float32, 2) and _is_array(keys, types.uint64, 2)):
            return None
        return types.void(buf, types.int64, keys, types.int64), pack_codegen

    @numba.njit(inline="always")
    def pack_positive(buf, row, keys, r, m):
        """``keys[r]`` = the packed bits ``buf[row, i] > 0`` for i < m (little-endian words, DESIGN.md).

        ``buf``'s rows hold at least m values, in whole register blocks of
        the shape; bits from m on are cleared.
        """
        pack(buf, np.int64(row), keys, np.int64(r))
        rem = m & 63
        if rem:
            keys[r, keys.shape[1] - 1] &= (np.uint64(1) << np.uint64(rem)) - np.uint64(1)

    return pack_positive


dense_tile = make_dense_tile(SHAPE)
pack_positive = make_pack_positive(SHAPE)


TREE_LANES = 64  # networks per call of tree_keys, four vectors of 16
_TREE_WIDTH = 16  # lanes per tree vector: the tree holds no accumulators, so its width need not follow the target
_TREE_VECTORS = TREE_LANES // _TREE_WIDTH
_VEC = ir.VectorType(_F32, _TREE_WIDTH)
_IVEC = ir.VectorType(_I32, _TREE_WIDTH)
_KVEC = ir.VectorType(_I64, _TREE_WIDTH)


def _tree_codegen(context, builder, signature, args):
    vals, cols, root, src, coord, flip, out_node, keys, row0 = args
    arrays = [context.make_array(t)(context, builder, a) if isinstance(t, types.Array) else None
              for t, a in zip(signature.args, args)]
    vals_ptr, cols_ptr, src_ptr, coord_ptr, flip_ptr, out_ptr, key_ptr = (
        arrays[k].data for k in (0, 1, 3, 4, 5, 6, 7))
    n_ops = builder.extract_value(arrays[3].shape, 0)
    m = builder.extract_value(arrays[6].shape, 0)
    n_words = builder.extract_value(arrays[7].shape, 1)

    def lanes(ptr, row, v, vec_type=_VEC):
        index = builder.add(builder.mul(row, _i64(TREE_LANES)), _i64(_TREE_WIDTH * v))
        return builder.bitcast(builder.gep(ptr, [index]), vec_type.as_pointer())

    def entry(ptr, index):
        return builder.sext(builder.load(builder.gep(ptr, [index])), _I64)

    # Node 0 is the bias, or 0.
    has_root = builder.icmp_signed(">=", root, _i64(0))
    root_row = builder.select(has_root, root, _i64(0))
    for v in range(_TREE_VECTORS):
        value = builder.load(lanes(cols_ptr, root_row, v), align=4)
        value = builder.select(has_root, value, ir.Constant(_VEC, [0.0] * _TREE_WIDTH))
        builder.store(value, lanes(vals_ptr, _i64(0), v), align=4)
    # Node k + 1 = node src[k] + (or - when flip[k]) weight coord[k].
    with cgutils.for_range(builder, n_ops) as loop:
        k = loop.index
        parent, weight, node = entry(src_ptr, k), entry(coord_ptr, k), builder.add(k, _i64(1))
        sign = _splat(builder, builder.trunc(entry(flip_ptr, k), _I32), _IVEC)
        for v in range(_TREE_VECTORS):
            x = builder.load(lanes(vals_ptr, parent, v), align=4)
            w = builder.load(lanes(cols_ptr, weight, v, _IVEC), align=4)
            builder.store(builder.fadd(x, builder.bitcast(builder.xor(w, sign), _VEC)),
                          lanes(vals_ptr, node, v), align=4)
    # Key word q of every lane: bit b is set iff the sum at input 64 q + b is > 0.  Each half word
    # gathers its 32 bits in 32-bit lanes, one register per vector, by a masked OR per input.
    zero = ir.Constant(_VEC, [0.0] * _TREE_WIDTH)
    halves = [[cgutils.alloca_once(builder, _IVEC) for _ in range(_TREE_VECTORS)] for _ in range(2)]
    with cgutils.for_range(builder, n_words) as word_loop:
        q = word_loop.index
        first = builder.mul(q, _i64(64))
        left = builder.sub(m, first)
        n_bits = builder.select(builder.icmp_signed("<", left, _i64(64)), left, _i64(64))
        for h, acc in enumerate(halves):
            for v in range(_TREE_VECTORS):
                builder.store(ir.Constant(_IVEC, [0] * _TREE_WIDTH), acc[v])
            in_half = builder.sub(n_bits, _i64(32 * h))
            in_half = builder.select(builder.icmp_signed("<", in_half, _i64(0)), _i64(0), in_half)
            in_half = builder.select(builder.icmp_signed(">", in_half, _i64(32)), _i64(32), in_half)
            with cgutils.for_range(builder, in_half) as bit_loop:
                b = bit_loop.index
                node = entry(out_ptr, builder.add(first, builder.add(b, _i64(32 * h))))
                bit = _splat(builder, builder.shl(ir.Constant(_I32, 1), builder.trunc(b, _I32)), _IVEC)
                for v in range(_TREE_VECTORS):
                    positive = builder.fcmp_ordered(">", builder.load(lanes(vals_ptr, node, v), align=4), zero)
                    old = builder.load(acc[v])
                    builder.store(builder.select(positive, builder.or_(old, bit), old), acc[v])
        for v in range(_TREE_VECTORS):
            low = builder.zext(builder.load(halves[0][v]), _KVEC)
            high = builder.shl(builder.zext(builder.load(halves[1][v]), _KVEC), ir.Constant(_KVEC, [32] * _TREE_WIDTH))
            words = builder.or_(low, high)
            for e in range(_TREE_WIDTH):
                row = builder.add(row0, _i64(_TREE_WIDTH * v + e))
                ptr = builder.gep(key_ptr, [builder.add(builder.mul(row, n_words), q)])
                builder.store(builder.extract_element(words, ir.Constant(_I32, e)), ptr)
    return context.get_dummy_value()


@intrinsic
def _tree(typingctx, vals, cols, root, src, coord, flip, out_node, keys, row0):
    if not (_is_array(vals, types.float32, 2) and _is_array(cols, types.float32, 2)
            and all(_is_array(t, types.int32, 1) for t in (src, coord, flip, out_node))
            and _is_array(keys, types.uint64, 2)):
        return None
    return types.void(vals, cols, types.int64, src, coord, flip, out_node, keys, types.int64), _tree_codegen


@numba.njit(inline="always")
def tree_keys(vals, cols, root, src, coord, flip, out_node, keys, row0):
    """Keys of :data:`TREE_LANES` linear threshold units, one per lane, by a shared sum tree.

    Column j of ``cols`` (n_par x TREE_LANES float32) holds the parameters of
    network j; row ``root`` is the bias (no bias when ``root`` < 0).  Tree
    node 0 is the bias and node k + 1 is node ``src[k]`` plus weight
    ``coord[k]``, negated where ``flip[k]`` is ``-2**31`` (it is 0
    elsewhere); ``vals`` (``len(src) + 1`` x TREE_LANES float32) is
    work space for the nodes.  Both have exactly TREE_LANES columns.  ``keys[row0 + j]`` (all TREE_LANES rows must
    exist) becomes the packed bits ``node[out_node[i]] > 0`` for i <
    ``len(out_node)``.
    """
    _tree(vals, cols, np.int64(root), src, coord, flip, out_node, keys, np.int64(row0))
