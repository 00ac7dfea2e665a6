"""Target functions and training sets, in the input order of the encoding.

A **target** is an m-character '0'/'1' string (character i = f(input i)) or a
name (see :data:`TARGET_NAMES`) computed on the inputs' bit vectors.  A
**training set** S is a set of distinct input indices; the test set is every
other input.  Both are packed like functions (bit i of word i // 64), so a
sampled function agrees with the target on S iff
``((key ^ target.key) & train.mask) == 0`` in every word.

Named targets read input i's bits from the encoding: its cube vertex for
bit-vector encodings (so a re-enumerated cube keeps the same function of the
bits), else the n-bit expansion of i when m = 2^n (one-hot, Gaussian
embeddings).  Bits are numbered from 1, most significant first: ``x1`` of
input 1 = 0…01 is 0.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checks import check_int
from ..errors import InvalidParameterError
from ..kernels.bits import keys_to_text, pack_bits
from ..priors.registry import Param

__all__ = ["TARGET_NAMES", "Target", "TrainingSet", "make_target", "make_training_set", "input_bits", "TARGET",
           "TRAIN", "TRAIN_SEED"]

#: name -> description, for ``--help`` and errors
TARGET_NAMES = {
    "const0": "the constant 0",
    "const1": "the constant 1",
    "parity": "XOR of all input bits",
    "majority": "1 iff more than half of the input bits are 1",
    "xK": "coordinate K (1 = most significant bit)",
    "and": "AND of all input bits",
    "or": "OR of all input bits",
    "random:SEED": "a uniformly random function, Generator(PCG64(SEED)).integers(0, 2, m)",
    "file:PATH": "a file holding the m-character 0/1 string",
}
_COORDINATE = re.compile(r"^x(\d+)$")


@dataclass(frozen=True, eq=False)
class Target:
    """A target function on the m inputs.

    Attributes
    ----------
    spec : str
        What it was made from (a name, or the bit string itself).
    bits : ndarray of bool, shape (m,)
    key : ndarray of uint64, shape (W,)
        ``bits`` packed like a function.
    """

    spec: str
    bits: np.ndarray
    key: np.ndarray

    @property
    def m(self):
        """Number of inputs."""
        return int(self.bits.shape[0])

    @property
    def text(self):
        """The '0'/'1' string, character i = f(input i)."""
        return str(keys_to_text(self.key[None, :], self.m).astype(str)[0])

    def describe(self):
        """Manifest entry: the spec and the full bit string."""
        return {"spec": self.spec, "function": self.text, "ones": int(self.bits.sum())}


@dataclass(frozen=True, eq=False)
class TrainingSet:
    """Distinct input indices S; the test set is every other input.

    Attributes
    ----------
    spec : str
    indices : ndarray of int64
        S, sorted.
    m : int
    mask : ndarray of uint64, shape (W,)
        Bit i set iff input i is in S.
    test_mask : ndarray of uint64, shape (W,)
        Bit i set iff input i is a test input (i < m and not in S).
    """

    spec: str
    indices: np.ndarray
    m: int
    mask: np.ndarray
    test_mask: np.ndarray

    @property
    def size(self):
        """|S|."""
        return int(self.indices.shape[0])

    @property
    def test_size(self):
        """Number of test inputs, m - |S|."""
        return self.m - self.size

    def describe(self):
        """Manifest entry: the spec and the indices."""
        return {"spec": self.spec, "size": self.size, "indices": [int(i) for i in self.indices]}


def _pack(bits):
    return pack_bits(np.asarray(bits, dtype=bool)[None, :])[0]


def input_bits(encoding, n):
    """The (m, n) 0/1 matrix of every input's bits, most significant first, or None.

    Bit-vector encodings give their cube vertices; other encodings with
    m = 2^n inputs give the binary expansion of the input index.
    """
    if encoding.vertices is not None:
        vertices, width = np.asarray(encoding.vertices, dtype=np.int64), int(encoding.n)
    elif encoding.m == 1 << int(n):
        vertices, width = np.arange(encoding.m, dtype=np.int64), int(n)
    else:
        return None
    shifts = np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((vertices[:, None] >> shifts[None, :]) & 1).astype(np.uint8)


def _named(name, bits):
    n = bits.shape[1]
    ones = bits.sum(axis=1)
    if name == "parity":
        return ones % 2 == 1
    if name == "majority":
        return 2 * ones > n
    if name == "and":
        return ones == n
    if name == "or":
        return ones > 0
    match = _COORDINATE.match(name)
    k = int(match.group(1))
    if not 1 <= k <= n:
        raise InvalidParameterError("target", f"{name!r} names coordinate {k}, but the inputs have {n} bits "
                                              f"(x1 to x{n})")
    return bits[:, k - 1] == 1


def _read_file(spec, param):
    """The path and text of ``file:PATH`` (InvalidParameterError naming ``param`` if it cannot be read)."""
    path = Path(spec.partition(":")[2])
    try:
        return str(path), path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(param, f"cannot read {str(path)!r} ({getattr(exc, 'strerror', None) or exc})"
                                    ) from None


def _from_text(text, m, where):
    text = text.strip()
    if len(text) != m:
        raise InvalidParameterError("target", f"{where} has {len(text)} characters; a target on this encoding needs "
                                              f"m = {m}, one per input")
    bad = set(text) - {"0", "1"}
    if bad:
        raise InvalidParameterError("target", f"{where} may hold only the characters 0 and 1, not "
                                              f"{', '.join(map(repr, sorted(bad)))}")
    return np.frombuffer(text.encode(), dtype=np.uint8) == ord("1")


def make_target(spec, encoding, n):
    """Build the target that ``spec`` names on this encoding (``n``: the config's input bits).

    Raises
    ------
    InvalidParameterError
        Naming ``target``: a wrong length, characters other than 0/1, an
        unknown name, a coordinate out of range, an unreadable file, or a
        named function on inputs that have no bits.
    """
    text = str(spec).strip()
    m = encoding.m
    if text and set(text) <= {"0", "1"} and not _COORDINATE.match(text):
        bits = _from_text(text, m, f"the bit string ({text[:16]}{'…' if len(text) > 16 else ''})")
        text = "bits"
    elif text in ("const0", "const1"):
        bits = np.full(m, text == "const1")
    elif text.startswith("random:"):
        seed = text.partition(":")[2]
        if not seed.isdigit():
            raise InvalidParameterError("target", f"{text!r} is malformed; write random:SEED with SEED >= 0")
        bits = np.random.Generator(np.random.PCG64(int(seed))).integers(0, 2, m).astype(bool)
    elif text.startswith("file:"):
        path, content = _read_file(text, "target")
        bits = _from_text(content, m, path)
    elif text in ("parity", "majority", "and", "or") or _COORDINATE.match(text):
        cube = input_bits(encoding, n)
        if cube is None:
            raise InvalidParameterError("target", f"{text!r} is a function of the input bits, and this encoding's "
                                                  f"{m} inputs have none; give the target as a {m}-character 0/1 "
                                                  f"string or file:PATH")
        bits = _named(text, cube)
    else:
        raise InvalidParameterError("target", f"unknown target {text!r}; give an m-character 0/1 string or one of "
                                              f"{', '.join(TARGET_NAMES)}")
    bits = np.ascontiguousarray(bits, dtype=bool)
    return Target(text, bits, _pack(bits))


def _parse_indices(content, where):
    items = [item for item in re.split(r"[\s,]+", content.strip()) if item]
    try:
        return [int(item) for item in items]
    except ValueError:
        raise InvalidParameterError("train", f"{where} must list input indices (whole numbers separated by "
                                             f"spaces, commas or new lines)") from None


def make_training_set(spec, m, seed=0):
    """Build the training set S: ``K`` (a count, drawn with ``seed``) or ``file:PATH`` (listed indices).

    ``K`` inputs are ``sorted(Generator(PCG64(seed)).choice(m, K, replace=False))``.

    Raises
    ------
    InvalidParameterError
        Naming ``train``: K < 1 or K >= m, repeated or out-of-range indices,
        an unreadable or malformed file.
    """
    text = str(spec).strip()
    if text.startswith("file:"):
        where, content = _read_file(text, "train")
        indices = _parse_indices(content, where)
    else:
        if isinstance(spec, bool) or not (isinstance(spec, (int, np.integer)) or text.isdigit()):
            raise InvalidParameterError("train", f"give a number of training inputs K or file:PATH, got {spec!r}")
        k = int(text)
        if not 1 <= k < m:
            raise InvalidParameterError("train", f"needs 1 <= K < m = {m} training inputs (the rest are the test "
                                                 f"set), got {k}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise InvalidParameterError("train_seed", f"must be a whole number >= 0, got {seed!r}")
        rng = np.random.Generator(np.random.PCG64(int(seed)))
        indices = rng.choice(m, size=k, replace=False).tolist()
        text = f"{k}"
        where = None
    array = np.asarray(indices, dtype=np.int64)
    if where is not None:
        if array.shape[0] < 1 or array.shape[0] >= m:
            raise InvalidParameterError("train", f"{where} lists {array.shape[0]} inputs; a training set needs 1 to "
                                                 f"{m - 1} (the rest are the test set)")
        if array.min() < 0 or array.max() >= m:
            bad = int(array[(array < 0) | (array >= m)][0])
            raise InvalidParameterError("train", f"{where} lists input {bad}, outside 0 to {m - 1}")
        if np.unique(array).shape[0] != array.shape[0]:
            values, counts = np.unique(array, return_counts=True)
            raise InvalidParameterError("train", f"{where} lists input {int(values[counts > 1][0])} more than once")
    array = np.sort(array)
    inside = np.zeros(m, dtype=bool)
    inside[array] = True
    return TrainingSet(text, array, int(m), _pack(inside), _pack(~inside))


def _check_target_spec(value):
    """The target's syntax; what it names is checked against the encoding by :func:`make_target`."""
    if value is None:
        raise InvalidParameterError("target", "give the target function: an m-character 0/1 string or one of "
                                              f"{', '.join(TARGET_NAMES)}")
    text = str(value).strip()
    if not text:
        raise InvalidParameterError("target", "is empty; give an m-character 0/1 string or a target name")
    return text


def _check_train_spec(value):
    """K (a whole number >= 1) or ``file:PATH``; K < m is checked by :func:`make_training_set`."""
    if value is None:
        raise InvalidParameterError("train", "give the training set: a number of inputs K or file:PATH")
    text = str(value).strip()
    if text.startswith("file:") and len(text) > 5:
        return text
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise InvalidParameterError("train", f"give a number of training inputs K >= 1 or file:PATH, got {value!r}")
    return int(text)


#: Task parameters shared by the tasks that learn from a training set.
TARGET = Param("target", None, _check_target_spec,
               "Target function: an m-character 0/1 string (character i = f(input i)) or "
               + "; ".join(f"{name} ({text})" for name, text in TARGET_NAMES.items()) + ".", "TARGET")
TRAIN = Param("train", None, _check_train_spec,
              "Training set S: K inputs drawn with --train-seed, or file:PATH listing input indices; the test set "
              "is every other input.", "K|file:PATH")
TRAIN_SEED = Param("train_seed", 0, lambda v: check_int(v, "train_seed", 0, 2**63 - 1),
                   "Seed that draws the K training inputs.", int)
