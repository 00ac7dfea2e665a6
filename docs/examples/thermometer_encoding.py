"""The thermometer encoding: input i is i ones followed by zeros, a line of m points.

Its metric is one-dimensional: the Euclidean distance between inputs i and j
is sqrt(|i - j|), so the neighbour graph joins each input to the inputs
just before and after it in counting order.
"""

import numpy as np

from pysimbias.inputs.encodings import ENCODINGS, Encoding


def thermometer(spec, n):
    """The 2^n points of {0,1}^(2^n - 1): row i has ones in its first i coordinates."""
    m = 1 << n
    points = np.arange(m)[:, None] > np.arange(m - 1)[None, :]
    return Encoding.from_points(spec, points.astype(np.float64))


def no_arguments(args, spec):
    """The parsed arguments of ``thermometer``: none (None marks a malformed spec)."""
    return [] if not args else None


ENCODINGS["thermometer"] = (thermometer, no_arguments, "thermometer", "input i as i ones then zeros: a line")
