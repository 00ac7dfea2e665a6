"""Registry of measures: named per-function statistics computed from packed keys.

A measure maps packed keys (uint64, shape (N, W)) and a :class:`MeasureContext`
to one value per function.  Measures register themselves once, at import, so
new ones plug in without touching the sampler; :func:`compute_measures` runs
them in registration order.
"""

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np

from ..kernels.bits import n_words
from ..errors import InvalidParameterError

__all__ = [
    "MeasureContext",
    "Measure",
    "register_measure",
    "get_measure",
    "available_measures",
    "compute_measures",
    "run_measures",
    "shared_value",
]

_REGISTRY = {}


@dataclass(frozen=True, eq=False)
class MeasureContext:
    """What a measure may know about the functions besides their bits.

    Parameters
    ----------
    m : int
        Number of inputs (bits per function).
    n : int or None
        Input bits, for bit-vector encodings; None otherwise.
    points : ndarray of shape (m, d), optional
        The encoded input points, row i = input i.
    graph : pysimbias.inputs.graphs.Graph, optional
        Neighbour graph on the inputs (for continuity-aware measures).
    vertices : ndarray of int64, shape (m,), optional
        For bit-vector encodings, the cube vertex of every input (see
        :attr:`pysimbias.inputs.encodings.Encoding.vertices`); None otherwise.
    target : pysimbias.learning.targets.Target, optional
        The target function of a run that learns from a training set.
    training_set : pysimbias.learning.targets.TrainingSet, optional
        That run's training set S (the test set is every other input).
    results : mapping of str to ndarray, optional
        Values of the measures named in ``requires``, filled in by
        :func:`compute_measures`.
    shared : dict, optional
        Intermediate arrays that several measures of the same keys read (one
        fused kernel pass fills them), kept for one :func:`compute_measures`
        call; None outside one, so a measure then computes what it needs.
    """

    m: int
    n: int | None
    points: np.ndarray | None = None
    graph: object = None
    vertices: np.ndarray | None = None
    target: object = None
    training_set: object = None
    results: Mapping[str, np.ndarray] = field(default_factory=lambda: MappingProxyType({}))
    shared: dict | None = None

    def __post_init__(self):
        if int(self.m) < 1:
            raise InvalidParameterError("m", f"need at least one input, got {self.m}")
        if self.n is not None and int(self.n) < 0:
            raise InvalidParameterError("n", f"must be >= 0 or None, got {self.n}")
        if self.graph is not None and self.graph.m != int(self.m):
            raise InvalidParameterError("graph", f"the graph has {self.graph.m} vertices, expected m={self.m}")
        if self.vertices is not None and np.shape(self.vertices) != (int(self.m),):
            raise InvalidParameterError("vertices", f"need one cube vertex per input (m={self.m})")

    @classmethod
    def for_encoding(cls, encoding, graph=None, target=None, training_set=None):
        """The context of functions on ``encoding``'s inputs, with an optional graph, target and training set."""
        return cls(m=encoding.m, n=encoding.n, points=encoding.points, graph=graph,
                   vertices=encoding.vertices, target=target, training_set=training_set)


def _always(context):
    return True


@dataclass(frozen=True)
class Measure:
    """A named per-function statistic.

    Parameters
    ----------
    name : str
        Column name.
    dtype : str
        NumPy dtype of the values, e.g. ``"int64"``.
    description : str
        One line, with units.
    compute : callable
        ``compute(keys, context) -> ndarray of shape (N,)``.  Values of the
        measures in ``requires`` are in ``context.results``.
    requires : tuple of str
        Measures (registered earlier) whose values ``compute`` reads.
    applies : callable
        ``applies(context) -> bool``: whether the measure is defined for
        this context (default: always).
    default : bool
        Whether a run computes it unasked (False for costly measures, which
        a run computes only on request: see :func:`run_measures`).
    needs : str
        What the context must have for it to apply, for the error message.
    """

    name: str
    dtype: str
    description: str
    compute: Callable[[np.ndarray, MeasureContext], np.ndarray]
    requires: tuple[str, ...] = ()
    applies: Callable[[MeasureContext], bool] = _always
    default: bool = True
    needs: str = ""


