"""Input encodings: the points a prior sees, and the order functions are written in.

An encoding turns input index i (0 <= i < m) into a point in R^d.  Row i of
``points`` is the point of input i, so character i of a function's text form
is the function's value on that point.
"""

from dataclasses import dataclass

import numpy as np

from .errors import InvalidParameterError

__all__ = ["Encoding", "binary_points", "check_encoding_spec", "make_encoding", "ENCODINGS"]


@dataclass(frozen=True, eq=False)
class Encoding:
    """Encoded input points.

    Attributes
    ----------
    spec : str
        The specification it was built from (e.g. ``"binary"``).
    points : ndarray of float64, shape (m, d)
    n : int or None
        Number of input bits when the points are bit vectors of a hypercube
        (so Hamming-distance measures apply), else None.
    """

    spec: str
    points: np.ndarray
    n: int | None

    @property
    def m(self):
        """Number of inputs."""
        return int(self.points.shape[0])

    @property
    def dim(self):
        """Dimension of the encoded points."""
        return int(self.points.shape[1])

    def transposed32(self):
        """Points as a contiguous float32 (d, m) matrix, the kernels' layout."""
        return np.ascontiguousarray(self.points.T, dtype=np.float32)

    def describe(self):
        """Manifest entry: everything needed to rebuild the encoding."""
        return {"spec": self.spec, "m": self.m, "dim": self.dim, "n": self.n}


def binary_points(n):
    """{0,1}^n in binary counting order: row i is i's n-bit expansion, MSB first."""
    idx = np.arange(1 << n, dtype=np.int64)[:, None]
    shifts = np.arange(n - 1, -1, -1, dtype=np.int64)[None, :]
    return ((idx >> shifts) & 1).astype(np.float64)


def _binary(n):
    return Encoding("binary", binary_points(n), n)


def _pm1(n):
    return Encoding("pm1", 2.0 * binary_points(n) - 1.0, n)


ENCODINGS = {
    "binary": (_binary, "{0,1}^n in binary counting order (default)"),
    "pm1": (_pm1, "{-1,+1}^n in the same order"),
}


def check_encoding_spec(spec):
    """Check that ``spec`` names a known encoding; return it as a string."""
    name = str(spec).split(":", 1)[0]
    if name not in ENCODINGS:
        raise InvalidParameterError(
            "encoding", f"unknown encoding {spec!r}; choose from {', '.join(ENCODINGS)}"
        )
    return str(spec)


def make_encoding(spec, n):
    """Build the encoding named by ``spec`` for ``n`` input bits."""
    spec = check_encoding_spec(spec)
    return ENCODINGS[spec.split(":", 1)[0]][0](n)
