"""The Boolean-complexity measure ``sop``: literals in a small sum-of-products of f over its n input bits.

Valle-Pérez et al. (2019) measure a function by the number of literals in a
minimal disjunctive normal form.  ``sop`` gives that count for the DNF that
the Espresso heuristic (pyeda's ``espresso``, the single-output cover of the
full truth table) returns: an upper bound on the minimum, equal to it for
every function of n <= 3 (checked against brute force in the tests).  The
function is read on the cube through the encoding's vertices, so it applies
to bit-vector encodings only.  A constant has 0 literals; the parity of n bits
n * 2^(n-1).

It costs about 2 ms per function of n = 7, so it is not a default measure:
``pysimbias sample --measures sop`` (or ``sample(..., measures=["sop"])``)
adds it.  Importing this module registers it; pyeda is imported on first use.
"""

import numpy as np

from ..errors import InvalidParameterError
from ..kernels.bits import unpack_bits
from .registry import Measure, register_measure

__all__ = ["sop_literals"]


def _espresso():
    try:
        from pyeda.boolalg.espresso import FTYPE, RTYPE, espresso, set_config
        from pyeda.boolalg.minimization import CONFIG
    except ImportError:
        raise InvalidParameterError("measures", "the sop measure needs pyeda (pip install pyeda)") from None
    set_config(**CONFIG)
    return lambda n, cover: espresso(n, 1, cover, intype=FTYPE | RTYPE)


def sop_literals(bits, vertices, n):
    """Literals in Espresso's sum-of-products cover of one function.

    Parameters
    ----------
    bits : array_like of bool, shape (m,)
        f(input i) for every input.
    vertices : array_like of int64, shape (m,)
        Cube vertex of every input (bit n-1-j of the vertex is coordinate j).
    n : int
        Input bits (m = 2**n).

    Returns
    -------
    int
    """
    minimise = _espresso()
    cubes = {(tuple(2 if (int(v) >> (n - 1 - j)) & 1 else 1 for j in range(n)), (int(bool(b)),))
             for v, b in zip(vertices, bits)}
    cover = minimise(int(n), cubes)
    return sum(sum(1 for part in inputs if part != 3) for inputs, outputs in cover if outputs[0])


def _sop(keys, context):
    bits = unpack_bits(keys, context.m)
    return np.array([sop_literals(row, context.vertices, context.n) for row in bits], dtype=np.int64)


register_measure(Measure(
    "sop", "int64", "literals in the Espresso sum-of-products (minimal DNF) over the n bits (heuristic; on request)",
    _sop, applies=lambda context: context.vertices is not None, default=False,
    needs="a bit-vector encoding (binary, pm1, gray, permuted)"))
