"""Numba kernels: pure array-in/array-out code that imports nothing else of pysimbias."""

import os

import numba
from numba.core import codegen

__all__ = ["prange_only", "full_width_vectors"]

#: The LLVM feature that tells its vectorizers to prefer 256-bit vectors
#: where 512-bit ones exist (a tuning default for Intel's AVX-512 CPUs).
_PREFER_256 = "prefer-256-bit"


def full_width_vectors(environ=os.environ):
    """On an AVX-512 CPU, let Numba's loop vectorizer use 512-bit vectors; return whether it was set.

    LLVM tunes Intel's AVX-512 CPUs to prefer 256-bit vectors, so loops that
    Numba vectorizes (the normal generator, the activations, the measures)
    use half the vector width the explicit dense kernel uses.  Turning that
    preference off made the normal generator 1.6x faster and the 7-40-40-1
    sampler 1.13x (docs/performance.md).  Elementwise loops give the same
    values at any width, and no kernel reorders a floating-point sum
    (fastmath loops are elementwise), so results do not change.

    It sets ``NUMBA_CPU_FEATURES`` to the host's features with
    ``-prefer-256-bit`` added, before any kernel compiles, and only when the
    CPU has AVX-512 and neither ``NUMBA_CPU_FEATURES`` nor ``NUMBA_CPU_NAME``
    is set (a user's own choice is kept).  Processes started from this one
    (the warm-up worker, local Dask workers) inherit it, so they compile and
    cache the same code.
    """
    if environ.get("NUMBA_CPU_FEATURES") or environ.get("NUMBA_CPU_NAME"):
        return False
    features = codegen.get_host_cpu_features()
    if "+avx512f" not in features.split(","):
        return False
    environ["NUMBA_CPU_FEATURES"] = f"{features},-{_PREFER_256}"
    numba.config.reload_config()
    return True


full_width_vectors()


def prange_only():
    """Numba's ``parallel`` option of every parallel kernel: only its explicit ``prange`` loops run in parallel.

    NumPy expressions and array assignments are left serial rather than
    turned into parallel loops (none is large enough to gain from it; inside
    a ``prange`` they would run serially anyway), which spares the passes
    that look for and fuse them: about a third of a parallel kernel's
    compile time (11.0 s to 7.7 s of CPU for the sort's ``_bucket_order``).
    A new dict each time: Numba empties the one it is given.
    """
    return {"prange": True, "comprehension": False, "reduction": False, "inplace_binop": False, "setitem": False,
            "numpy": False, "stencil": False, "fusion": False}
