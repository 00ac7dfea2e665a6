"""Explicit float64 vector code for kernels that keep one independent problem per SIMD lane.

Pure array-in / array-out, like every kernel module.  The arrays hold
:data:`LANES` values per *row*: a C-contiguous float64 array of any shape
whose last axis has length :data:`LANES`, addressed by its row index in the
flat ``(-1, LANES)`` view.  Each function here loads whole rows as one
``<LANES x double>`` LLVM vector, so lane l of every row belongs to problem
l and lanes never mix.  Numba leaves the superword (SLP) vectorizer off and
LLVM fully unrolls a loop over 4 lanes before its loop vectorizer could see
it, so plain per-lane loops stay scalar; these intrinsics emit the vector
instructions directly (as :mod:`pysimbias.kernels.vector` does for the
sampler).  Every lane goes through the same instructions, so a problem's
result does not depend on its lane or on the other lanes.

Multiply-adds are ``llvm.fma`` (rounded once).
"""

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .vector import _i64, _splat

__all__ = ["LANES", "DOT_ROWS", "lane_dots", "lane_copy", "lane_mul", "lane_add", "lane_sgd", "lane_adam"]

#: Values per row: 4 float64 values fill one 256-bit (AVX2) vector.
LANES = 4

_F64 = ir.DoubleType()
_VEC = ir.VectorType(_F64, LANES)


def _is_lane_array(t):
    """Whether Numba type ``t`` is a C-contiguous float64 array."""
    return isinstance(t, types.Array) and t.dtype == types.float64 and t.layout == "C"


def _row_pointer(context, builder, array_type, array, row):
    """Pointer to row ``row`` (of :data:`LANES` values) of ``array``, as a vector pointer."""
    data = context.make_array(array_type)(context, builder, array).data
    return builder.bitcast(builder.gep(data, [builder.mul(row, _i64(LANES))]), _VEC.as_pointer())


def _fma(builder, a, b, c):
    """``a * b + c`` on vectors, rounded once."""
    fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_VEC, [_VEC] * 3), f"llvm.fma.v{LANES}f64")
    return builder.call(fma, [a, b, c])


def _elementwise(n_rows, n_scalars, outputs, emit):
    """Codegen of an intrinsic ``op(a0, r0, a1, r1, ..., s0, s1, ...)`` on rows ``a_i[r_i]`` and scalars ``s_k``.

    ``emit(builder, rows, scalars)`` gets the loaded rows and the splatted
    scalars as vectors and returns one vector per array index in
    ``outputs``, which is stored back into that row.
    """

    def codegen(context, builder, signature, args):
        pointers = [_row_pointer(context, builder, signature.args[2 * i], args[2 * i], args[2 * i + 1])
                    for i in range(n_rows)]
        rows = [builder.load(pointer, align=8) for pointer in pointers]
        scalars = [_splat(builder, args[2 * n_rows + k], _VEC) for k in range(n_scalars)]
        for index, value in zip(outputs, emit(builder, rows, scalars)):
            builder.store(value, pointers[index], align=8)
        return context.get_dummy_value()

    return codegen


def _signature(arrays, n_scalars):
    """``void(array, int64, array, int64, ..., float64 x n_scalars)``, or None if an array is not a lane array."""
    if not all(map(_is_lane_array, arrays)):
        return None
    return types.void(*[t for array in arrays for t in (array, types.int64)], *[types.float64] * n_scalars)


@intrinsic
def _copy(typingctx, out, out_row, x, x_row):
    return _signature((out, x), 0), _elementwise(2, 0, (0,), lambda builder, rows, scalars: [rows[1]])


@intrinsic
def _mul(typingctx, out, out_row, x, x_row):
    return (_signature((out, x), 0),
            _elementwise(2, 0, (0,), lambda builder, rows, scalars: [builder.fmul(rows[0], rows[1])]))


@intrinsic
def _add(typingctx, out, out_row, x, x_row):
    return (_signature((out, x), 0),
            _elementwise(2, 0, (0,), lambda builder, rows, scalars: [builder.fadd(rows[0], rows[1])]))


def _emit_sgd(builder, rows, scalars):
    param, velocity, grad = rows
    lr, momentum = scalars
    velocity = _fma(builder, momentum, velocity, grad)
    return [builder.fsub(param, builder.fmul(lr, velocity)), velocity]


@intrinsic
def _sgd(typingctx, params, p_row, velocity, v_row, grad, g_row, lr, momentum):
    return _signature((params, velocity, grad), 2), _elementwise(3, 2, (0, 1), _emit_sgd)


def _emit_adam(builder, rows, scalars):
    param, first, second, grad, fix1, fix2 = rows
    lr, beta1, beta2, eps, one = scalars
    first = _fma(builder, beta1, first, builder.fmul(builder.fsub(one, beta1), grad))
    second = _fma(builder, beta2, second, builder.fmul(builder.fmul(builder.fsub(one, beta2), grad), grad))
    sqrt = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_VEC, [_VEC]), f"llvm.sqrt.v{LANES}f64")
    denominator = builder.fadd(builder.call(sqrt, [builder.fdiv(second, fix2)]), eps)
    step = builder.fdiv(builder.fmul(lr, builder.fdiv(first, fix1)), denominator)
    return [builder.fsub(param, step), first, second]


