"""Priors over Boolean functions, one module per family, all in one registry.

Importing this package registers every prior (see
:mod:`pysimbias.priors.registry`).  To add one, write a module with the
prior's class and a :func:`~pysimbias.priors.registry.register_prior` call,
and import it below.
"""

from . import network, nngp, counting, metric, learner, nulls  # noqa: F401  (each registers its priors)
from .registry import PARAMETERS, PRIORS, Param, PriorSpec, make_prior, readers_of, register_prior, split_prior

__all__ = ["PARAMETERS", "PRIORS", "Param", "PriorSpec", "make_prior", "readers_of", "register_prior", "split_prior"]