def register_measure(measure):
    """Add a measure to the registry (after those already registered).

    Raises
    ------
    ValueError
        If the name is taken or a required measure is not registered yet.
    """
    if measure.name in _REGISTRY:
        raise ValueError(f"a measure named {measure.name!r} is already registered")
    missing = [name for name in measure.requires if name not in _REGISTRY]
    if missing:
        raise ValueError(f"measure {measure.name!r} requires unregistered measures {missing}")
    _REGISTRY[measure.name] = measure
    return measure


def get_measure(name):
    """The registered measure of this name."""
    try:
        return _REGISTRY[name]
    except KeyError:
        choices = ", ".join(repr(n) for n in _REGISTRY)
        raise InvalidParameterError(
            "measures", f"unknown measure {name!r}; choose from {choices}"
        ) from None


def available_measures():
    """Names of all registered measures, in registration order."""
    return list(_REGISTRY)


def _closure(names):
    """The named measures and everything they require, in registration order."""
    needed = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name not in needed:
            needed.add(name)
            stack.extend(_REGISTRY[name].requires)
    return [name for name in _REGISTRY if name in needed]


def _check_applies(name, context):
    measure = get_measure(name)
    if not measure.applies(context):
        needs = f"; it needs {measure.needs}" if measure.needs else ""
        raise InvalidParameterError("measures", f"measure {name!r} does not apply to this encoding{needs}")


def run_measures(context, extra=()):
    """The measures a run computes: every default measure that applies, then the ``extra`` ones requested.

    ``extra`` is a sequence of names or one comma-separated string.  Raises
    InvalidParameterError for an unknown requested measure or one that does
    not apply to the context.
    """
    if isinstance(extra, str):
        extra = [name.strip() for name in extra.split(",") if name.strip()]
    extra = list(extra or ())
    for name in extra:
        _check_applies(name, context)
    names = [name for name, meas in _REGISTRY.items() if meas.default and meas.applies(context)]
    return names + [name for name in dict.fromkeys(extra) if name not in names]


def compute_measures(keys, context, names=None):
    """Compute measures of packed functions.

    Parameters
    ----------
    keys : array_like of uint64, shape (N, W)
        Packed functions on ``context.m`` inputs.
    context : MeasureContext
    names : sequence of str, optional
        Measures to return.  Default: every default measure that applies to
        the context, in registration order (:func:`run_measures`).

    Returns
    -------
    values : dict of str to ndarray of shape (N,)
        One entry per requested measure, in the order requested.
    """
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    if keys.ndim != 2 or keys.shape[1] != n_words(context.m):
        raise InvalidParameterError(
            "keys", f"expected shape (N, {n_words(context.m)}) for m={context.m}, got {keys.shape}"
        )
    if names is None:
        names = run_measures(context)
    else:
        names = list(names)
        for name in names:
            _check_applies(name, context)
    results = {}
    context = replace(context, shared={})
    for name in _closure(names):
        measure = _REGISTRY[name]
        inputs = MappingProxyType({req: results[req] for req in measure.requires})
        values = measure.compute(keys, replace(context, results=inputs))
        values = np.asarray(values, dtype=measure.dtype)
        if values.shape != (keys.shape[0],):
            raise ValueError(
                f"measure {name!r} returned shape {values.shape}, expected ({keys.shape[0]},)"
            )
        results[name] = values
    return {name: results[name] for name in names}


def shared_value(context, name, compute):
    """``compute()``, computed once per :func:`compute_measures` call and shared under ``name`` there."""
    if context.shared is None:
        return compute()
    if name not in context.shared:
        context.shared[name] = compute()
    return context.shared[name]
