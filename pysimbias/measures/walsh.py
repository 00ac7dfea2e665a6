"""The Walsh–Fourier measure ``walsh_degree`` (DESIGN.md section 3).

The mean degree Σ_S |S| F̂(S)^2 of the ±1 function's Walsh spectrum; it equals
the total influence (average sensitivity) of the function.  It applies to
bit-vector encodings only.  Importing this module registers it.
"""

import numpy as np

from .registry import Measure, register_measure
from .walsh_kernels import walsh_degree


def _walsh_degree(keys, context):
    vertices = np.asarray(context.vertices, dtype=np.int64)
    index_of_vertex = np.empty_like(vertices)
    index_of_vertex[vertices] = np.arange(vertices.shape[0], dtype=np.int64)
    return walsh_degree(keys, index_of_vertex)


register_measure(Measure(
    "walsh_degree", "float64",
    "mean degree of the Walsh-Fourier spectrum = total influence (0 to n)",
    _walsh_degree, applies=lambda context: context.vertices is not None))
