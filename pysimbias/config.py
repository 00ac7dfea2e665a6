"""Run configuration and its validation.

A run's result depends only on its :class:`SampleConfig` (which holds the
seed and the sample count).  Every check raises
:class:`~pysimbias.errors.InvalidParameterError` naming the parameter.
"""

from collections import ChainMap

from .checks import check_int, parse_count, parse_widths
from .errors import InvalidParameterError
from .inputs.encodings import check_encoding_spec
from .inputs.graphs import check_graph_spec
from .learning import TASK_PARAMETERS, TASKS, task_spec
from .priors import PARAMETERS, PRIORS, split_prior

__all__ = ["SampleConfig", "PRIORS", "PARAMETERS", "TASKS", "TASK_PARAMETERS", "MAX_N", "COMMON", "parse_widths",
           "parse_count", "split_prior"]

MAX_N = 16
#: Fields every config has, whatever its prior and task; their own parameters follow them.
COMMON = {"prior": "mlp", "n": 7, "encoding": "binary", "graph": "auto", "samples": 10**6, "seed": 0,
          "task": "sample"}
#: A live view of both registries, so that a prior registered after this import is known too.
_ALL_PARAMETERS = ChainMap(TASK_PARAMETERS, PARAMETERS)


class SampleConfig:
    """Everything that determines a run's result.

    Parameters
    ----------
    prior : str
        A registered prior: ``mlp``, ``perceptron``, ``uniform``,
        ``fixed-ones:RUN``, ``shuffled:RUN``, ``gp``, ``voronoi``, ``tree``,
        ``learner:NAME`` (see :data:`pysimbias.priors.PRIORS`).
    n : int
        Input bits; the input set has m = 2**n points.
    encoding : str
        Input encoding specification (see :mod:`pysimbias.inputs.encodings`).
    graph : str
        Neighbour graph of the continuity-aware measures (see
        :mod:`pysimbias.inputs.graphs`).
    samples : int
        Number of random functions drawn.
    seed : int
        The run's one seed.
    task : str
        What the run does with the prior's draws (see
        :data:`pysimbias.learning.TASKS`): ``sample`` keeps them all,
        ``posterior`` those that agree with ``target`` on ``train``.
    **params
        The prior's own parameters (see :data:`pysimbias.priors.PARAMETERS`):
        ``widths``, ``activation``, ``bias``, ``law``, ``sigma_w``,
        ``sigma_b`` for the networks; ``kernel`` and ``length_scale`` for
        ``gp``; ``centres`` for ``voronoi``; ``depth`` for ``tree``;
        ``train_fraction`` for ``learner:NAME``; and the task's parameters
        (see :data:`pysimbias.learning.TASK_PARAMETERS`).  A parameter that
        is not given reads as its default; :meth:`validated` keeps only those
        the prior and the task read.

    Examples
    --------
    >>> SampleConfig(prior="perceptron", bias=False, n=5).validated().to_dict()["bias"]
    False
    """

    __slots__ = ("_common", "_params")

    def __init__(self, prior=COMMON["prior"], n=COMMON["n"], encoding=COMMON["encoding"], graph=COMMON["graph"],
                 samples=COMMON["samples"], seed=COMMON["seed"], task=COMMON["task"], **params):
        unknown = sorted(set(params) - set(_ALL_PARAMETERS))
        if unknown:
            raise InvalidParameterError("params", f"unknown parameter{'s' * (len(unknown) > 1)} "
                                                  f"{', '.join(map(repr, unknown))}; the parameters are "
                                                  f"{', '.join([*COMMON, *_ALL_PARAMETERS])}")
        object.__setattr__(self, "_common", (prior, n, encoding, graph, samples, seed, task))
        object.__setattr__(self, "_params", tuple(sorted(params.items())))

    def __getattr__(self, name):
        if name in COMMON:
            return self._common[list(COMMON).index(name)]
        if name in _ALL_PARAMETERS:
            return dict(self._params).get(name, _ALL_PARAMETERS[name].default)
        raise AttributeError(f"SampleConfig has no field {name!r}")

    def __setattr__(self, name, value):
        raise AttributeError("SampleConfig is immutable; use .replace(...)")

    @property
    def params(self):
        """The prior's and the task's parameters held by this config (exactly those they read, once validated)."""
        return dict(self._params)

    def replace(self, **changes):
        """A copy with some fields changed (not validated)."""
        return SampleConfig(**{**self.to_dict(), **changes})

    def validated(self):
        """Return a checked, normalised copy that holds exactly the parameters its prior reads.

        Raises InvalidParameterError naming the first bad field.
        """
        spec, arg = split_prior(self.prior)
        task = task_spec(self.task)
        given = self.params
        params = {name: _ALL_PARAMETERS[name].check(given.get(name, _ALL_PARAMETERS[name].default))
                  for name in (*spec.params, *task.params)}
        return SampleConfig(
            prior=spec.name if arg is None else f"{spec.name}:{arg}",
            n=check_int(self.n, "n", 1, MAX_N),
            encoding=check_encoding_spec(self.encoding),
            graph=check_graph_spec(self.graph),
            samples=parse_count(self.samples, "samples"),
            seed=check_int(self.seed, "seed", 0, 2**63 - 1),
            task=task.name,
            **params,
        )

    def to_dict(self):
        """Plain-JSON form, as stored in the manifest: the common fields, then the prior's and task's parameters."""
        data = dict(zip(COMMON, self._common))
        data.update({name: list(value) if isinstance(value, tuple) else value for name, value in self._params})
        return data

    @classmethod
    def from_dict(cls, data):
        """Inverse of :meth:`to_dict`.

        Also reads manifests of pysimbias 0.2, which listed every prior's
        parameters and had no task: parameters the prior does not read are
        dropped.  Unknown keys are an error.
        """
        data = dict(data)
        unknown = sorted(set(data) - set(COMMON) - set(_ALL_PARAMETERS))
        if unknown:
            raise InvalidParameterError("config", f"unknown fields {unknown}")
        read = set(TASKS[data["task"]].params) if data.get("task") in TASKS else set(TASK_PARAMETERS)
        try:
            read |= set(split_prior(data.get("prior", COMMON["prior"]))[0].params)
        except InvalidParameterError:
            read |= set(PARAMETERS)
        params = {name: tuple(value) if isinstance(value, list) else value
                  for name, value in data.items() if name in _ALL_PARAMETERS and name in read}
        return cls(**{name: data[name] for name in COMMON if name in data}, **params)

    def _key(self):
        return self._common, self._params

    def __eq__(self, other):
        return isinstance(other, SampleConfig) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        fields = ", ".join(f"{name}={value!r}" for name, value in self.to_dict().items())
        return f"SampleConfig({fields})"

    def __reduce__(self):
        return _from_fields, (self.to_dict(),)


def _from_fields(data):
    """Rebuild a pickled config."""
    return SampleConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