@intrinsic
def _adam(typingctx, params, p_row, first, m_row, second, v_row, grad, g_row, fix1, f1_row, fix2, f2_row, lr, beta1,
          beta2, eps, one):
    return _signature((params, first, second, grad, fix1, fix2), 5), _elementwise(6, 5, (0, 1, 2), _emit_adam)


#: Most output rows one :func:`lane_dots` call sums at once, each in a register of its own.
DOT_ROWS = 8


def _emit_dots(context, builder, signature, args, count):
    """Emit the sums of ``count`` output rows at the builder's position (see :func:`lane_dots`)."""
    out, out_row, out_rs, x, x_row, x_step, w, w_row, w_rs, w_step, n = args
    t_out, t_x, t_w = signature.args[0], signature.args[3], signature.args[6]
    out_ptrs = [_row_pointer(context, builder, t_out, out, builder.add(out_row, builder.mul(out_rs, _i64(r))))
                for r in range(count)]
    x_data = context.make_array(t_x)(context, builder, x).data
    w_data = context.make_array(t_w)(context, builder, w).data
    accs = [cgutils.alloca_once_value(builder, builder.load(ptr, align=8)) for ptr in out_ptrs]

    def load(data, row):
        return builder.load(builder.bitcast(builder.gep(data, [builder.mul(row, _i64(LANES))]), _VEC.as_pointer()),
                            align=8)

    with cgutils.for_range(builder, n) as loop:
        x_vec = load(x_data, builder.add(x_row, builder.mul(loop.index, x_step)))
        w_base = builder.add(w_row, builder.mul(loop.index, w_step))
        for r in range(count):
            w_vec = load(w_data, builder.add(w_base, builder.mul(w_rs, _i64(r))))
            builder.store(_fma(builder, x_vec, w_vec, builder.load(accs[r])), accs[r])
    for acc, ptr in zip(accs, out_ptrs):
        builder.store(builder.load(acc), ptr, align=8)


def _dots_codegen(context, builder, signature, args):
    # A switch on the number of rows, each case the code for that many.
    count = args[0]
    done = builder.append_basic_block("dots_done")
    switch = builder.switch(count, done)
    for rows in range(1, DOT_ROWS + 1):
        case = builder.append_basic_block(f"dots_{rows}")
        switch.add_case(_i64(rows), case)
        builder.position_at_end(case)
        _emit_dots(context, builder, signature.replace(args=signature.args[1:]), args[1:], rows)
        builder.branch(done)
    builder.position_at_end(done)
    return context.get_dummy_value()


@intrinsic
def _dots(typingctx, count, out, out_row, out_rs, x, x_row, x_step, w, w_row, w_rs, w_step, n):
    if not (_is_lane_array(out) and _is_lane_array(x) and _is_lane_array(w)):
        return None
    i64 = types.int64
    return types.void(i64, out, i64, i64, x, i64, i64, w, i64, i64, i64, i64), _dots_codegen


@numba.njit(inline="always")
def lane_dots(out, out_row, out_rs, x, x_row, x_step, w, w_row, w_rs, w_step, n, count):
    """``out[out_row + r out_rs] += sum_t x[x_row + t x_step] * w[w_row + r w_rs + t w_step]``, lane by lane.

    For every r < ``count``; each sum is taken in order of t < ``n`` with
    one fused multiply-add per term, in a register, :data:`DOT_ROWS` rows
    at a time (which share the loads of x).
    """
    for r0 in range(0, count, DOT_ROWS):
        _dots(np.int64(min(DOT_ROWS, count - r0)), out, np.int64(out_row + r0 * out_rs), np.int64(out_rs), x,
              np.int64(x_row), np.int64(x_step), w, np.int64(w_row + r0 * w_rs), np.int64(w_rs), np.int64(w_step),
              np.int64(n))


@numba.njit(inline="always")
def lane_copy(out, out_row, x, x_row):
    """``out[out_row] = x[x_row]``."""
    _copy(out, np.int64(out_row), x, np.int64(x_row))


@numba.njit(inline="always")
def lane_mul(out, out_row, x, x_row):
    """``out[out_row] *= x[x_row]``."""
    _mul(out, np.int64(out_row), x, np.int64(x_row))


@numba.njit(inline="always")
def lane_add(out, out_row, x, x_row):
    """``out[out_row] += x[x_row]``."""
    _add(out, np.int64(out_row), x, np.int64(x_row))


@numba.njit(inline="always")
def lane_sgd(params, velocity, grad, row, lr, momentum):
    """SGD with momentum on one row: ``v <- momentum v + g`` (one fused multiply-add), ``p <- p - lr v``."""
    _sgd(params, np.int64(row), velocity, np.int64(row), grad, np.int64(row), np.float64(lr), np.float64(momentum))


@numba.njit(inline="always")
def lane_adam(params, first, second, grad, row, fix, lr, beta1, beta2, eps):
    """Adam on one row with lane l's bias corrections ``fix[0, l]`` = 1 - beta1^t, ``fix[1, l]`` = 1 - beta2^t.

    ``m <- beta1 m + (1 - beta1) g``, ``v <- beta2 v + (1 - beta2) g g``,
    ``p <- p - lr (m / fix1) / (sqrt(v / fix2) + eps)``.
    """
    _adam(params, np.int64(row), first, np.int64(row), second, np.int64(row), grad, np.int64(row), fix, np.int64(0),
          fix, np.int64(1), np.float64(lr), np.float64(beta1), np.float64(beta2), np.float64(eps), np.float64(1.0))
