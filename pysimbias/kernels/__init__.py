"""Numba kernels: pure array-in/array-out code that imports nothing else of pysimbias."""

__all__ = ["prange_only"]


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
