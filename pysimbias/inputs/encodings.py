"""Input encodings: the points a prior sees, and the order functions are written in.

An encoding turns input index i (0 <= i < m) into a point in R^d.  Row i of
``points`` is the point of input i, so character i of a function's text form
is the function's value on that point.  The encoding therefore fixes three
things at once: the points, their order, and (through
:mod:`pysimbias.inputs.graphs`) the metric that continuity-aware measures read.

Specifications (``--encoding``):

``binary``, ``pm1``
    {0,1}^n and {-1,+1}^n in binary counting order (input i = i's n-bit
    expansion, most significant bit first).
``onehot``
    The m = 2^n unit vectors of R^m (the m x m identity): every input
    equidistant from every other, no metric structure.
``gray``, ``permuted[:SEED]``
    The points of ``binary`` in another order: the reflected Gray code
    (input i is the bit pattern of ``i ^ (i >> 1)``), or the fixed random
    order ``Generator(PCG64(SEED)).permutation(m)`` (SEED defaults to 0).
``gaussian:D[:SEED]``
    m = 2^n independent standard normal points in R^D,
    ``Generator(PCG64(SEED)).standard_normal((m, D))``.
``grid:D:K``
    The K^D points of a regular grid in [-1, 1]^D (``--n`` is not used: m = K^D),
    last coordinate fastest.
``file:PATH``
    An (m, d) matrix from a ``.npy`` or ``.csv`` file (m is its row count).
``py:MODULE:FUNCTION``
    ``FUNCTION(n)`` from an importable module (or a ``.py`` file path)
    returning an (m, d) array.

Every encoding whose points are the full cube {0,1}^d or {-1,+1}^d (in any
order) is recognised as a bit-vector encoding: :attr:`Encoding.n` is d and
:attr:`Encoding.vertices` says which cube vertex each input is, so the
Hamming-distance measures apply.
"""

import hashlib
import importlib
import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidParameterError

__all__ = [
    "Encoding",
    "ENCODINGS",
    "MAX_INPUTS",
    "MAX_ENTRIES",
    "binary_points",
    "gray_order",
    "cube_vertices",
    "check_points",
    "check_encoding_spec",
    "make_encoding",
]

#: Largest number of inputs an encoding may have (the same as 2**MAX_N).
MAX_INPUTS = 1 << 16
#: Largest number of entries (m * d) of an encoding's point matrix.
MAX_ENTRIES = 1 << 25


@dataclass(frozen=True, eq=False)
class Encoding:
    """Encoded input points.

    Build encodings with :func:`make_encoding` (or :meth:`from_points`), which
    checks the points and works out ``n`` and ``vertices``.

    Attributes
    ----------
    spec : str
        The specification it was built from (e.g. ``"binary"``).
    points : ndarray of float64, shape (m, d)
        Row i is the point of input i.
    n : int or None
        d when the points are the cube {0,1}^d or {-1,+1}^d in some order
        (so Hamming-distance measures apply), else None.
    vertices : ndarray of int64, shape (m,), or None
        For bit-vector encodings, ``vertices[i]`` is the cube vertex of input
        i as an integer: its bits, most significant first, are the point's
        coordinates (1 for the larger of the two values).
    source : dict
        Extra facts for the manifest (a custom matrix's path, module, ...).
    """

    spec: str
    points: np.ndarray
    n: int | None = None
    vertices: np.ndarray | None = None
    source: dict = field(default_factory=dict)

    @classmethod
    def from_points(cls, spec, points, source=None):
        """Check ``points`` (see :func:`check_points`) and wrap them as an encoding."""
        points = check_points(points, spec)
        vertices = cube_vertices(points)
        n = None if vertices is None else points.shape[1]
        return cls(spec, points, n, vertices, dict(source or {}))

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

    def points_sha256(self):
        """SHA-256 of the points as little-endian float64, row-major."""
        data = np.ascontiguousarray(self.points, dtype="<f8")
        return hashlib.sha256(data.tobytes()).hexdigest()

    def describe(self):
        """Manifest entry: the spec, sizes, a checksum of the points, and their source."""
        return {"spec": self.spec, "m": self.m, "dim": self.dim, "n": self.n,
                "points_sha256": self.points_sha256(), **self.source}


def binary_points(n):
    """{0,1}^n in binary counting order: row i is i's n-bit expansion, MSB first."""
    idx = np.arange(1 << n, dtype=np.int64)[:, None]
    shifts = np.arange(n - 1, -1, -1, dtype=np.int64)[None, :]
    return ((idx >> shifts) & 1).astype(np.float64)


def gray_order(n):
    """The reflected Gray code: entry i is ``i ^ (i >> 1)``."""
    idx = np.arange(1 << n, dtype=np.int64)
    return idx ^ (idx >> 1)


