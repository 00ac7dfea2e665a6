"""The registry of priors and of the parameters they read.

A prior is a class built from a validated
:class:`~pysimbias.config.SampleConfig` and an
:class:`~pysimbias.inputs.encodings.Encoding`, with

- ``m`` and ``n_words``: inputs per function and uint64 words per packed key;
- ``sample_chunk(key, count)``: the (count, n_words) packed functions of the
  first ``count`` samples of the chunk with 128-bit key ``key``; sample j of a
  chunk depends on the key and j alone;
- ``describe()``: what the manifest records about it (a dict with ``name``);
- optionally ``working_bytes(threads)``: the memory its sampler needs.

Each prior module calls :func:`register_prior` once, naming the parameters
the prior reads; a parameter used by several priors (the network ones) is
declared once with :class:`Param` and shared by name.  The config, the
command line and the manifest read everything else from here, so a new prior
is one module and one import line in :mod:`pysimbias.priors`.
"""

from dataclasses import dataclass
from typing import Callable

from ..errors import InvalidParameterError

__all__ = ["Param", "PriorSpec", "PARAMETERS", "PRIORS", "register_prior", "split_prior", "make_prior",
           "readers_of"]

#: name -> Param, for every parameter some prior reads
PARAMETERS = {}
#: name -> PriorSpec, in registration order
PRIORS = {}


@dataclass(frozen=True)
class Param:
    """A parameter that one or more priors read.

    Parameters
    ----------
    name : str
        Its name in :class:`~pysimbias.config.SampleConfig` and the API
        (``--name-with-dashes`` on the command line).
    default : object
        Value when not given.
    check : callable
        ``check(value) -> value``: returns the normalised value or raises
        InvalidParameterError naming the parameter.
    help : str
        One line for ``--help``.
    cli_type : type, str or tuple
        How the command line reads the flag: ``str``, ``int``, ``float``,
        ``bool`` (an on/off flag pair), a metavar string (text passed to
        ``check``), or a tuple of the allowed choices.
    """

    name: str
    default: object
    check: Callable
    help: str
    cli_type: object = str


@dataclass(frozen=True)
class PriorSpec:
    """A registered prior.

    Parameters
    ----------
    name : str
        The ``--prior`` name (before any ``:ARGUMENT``).
    factory : callable
        ``factory(config, encoding)`` builds the prior.
    summary : str
        One line for ``--help`` and the docs.
    params : tuple of str
        Names of the :data:`PARAMETERS` it reads.
    argument : str or None
        Metavar of the required ``:ARGUMENT`` (``RUN``, ``NAME``), or None.
    check_argument : callable or None
        ``check_argument(text)`` raises InvalidParameterError for a bad argument.
    """

    name: str
    factory: Callable
    summary: str
    params: tuple = ()
    argument: str | None = None
    check_argument: Callable | None = None

    @property
    def syntax(self):
        """How the prior is written: ``name`` or ``name:ARGUMENT``."""
        return self.name if self.argument is None else f"{self.name}:{self.argument}"


def register_prior(name, factory, summary, params=(), argument=None, check_argument=None):
    """Register prior ``name``; ``params`` are :class:`Param` objects or names of registered ones.

    Returns the :class:`PriorSpec`.
    """
    names = []
    for param in params:
        if isinstance(param, Param):
            known = PARAMETERS.setdefault(param.name, param)
            if known is not param:
                raise ValueError(f"parameter {param.name!r} is already registered")
            names.append(param.name)
        elif param in PARAMETERS:
            names.append(param)
        else:
            raise ValueError(f"parameter {param!r} is not registered")
    if name in PRIORS:
        raise ValueError(f"prior {name!r} is already registered")
    PRIORS[name] = PriorSpec(name, factory, summary, tuple(names), argument, check_argument)
    return PRIORS[name]


def readers_of(param):
    """Names of the priors that read parameter ``param``."""
    return [spec.name for spec in PRIORS.values() if param in spec.params]


def split_prior(spec):
    """Split a prior specification such as ``"learner:knn"`` into ``(PriorSpec, argument)``.

    The argument is None for priors that take none; unknown names, missing or
    unexpected arguments and bad arguments are errors.
    """
    text = str(spec).strip()
    name, colon, arg = text.partition(":")
    if name not in PRIORS:
        raise InvalidParameterError(
            "prior", f"unknown prior {text!r}; choose from {', '.join(s.syntax for s in PRIORS.values())}")
    prior = PRIORS[name]
    if (prior.argument is not None) != bool(arg) or (colon and prior.argument is None):
        raise InvalidParameterError("prior", f"{text!r} is malformed; write {prior.syntax}")
    if arg and prior.check_argument is not None:
        prior.check_argument(arg)
    return prior, (arg or None)


def make_prior(config, encoding):
    """The prior a validated config names (``config.prior``, e.g. ``"learner:knn"``), on the given encoding."""
    return PRIORS[config.prior.partition(":")[0]].factory(config, encoding)
