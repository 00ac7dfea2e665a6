"""Numba kernels: pure array-in/array-out code that imports nothing else of pysimbias."""
