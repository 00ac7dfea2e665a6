"""What this machine can do in FP32: the FMA peak of all cores and NumPy's sgemm, measured in the same run.

The FMA peak is a Numba loop of independent fused multiply-add chains, one
loop per thread on every Numba thread: enough chains (``CHAINS`` floats, so
several vector registers' worth) that each FMA unit always has work while
earlier FMAs finish.  sgemm is ``numpy.matmul`` of two square float32
matrices, BLAS on all its threads.  The network benchmarks print their
arithmetic rate as a share of both (:func:`arithmetic_line`).

Run: ``python benchmarks/bench_machine.py``
"""

import functools

import numba
import numpy as np

from common import best_times, machine_line

#: Independent accumulators per thread (10 AVX2 or 5 AVX-512 registers of float32).
CHAINS = 80
#: FMA steps of every chain per measurement.
STEPS = 1 << 23
SGEMM_SIZE = 2048


@numba.njit(parallel=True, fastmath=True, cache=True)
def _fma_chains(steps, scale, shift, out):
    """Every thread runs ``steps`` FMAs on each of ``CHAINS`` accumulators; ``out[t]`` keeps their sum."""
    for t in numba.prange(out.shape[0]):
        acc = np.empty(CHAINS, dtype=np.float32)
        for j in range(CHAINS):
            acc[j] = np.float32(t + j) * np.float32(1e-3)
        for _ in range(steps):
            for j in range(CHAINS):
                acc[j] = acc[j] * scale + shift
        out[t] = acc.sum()


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
