"""The Walsh–Fourier measure ``walsh_degree`` (DESIGN.md section 3).

The mean degree Σ_S |S| F̂(S)^2 of the ±1 function's Walsh spectrum.  By
Parseval it equals the total influence Σ_j Pr_x[f(x) ≠ f(x ⊕ e_j)], which is
2 / m times the number of cube edges whose ends get different outputs; both
sides are exact integers over m², so counting those edges (word-parallel when
the inputs are in counting order) gives the spectrum's value bit for bit,
without transforming it.  It applies to bit-vector encodings only.  Importing
this module registers it.

The spectrum by degree, Σ_{|S|=k} E[F̂(S)^2] for k = 0..n, is a property of
the whole run rather than of one function: :func:`walsh_spectrum` computes it
(a fast Walsh–Hadamard transform of every distinct function, weighted by its
count), and the counting measure's is :func:`counting_walsh_spectrum`.  Its
mean, Σ_k k · weight_k, is the run's mean ``walsh_degree``.
"""

import math

import numpy as np

from ..kernels.walsh import walsh_degree_totals as _totals_kernel
from ..kernels.walsh import walsh_degree_weights as _walsh_kernel
from .continuity import counting_cube_counts, cube_disagreements
from .registry import Measure, register_measure

__all__ = ["walsh_degree_weights", "walsh_degree_totals", "counting_walsh_spectrum", "walsh_spectrum",
           "walsh_spectrum_entry"]


def _walsh_degree(keys, context):
    shared = counting_cube_counts(keys, context)
    counts = cube_disagreements(keys, context.vertices, 1)[0] if shared is None else shared[:, 0]
    return 2.0 * counts / len(context.vertices)


register_measure(Measure(
    "walsh_degree", "float64",
    "mean degree of the Walsh-Fourier spectrum = total influence (0 to n)",
    _walsh_degree, applies=lambda context: context.vertices is not None))


# ------------------------------------------------------------------ the spectrum by degree


def walsh_degree_weights(keys, vertices, n):
    """Spectral weight of every function at each degree: W_k(f) = Σ_{|S|=k} F̂(S)^2, F = (-1)^f.

    F is read on the cube (input i is vertex ``vertices[i]``) and transformed
    with a fast Walsh–Hadamard transform (:func:`pysimbias.kernels.walsh.walsh_degree_weights`),
    F̂(S) = 2^-n Σ_x F(x) (-1)^{|S ∩ x|}.  By Parseval each row sums to 1, and
    Σ_k k W_k(f) is ``walsh_degree``.

    Returns
    -------
    ndarray of float64, shape (N, n + 1)
    """
    return _walsh_kernel(np.ascontiguousarray(keys, dtype=np.uint64), np.ascontiguousarray(vertices, dtype=np.int64),
                         int(n))


def counting_walsh_spectrum(n):
    """The counting measure's expected weight at each degree: C(n, k) / 2^n.

    For uniformly random F, F̂(S) = 2^-n Σ_x F(x) χ_S(x) is a sum of 2^n
    independent ±2^-n terms, so E[F̂(S)^2] = 2^-n for every S, the empty set
    included; degree k holds C(n, k) of them.
    """
    return np.array([math.comb(int(n), k) for k in range(int(n) + 1)], dtype=np.float64) / 2.0 ** int(n)


def walsh_degree_totals(keys, counts, vertices, n):
    """Σ_f count(f) m² W_k(f) for k = 0..n, as exact Python integers (see :func:`walsh_degree_weights`).

    Summed in integers, so the result depends neither on the order of the
    rows nor on the thread count; rows are taken in pieces whose integer
    sums stay below 2^62.
    """
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    vertices = np.ascontiguousarray(vertices, dtype=np.int64)
    largest = 4 ** int(n)  # m², the most any m² W_k can be
    totals = [0] * (int(n) + 1)
    reach = np.cumsum(counts, dtype=np.float64) * largest  # what rows 0..r add up to, at most
    start = 0
    while start < keys.shape[0]:
        # the longest run of rows from ``start`` whose counts times m² stay below 2^62
        before = reach[start - 1] if start else 0.0
        stop = int(np.searchsorted(reach, before + 2.0 ** 62))
        if stop == start:  # one row whose count alone is that large: its integers times its count, in Python
            stop += 1
            weights = np.rint(walsh_degree_weights(keys[start:stop], vertices, n)[0] * largest)
            piece = [int(counts[start]) * int(w) for w in weights]
        else:
            piece = _totals_kernel(keys[start:stop], counts[start:stop], vertices, int(n)).tolist()
        totals = [total + int(value) for total, value in zip(totals, piece)]
        start = stop
    return totals


def walsh_spectrum_entry(totals, samples, n):
    """The run's spectrum table (manifest entry ``walsh_spectrum``) from :func:`walsh_degree_totals`' integers."""
    scale = max(int(samples), 1) * 4 ** int(n)
    return {"degree": list(range(int(n) + 1)), "prior": [int(total) / scale for total in totals],
            "counting": [float(v) for v in counting_walsh_spectrum(n)]}


def walsh_spectrum(keys, counts, vertices, n):
    """Expected spectral weight at each degree under the sampled P(f): Σ_f P(f) W_k(f) (the manifest entry).

    Exact to the last bit: integer totals divided once.
    """
    counts = np.asarray(counts)
    return walsh_spectrum_entry(walsh_degree_totals(keys, counts, vertices, n), int(counts.sum()), n)
