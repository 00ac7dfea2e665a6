"""Run configuration and its validation.

A run's result depends only on its :class:`SampleConfig` (which holds the
seed and the sample count).  Every check raises
:class:`~pysimbias.errors.InvalidParameterError` naming the parameter.
"""

import math
import numbers
from dataclasses import asdict, dataclass, field, fields, replace

from .encodings import check_encoding_spec
from .errors import InvalidParameterError
from .graphs import check_graph_spec
from .network_kernels import ACTIVATIONS, LAWS
from .priors_learner import LEARNERS
from .priors_metric import GP_KERNELS, MAX_DEPTH

__all__ = ["SampleConfig", "PRIORS", "MAX_N", "parse_widths", "parse_count", "split_prior"]

MAX_N = 16
#: name -> (syntax, description)
PRIORS = {
    "mlp": ("mlp", "fully connected network with hidden layers --widths and --activation"),
    "perceptron": ("perceptron", "a single threshold unit on the inputs"),
    "uniform": ("uniform", "the counting measure: every output bit a fair coin"),
    "fixed-ones": ("fixed-ones:RUN", "uniform over functions with t ones, t drawn from run RUN's P(t)"),
    "shuffled": ("shuffled:RUN", "run RUN's functions, inputs freshly permuted per sample"),
    "gp": ("gp", "sign of a Gaussian-process draw (--kernel, --length-scale)"),
    "voronoi": ("voronoi", "--centres random inputs with random labels, nearest-centre rule"),
    "tree": ("tree", "random axis-aligned decision tree of depth --depth"),
    "learner": ("learner:NAME", "scikit-learn classifier (" + ", ".join(LEARNERS)
                + ") fitted to random labels on --train-fraction of the inputs"),
}
_NEEDS_ARG = {"fixed-ones", "shuffled", "learner"}
DEFAULT_WIDTHS = (40, 40)


def split_prior(spec):
    """Split a prior specification such as ``"learner:knn"`` into ``(name, argument)``.

    The argument is None for priors that take none; unknown names,
    missing or unexpected arguments and unknown learners are errors.
    """
    text = str(spec).strip()
    name, colon, arg = text.partition(":")
    if name not in PRIORS:
        raise InvalidParameterError(
            "prior", f"unknown prior {text!r}; choose from {', '.join(syntax for syntax, _ in PRIORS.values())}")
    if (name in _NEEDS_ARG) != bool(arg) or (colon and name not in _NEEDS_ARG):
        raise InvalidParameterError("prior", f"{text!r} is malformed; write {PRIORS[name][0]}")
    if name == "learner" and arg not in LEARNERS:
        raise InvalidParameterError("prior", f"unknown learner {arg!r}; choose from {', '.join(LEARNERS)}")
    return name, (arg or None)


def parse_widths(text):
    """Parse ``"40,40"`` into ``(40, 40)``; an empty string means no hidden layer."""
    if isinstance(text, (tuple, list)):
        items = list(text)
    else:
        text = str(text).strip()
        items = [] if text == "" else text.split(",")
    widths = []
    for item in items:
        try:
            value = int(str(item).strip())
        except ValueError:
            value = 0
        if value < 1 or str(item).strip() == "":
            raise InvalidParameterError(
                "widths", f"{text!r} is not a comma-separated list of positive integers (e.g. 40,40)"
            )
        widths.append(value)
    return tuple(widths)


def parse_count(value, param):
    """Parse a positive integer count, accepting forms like ``1e6`` and ``10**6``."""
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            number = float(int(text)) if text.isdigit() else float(eval_power(text))
        except ValueError:
            raise InvalidParameterError(param, f"{value!r} is not a number (e.g. 1000000 or 1e6)") from None
    else:
        number = value
    if not isinstance(number, numbers.Real) or not math.isfinite(number) or number != int(number) or number < 1:
        raise InvalidParameterError(param, f"must be a positive whole number, got {value!r}")
    return int(number)


def eval_power(text):
    """Read ``"1e6"``, ``"2.5e7"`` or ``"10**6"`` as a float."""
    if "**" in text:
        base, exponent = text.split("**", 1)
        return float(base) ** float(exponent)
    return float(text)