def cube_vertices(points):
    """Cube vertex of every point if the points are {0,1}^d or {-1,+1}^d, else None.

    Parameters
    ----------
    points : ndarray of float64, shape (m, d)

    Returns
    -------
    vertices : ndarray of int64, shape (m,), or None
        A permutation of ``0 .. m-1`` when m = 2**d, every coordinate takes
        only the two values {0, 1} (or only {-1, +1}) and no point repeats.
    """
    m, d = points.shape
    if d > 62 or m != 1 << d:
        return None
    for low, high in ((0.0, 1.0), (-1.0, 1.0)):
        if np.all((points == low) | (points == high)):
            bits = (points == high).astype(np.int64)
            vertices = bits @ (np.int64(1) << np.arange(d - 1, -1, -1, dtype=np.int64))
            if np.unique(vertices).size == m:
                return vertices
    return None


def check_points(points, spec="custom"):
    """Validate an encoding's point matrix; return it as float64 (m, d).

    Raises
    ------
    InvalidParameterError
        Naming ``encoding``, if the points are not a finite numeric 2-d array
        with 2 to MAX_INPUTS rows, at least one column and at most
        MAX_ENTRIES entries.
    """
    try:
        raw = np.asarray(points)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError("encoding", f"{spec}: the points are not a numeric matrix ({exc})") from None
    if raw.dtype.kind not in "biuf":
        raise InvalidParameterError(
            "encoding", f"{spec}: the points must be real numbers, got an array of dtype {raw.dtype}")
    array = raw.astype(np.float64)
    if array.ndim != 2:
        raise InvalidParameterError(
            "encoding", f"{spec}: the points must be a 2-d (m, d) array, got shape {array.shape}")
    m, d = array.shape
    if not 2 <= m <= MAX_INPUTS:
        raise InvalidParameterError("encoding", f"{spec}: need 2 to {MAX_INPUTS} inputs (rows), got {m}")
    if d < 1 or m * d > MAX_ENTRIES:
        raise InvalidParameterError(
            "encoding", f"{spec}: need at least one column and at most {MAX_ENTRIES:,} entries, "
                        f"got shape ({m}, {d})")
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
        raise InvalidParameterError("encoding", f"{spec}: the points must be finite; row {bad} is not")
    return np.ascontiguousarray(array)


# ------------------------------------------------------------------ builders


def _binary(spec, n):
    return Encoding.from_points(spec, binary_points(n))


def _pm1(spec, n):
    return Encoding.from_points(spec, 2.0 * binary_points(n) - 1.0)


def _onehot(spec, n):
    m = 1 << n
    if m * m > MAX_ENTRIES:
        largest = int(math.log2(MAX_ENTRIES)) // 2
        raise InvalidParameterError("encoding", f"onehot needs an m x m matrix; use n <= {largest}")
    return Encoding.from_points(spec, np.eye(m))


def _gray(spec, n):
    return Encoding.from_points(spec, binary_points(n)[gray_order(n)])


def _permuted(spec, n, seed=0):
    order = np.random.Generator(np.random.PCG64(seed)).permutation(1 << n)
    return Encoding.from_points(spec, binary_points(n)[order])


def _gaussian(spec, n, dim, seed=0):
    m = 1 << n
    if m * dim > MAX_ENTRIES:
        raise InvalidParameterError("encoding", f"{spec}: {m} x {dim} points is more than {MAX_ENTRIES:,} entries")
    points = np.random.Generator(np.random.PCG64(seed)).standard_normal((m, dim))
    return Encoding.from_points(spec, points)


def _grid(spec, n, dim, k):
    axis = np.linspace(-1.0, 1.0, k)
    mesh = np.meshgrid(*([axis] * dim), indexing="ij")
    return Encoding.from_points(spec, np.stack([g.ravel() for g in mesh], axis=1))


def _read_matrix(path):
    """The matrix in a .npy (memory-mapped) or .csv file; None for another suffix."""
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, mmap_mode="r", allow_pickle=False)
    if suffix == ".csv":
        return np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)
    return None


