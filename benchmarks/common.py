"""Shared helpers for the benchmarks: timing, machine description, result lines."""

import os
import platform
import resource
import time

import numba
import numpy as np

from pysimbias.kernels.vector import SHAPE


def cpu_time():
    """CPU seconds this process has used so far, all its threads, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def best_times(funcs, repeat=3, clock=time.perf_counter):
    """Smallest time of each of ``funcs`` over ``repeat`` rounds in which they take turns.

    Each function is called once to warm up first.  Taking turns puts every
    function through the same phases of a machine whose speed drifts, so
    the ratios between them hold even where the rates themselves do not.
    ``clock`` is wall time by default; :func:`cpu_time` counts only this
    process's own work, which other jobs on a shared machine disturb less.
    """
    for func in funcs:
        func()
    best = [float("inf")] * len(funcs)
    for _ in range(repeat):
        for i, func in enumerate(funcs):
            start = clock()
            func()
            best[i] = min(best[i], clock() - start)
    return best


def cpu_model():
    """The processor's model name, as /proc/cpuinfo gives it."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_kernel():
    """Which BLAS library and kernel numpy's matmul uses (threadpoolctl)."""
    from threadpoolctl import threadpool_info

    infos = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
             for i in threadpool_info() if i.get("user_api") == "blas"]
    return ", ".join(infos) or "unknown"


def machine_line():
    """One line describing the machine and the numerical stack."""
    return (f"machine: {cpu_model()}, {os.cpu_count()} cores, numba {numba.__version__} "
            f"({numba.get_num_threads()} threads, dense kernel {SHAPE.lanes} float32 lanes x {SHAPE.max_rows} "
            f"units for {SHAPE.isa}), numpy {np.__version__}, BLAS {blas_kernel()}")


def report(name, rate, unit, baseline_rate=None, baseline_name="plain NumPy"):
    """Print one benchmark result line (and the ratio against the baseline)."""
    line = f"{name}: {rate:,.0f} {unit}"
    if baseline_rate:
        line += f" | {baseline_name}: {baseline_rate:,.0f} {unit} | ratio {rate / baseline_rate:.1f}x"
    print(line, flush=True)


def perceptron_table_batches(samples):
    """The distinct functions of a perceptron run (n = 7, seed 1), cut into ``functions.parquet``'s row batches.

    Returns the run, its histogram, its measure context, the batches (slices
    of the table in table order) and the default measures' names; prints the
    sizes.
    """
    import pysimbias
    from pysimbias.store.rundir import function_batch_rows

    run = pysimbias.sample(prior="perceptron", n=7, samples=int(samples), seed=1)
    hist, context = run.histogram, run.measure_context()
    step = function_batch_rows(hist.m)
    batches = [slice(start, start + step) for start in range(0, hist.distinct, step)]
    print(f"{hist.distinct:,} distinct functions of {hist.samples:,} samples, {len(batches)} batches of {step:,}")
    return run, hist, context, batches, list(run.measures)
