"""What this machine can do in FP32: the FMA peak of all cores and NumPy's sgemm, measured in the same run.

The FMA peak is a loop of independent fused multiply-add chains, one loop
per thread on every Numba thread: ten vector registers at the dense
kernel's width (``CHAINS`` floats), so that each FMA unit always has work
while earlier FMAs finish.  sgemm is ``numpy.matmul`` of two square float32
matrices, BLAS on all its threads.  The network benchmarks print their
arithmetic rate as a share of both (:func:`arithmetic_line`).

Run: ``python benchmarks/bench_machine.py``
"""

import functools

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from common import best_times, machine_line
from pysimbias.kernels.vector import SHAPE

#: Independent accumulators per thread: vector registers of float32 at the
#: width the dense kernel uses (8 lanes with AVX2, 16 with AVX-512), enough
#: of them to keep two FMA pipes of latency 4 to 5 busy without spilling.
REGISTERS = 10
CHAINS = REGISTERS * SHAPE.lanes
#: FMA steps of every chain per measurement.
STEPS = 1 << 23
SGEMM_SIZE = 2048


@intrinsic
def _vector_chains(typingctx, steps, scale, shift):
    """``REGISTERS`` explicit vectors of ``SHAPE.lanes`` float32, each run through ``steps`` FMAs; their lane sum.

    Written as LLVM vector code, like the dense kernel, so that it runs at
    the dense kernel's width: Numba's loop vectorizer prefers 256-bit
    vectors even where 512-bit ones exist.
    """
    if steps != types.int64 or scale != types.float32 or shift != types.float32:
        return None

    def codegen(context, builder, signature, args):
        vec = ir.VectorType(ir.FloatType(), SHAPE.lanes)
        fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vec, [vec, vec, vec]),
                                             f"llvm.fma.v{SHAPE.lanes}f32")
        splat = [builder.insert_element(ir.Constant(vec, ir.Undefined), value, ir.Constant(ir.IntType(32), 0))
                 for value in args[1:]]
        scale_vec, shift_vec = (builder.shuffle_vector(v, ir.Constant(vec, ir.Undefined),
                                                       ir.Constant(ir.VectorType(ir.IntType(32), SHAPE.lanes),
                                                                   [0] * SHAPE.lanes)) for v in splat)
        accs = [cgutils.alloca_once_value(builder, ir.Constant(vec, [1e-3 * (r * SHAPE.lanes + k)
                                                                      for k in range(SHAPE.lanes)]))
                for r in range(REGISTERS)]
        with cgutils.for_range(builder, args[0]):
            for acc in accs:
                builder.store(builder.call(fma, [builder.load(acc), scale_vec, shift_vec]), acc)
        total = builder.load(accs[0])
        for acc in accs[1:]:
            total = builder.fadd(total, builder.load(acc))
        result = builder.extract_element(total, ir.Constant(ir.IntType(32), 0))
        for k in range(1, SHAPE.lanes):
            result = builder.fadd(result, builder.extract_element(total, ir.Constant(ir.IntType(32), k)))
        return result

    return types.float32(types.int64, types.float32, types.float32), codegen


@numba.njit(parallel=True)
def _fma_chains(steps, scale, shift, out):
    """Every thread runs ``steps`` FMAs on each of ``CHAINS`` accumulators; ``out[t]`` keeps their sum."""
    for t in numba.prange(out.shape[0]):
        out[t] = _vector_chains(steps, scale, shift)


def fma_peak_gflops(repeat=3):
    """FP32 GFLOP/s of independent FMA chains on every Numba thread (an FMA counts 2 FLOP)."""
    threads = numba.get_num_threads()
    out = np.zeros(threads, dtype=np.float32)
    # scale and shift keep the accumulators bounded (a fixed point at 1), so no denormals slow it down.
    (seconds,) = best_times([lambda: _fma_chains(STEPS, np.float32(0.5), np.float32(0.5), out)], repeat)
    return 2 * CHAINS * STEPS * threads / seconds / 1e9


def sgemm_gflops(size=SGEMM_SIZE, repeat=3):
    """FP32 GFLOP/s of ``numpy.matmul`` of two ``size`` x ``size`` matrices."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    (seconds,) = best_times([lambda: a @ b], repeat)
    return 2 * size**3 / seconds / 1e9


@functools.lru_cache(maxsize=1)
def machine_rates():
    """(FMA peak, sgemm) in GFLOP/s, measured once per process, the one right after the other."""
    return fma_peak_gflops(), sgemm_gflops()


def arithmetic_line(samples_per_second, flop_per_sample):
    """A network's arithmetic rate, and that rate as a share of the FMA peak and of sgemm."""
    peak, sgemm = machine_rates()
    rate = samples_per_second * flop_per_sample / 1e9
    return (f"arithmetic: {flop_per_sample:,} FLOP/sample -> {rate:,.1f} GFLOP/s = {rate / peak:.1%} of the FP32 "
            f"FMA peak ({peak:,.0f} GFLOP/s), {rate / sgemm:.1%} of NumPy sgemm ({sgemm:,.0f} GFLOP/s)")


def main():
    print(machine_line())
    peak, sgemm = machine_rates()
    print(f"FP32 FMA peak: {peak:,.1f} GFLOP/s on {numba.get_num_threads()} threads ({CHAINS} chains each)")
    print(f"NumPy sgemm {SGEMM_SIZE}x{SGEMM_SIZE}: {sgemm:,.1f} GFLOP/s ({sgemm / peak:.0%} of the FMA peak)")


if __name__ == "__main__":
    main()
