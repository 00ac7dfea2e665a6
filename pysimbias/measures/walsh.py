"""The Walsh–Fourier measure ``walsh_degree`` (DESIGN.md section 3).

The mean degree Σ_S |S| F̂(S)^2 of the ±1 function's Walsh spectrum.  By
Parseval it equals the total influence Σ_j Pr_x[f(x) ≠ f(x ⊕ e_j)], which is
2 / m times the number of cube edges whose ends get different outputs; both
sides are exact integers over m², so counting those edges (word-parallel when
the inputs are in counting order) gives the spectrum's value bit for bit,
without transforming it.  It applies to bit-vector encodings only.  Importing
this module registers it.
"""

from .continuity import cube_disagreements
from .registry import Measure, register_measure


def _walsh_degree(keys, context):
    counts, _ = cube_disagreements(keys, context.vertices, 1)
    return 2.0 * counts / len(context.vertices)


register_measure(Measure(
    "walsh_degree", "float64",
    "mean degree of the Walsh-Fourier spectrum = total influence (0 to n)",
    _walsh_degree, applies=lambda context: context.vertices is not None))