def _file(spec, n, path):
    path = Path(path)
    if not path.is_file():
        raise InvalidParameterError("encoding", f"{spec}: no such file {str(path)!r}")
    if path.suffix.lower() == ".csv" and path.stat().st_size > 64 * MAX_ENTRIES:
        raise InvalidParameterError("encoding", f"{spec}: the file is larger than {64 * MAX_ENTRIES:,} bytes")
    try:
        points = _read_matrix(path)
    except (OSError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise InvalidParameterError("encoding", f"{spec}: cannot read {str(path)!r} ({message})") from None
    if points is None:
        raise InvalidParameterError("encoding", f"{spec}: the file must end in .npy or .csv")
    if points.size > MAX_ENTRIES:
        raise InvalidParameterError("encoding", f"{spec}: {points.shape} is more than {MAX_ENTRIES:,} entries")
    return Encoding.from_points(spec, points, {"path": str(path.resolve())})


def _load_module(spec, module):
    try:
        if module.endswith(".py"):
            location = Path(module).resolve()
            loader_spec = importlib.util.spec_from_file_location(location.stem, location)
            if loader_spec is None or not location.is_file():
                raise ImportError(f"no such file {module!r}")
            loaded = importlib.util.module_from_spec(loader_spec)
            loader_spec.loader.exec_module(loaded)
            return loaded
        return importlib.import_module(module)
    except Exception as exc:  # any failure while importing user code is reported in one line
        raise InvalidParameterError(
            "encoding", f"{spec}: cannot import {module!r} ({exc.__class__.__name__}: {exc})") from None


def _python(spec, n, module, function):
    loaded = _load_module(spec, module)
    func = getattr(loaded, function, None)
    if not callable(func):
        raise InvalidParameterError("encoding", f"{spec}: {module!r} has no function {function!r}")
    try:
        points = func(n)
    except Exception as exc:  # user code: report its failure in one line
        raise InvalidParameterError(
            "encoding", f"{spec}: {function}({n}) raised {exc.__class__.__name__}: {exc}") from None
    source = {"module": module, "function": function, "module_file": getattr(loaded, "__file__", None)}
    return Encoding.from_points(spec, points, source)


# ------------------------------------------------------------------ specs


def _integer(text, spec, what, low, high):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise InvalidParameterError("encoding", f"{spec}: {what} must be an integer from {low} to {high}, got {text!r}")
    return value


def _seed_args(args, spec):
    if len(args) > 1:
        return None
    return [_integer(a, spec, "the seed", 0, 2**63 - 1) for a in args]


def _args_none(args, spec):
    return [] if not args else None


def _args_gaussian(args, spec):
    if len(args) not in (1, 2):
        return None
    dim = _integer(args[0], spec, "D", 1, MAX_ENTRIES // 2)
    return [dim] + _seed_args(args[1:], spec)


def _args_grid(args, spec):
    if len(args) != 2:
        return None
    dim = _integer(args[0], spec, "D", 1, 16)
    k = _integer(args[1], spec, "K", 2, MAX_INPUTS)
    if k ** dim > MAX_INPUTS:
        raise InvalidParameterError("encoding", f"{spec}: K^D = {k ** dim} is more than {MAX_INPUTS} inputs")
    return [dim, k]


def _args_file(args, spec):
    path = ":".join(args)
    return [path] if path else None


def _args_python(args, spec):
    if len(args) < 2 or not args[-1] or not args[0]:
        return None
    return [":".join(args[:-1]), args[-1]]


#: name -> (builder, argument parser, syntax, description)
ENCODINGS = {
    "binary": (_binary, _args_none, "binary", "{0,1}^n in binary counting order (default)"),
    "pm1": (_pm1, _args_none, "pm1", "{-1,+1}^n in the same order"),
    "onehot": (_onehot, _args_none, "onehot", "the m x m identity: all inputs equidistant"),
    "gray": (_gray, _args_none, "gray", "{0,1}^n in Gray-code order"),
    "permuted": (_permuted, _seed_args, "permuted[:SEED]", "{0,1}^n in a fixed random order"),
    "gaussian": (_gaussian, _args_gaussian, "gaussian:D[:SEED]", "2^n random normal points in R^D"),
    "grid": (_grid, _args_grid, "grid:D:K", "the K^D grid in [-1,1]^D (m = K^D; --n unused)"),
    "file": (_file, _args_file, "file:PATH", "an (m, d) matrix from a .npy or .csv file"),
    "py": (_python, _args_python, "py:MODULE:FUNCTION", "FUNCTION(n) returning an (m, d) array"),
}


def _parse(spec):
    text = str(spec).strip()
    name, _, rest = text.partition(":")
    if name not in ENCODINGS:
        choices = ", ".join(entry[2] for entry in ENCODINGS.values())
        raise InvalidParameterError("encoding", f"unknown encoding {text!r}; choose from {choices}")
    builder, parse_args, syntax, _ = ENCODINGS[name]
    args = parse_args(rest.split(":") if rest else [], text)
    if args is None:
        raise InvalidParameterError("encoding", f"{text!r} is malformed; write {syntax}")
    return text, builder, args


def check_encoding_spec(spec):
    """Check the syntax of an encoding specification; return it as a string.

    Files and modules are only opened by :func:`make_encoding`.
    """
    return _parse(spec)[0]


def make_encoding(spec, n):
    """Build the encoding named by ``spec`` for ``n`` input bits.

    Raises
    ------
    InvalidParameterError
        Naming ``encoding``, for an unknown or malformed spec, an unreadable
        file or module, or points that are not a finite (m, d) matrix of
        acceptable size.
    """
    text, builder, args = _parse(spec)
    return builder(text, int(n), *args)