def _check_real(value, param, minimum=0.0, strict=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InvalidParameterError(param, f"must be a finite number, got {value!r}")
    if value < minimum or (strict and value == minimum):
        relation = ">" if strict else ">="
        raise InvalidParameterError(param, f"must be {relation} {minimum:g}, got {value!r}")
    return float(value)


def _check_int(value, param, low, high):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise InvalidParameterError(param, f"must be an integer from {low} to {high}, got {value!r}")
    return int(value)


def _check_choice(value, param, choices):
    if value not in choices:
        raise InvalidParameterError(param, f"unknown value {value!r}; choose from {', '.join(choices)}")
    return value


def _check_length_scale(value):
    if isinstance(value, str) and value.strip() == "auto":
        return "auto"
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InvalidParameterError("length_scale", f"must be 'auto' or a positive number, got {value!r}") from None
    return _check_real(value, "length_scale", 0.0, strict=True)


def _check_fraction(value, param):
    value = _check_real(value, param, 0.0, strict=True)
    if value > 1.0:
        raise InvalidParameterError(param, f"must be in (0, 1], got {value!r}")
    return value


@dataclass(frozen=True)
class SampleConfig:
    """Everything that determines a run's result.

    Parameters
    ----------
    prior : str
        One of ``mlp``, ``perceptron``, ``uniform``, ``fixed-ones:RUN``,
        ``shuffled:RUN``, ``gp``, ``voronoi``, ``tree``, ``learner:NAME``
        (see ``PRIORS``).
    n : int
        Input bits; the input set has m = 2**n points.
    widths : tuple of int
        Hidden layer widths (``mlp`` only).
    activation : {'relu', 'tanh', 'linear'}
        Hidden activation (``mlp`` only).
    bias : bool
        Whether layers have biases.
    law : {'gaussian', 'uniform'}
        Parameter law; both have variance sigma_w**2 / fan_in for weights and
        sigma_b**2 for biases.
    sigma_w, sigma_b : float
    encoding : str
        Input encoding specification (see :mod:`pysimbias.encodings`).
    graph : str
        Neighbour graph of the continuity-aware measures (see
        :mod:`pysimbias.graphs`).
    kernel : {'rbf', 'laplace', 'arccos'}
        Covariance of ``gp``.
    length_scale : float or 'auto'
        Length scale of ``gp``; ``'auto'`` is the median distance between
        two distinct inputs.
    centres : int
        Number of random centres of ``voronoi``.
    depth : int
        Depth of the random trees of ``tree``.
    train_fraction : float
        Share of the inputs that ``learner:NAME`` is fitted on.
    samples : int
        Number of random functions drawn.
    seed : int
        The run's one seed.
    """

    prior: str = "mlp"
    n: int = 7
    widths: tuple = field(default=DEFAULT_WIDTHS)
    activation: str = "relu"
    bias: bool = True
    law: str = "gaussian"
    sigma_w: float = 1.0
    sigma_b: float = 1.0
    encoding: str = "binary"
    graph: str = "auto"
    kernel: str = "rbf"
    length_scale: float | str = "auto"
    centres: int = 8
    depth: int = 3
    train_fraction: float = 0.25
    samples: int = 10**6
    seed: int = 0

    def validated(self):
        """Return a checked, normalised copy (raises InvalidParameterError)."""
        name, arg = split_prior(self.prior)
        widths = parse_widths(self.widths) if name == "mlp" else ()
        if name == "mlp" and not widths:
            raise InvalidParameterError("widths", "an mlp needs at least one hidden layer (e.g. 40,40)")
        defaults = SampleConfig
        return replace(
            self,
            prior=name if arg is None else f"{name}:{arg}",
            n=_check_int(self.n, "n", 1, MAX_N),
            widths=widths,
            activation=_check_choice(self.activation, "activation", ACTIVATIONS) if name == "mlp" else "linear",
            bias=bool(self.bias),
            law=_check_choice(self.law, "law", LAWS),
            sigma_w=_check_real(self.sigma_w, "sigma_w", 0.0, strict=True),
            sigma_b=_check_real(self.sigma_b, "sigma_b", 0.0),
            encoding=check_encoding_spec(self.encoding),
            graph=check_graph_spec(self.graph),
            kernel=_check_choice(self.kernel, "kernel", GP_KERNELS) if name == "gp" else defaults.kernel,
            length_scale=_check_length_scale(self.length_scale) if name == "gp" else defaults.length_scale,
            centres=_check_int(self.centres, "centres", 1, 2**16) if name == "voronoi" else defaults.centres,
            depth=_check_int(self.depth, "depth", 0, MAX_DEPTH) if name == "tree" else defaults.depth,
            train_fraction=(_check_fraction(self.train_fraction, "train_fraction") if name == "learner"
                            else defaults.train_fraction),
            samples=parse_count(self.samples, "samples"),
            seed=_check_int(self.seed, "seed", 0, 2**63 - 1),
        )

    def to_dict(self):
        """Plain-JSON form, as stored in the manifest."""
        data = asdict(self)
        data["widths"] = list(self.widths)
        return data

    @classmethod
    def from_dict(cls, data):
        """Inverse of :meth:`to_dict` (unknown keys are an error)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InvalidParameterError("config", f"unknown fields {sorted(unknown)}")
        data = dict(data)
        if "widths" in data:
            data["widths"] = tuple(data["widths"])
        return cls(**data)
