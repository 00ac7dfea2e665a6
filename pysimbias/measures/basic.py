"""The core measures (DESIGN.md section 3): ones, entropy, lz76, klz, lz78.

Importing this module registers them, in that order.
"""

import numpy as np

from ..kernels import lz as lz_kernels
from .registry import Measure, register_measure

__all__ = ["binary_entropy", "k_lz"]


def binary_entropy(ones, m):
    """Binary entropy of ones / m, in bits (0 for constant functions).

    Parameters
    ----------
    ones : ndarray of int, shape (N,)
        Number of 1s of each function.
    m : int
        Number of inputs.

    Returns
    -------
    entropy : ndarray of float64, shape (N,)
        Looked up in a table of the m + 1 possible values, so millions of
        functions cost one gather rather than two logarithms each.
    """
    p = np.arange(int(m) + 1, dtype=np.float64) / m
    q = 1.0 - p
    table = np.zeros_like(p)
    inner = slice(1, int(m))
    table[inner] = -(p[inner] * np.log2(p[inner]) + q[inner] * np.log2(q[inner]))
    return table[np.asarray(ones, dtype=np.int64)]


def k_lz(m, ones, forward, backward):
    """K_LZ of Dingle et al. / Valle-Pérez et al. from its parts.

    ``log2(m) * (forward + backward) / 2``, where forward and backward are
    the lz76 phrase counts of the string and of its reversal; a constant
    string (no 1s or no 0s) gets ``log2(m)``.

    Parameters
    ----------
    m : int
        Number of inputs (string length).
    ones, forward, backward : ndarray of int, shape (N,)
        Number of 1s, lz76 of s, lz76 of reverse(s).

    Returns
    -------
    klz : ndarray of float64, shape (N,)
    """
    ones = np.asarray(ones)
    scale = np.log2(m)
    mean = (np.asarray(forward, dtype=np.float64) + np.asarray(backward, dtype=np.float64)) / 2.0
    constant = (ones == 0) | (ones == m)
    return np.where(constant, scale, scale * mean)


def _ones(keys, context):
    return lz_kernels.count_ones(keys, context.m)


def _entropy(keys, context):
    return binary_entropy(context.results["ones"], context.m)


def _lz76(keys, context):
    return lz_kernels.lz76(keys, context.m, False)


def _klz(keys, context):
    backward = lz_kernels.lz76(keys, context.m, True)
    return k_lz(context.m, context.results["ones"], context.results["lz76"], backward)


def _lz78(keys, context):
    return lz_kernels.lz78(keys, context.m)


register_measure(Measure("ones", "int64", "number of inputs mapped to 1 (count)", _ones))
register_measure(
    Measure(
        "entropy",
        "float64",
        "binary entropy of ones/m (bits, 0 to 1)",
        _entropy,
        requires=("ones",),
    )
)
register_measure(
    Measure("lz76", "int64", "Lempel-Ziv 1976 phrase count, Kaspar-Schuster (phrases)", _lz76)
)
register_measure(
    Measure(
        "klz",
        "float64",
        "K_LZ = log2(m) * mean lz76 of s and reverse(s); log2(m) if s is constant (bits)",
        _klz,
        requires=("ones", "lz76"),
    )
)
register_measure(
    Measure("lz78", "int64", "distinct LZ78 phrases, as lempel_ziv_complexity (phrases)", _lz78)
)
