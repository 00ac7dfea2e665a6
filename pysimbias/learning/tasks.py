"""Tasks: what a run does with its prior's draws.

``sample`` (the default) keeps every draw.  Any other task wraps the prior
in an object with the prior's interface whose ``sample_chunk`` returns only
the draws the task keeps (a posterior keeps those that agree with a target on
a training set), so the engine, the progress files, the merge and the Dask
backend work unchanged; a run then *draws* ``config.samples`` and *keeps*
the functions its histogram holds.

A task prior may also count what happened to its draws: then it has
``sample_tallied(key, count)``, returning the chunk's kept functions and its
*tally*, an int64 array of ``tally_length`` outcome counts that adds up over
chunks (entry 0: draws it discarded), and ``summarize(tally)``, the manifest
entries of a run's summed tally.  The engine stores every chunk's tally with its progress,
so the sum survives resumes and comes back from Dask workers.

Each task module calls :func:`register_task` once with the
:class:`~pysimbias.priors.registry.Param` objects it reads; the config, the
command line and the manifest read them from here.
"""

from dataclasses import dataclass
from typing import Callable

from ..errors import InvalidParameterError
from ..priors import make_prior

__all__ = ["TASKS", "TASK_PARAMETERS", "TaskSpec", "register_task", "task_spec", "make_task_prior",
           "sampled_prior"]

#: name -> Param, for every parameter some task reads
TASK_PARAMETERS = {}
#: name -> TaskSpec
TASKS = {}


@dataclass(frozen=True)
class TaskSpec:
    """A registered task.

    Parameters
    ----------
    name : str
    wrap : callable or None
        ``wrap(config, encoding, prior)`` returns the prior the engine samples
        (None for ``sample``: the prior itself).
    summary : str
    params : tuple of str
        Names of the :data:`TASK_PARAMETERS` it reads.
    """

    name: str
    wrap: Callable | None
    summary: str
    params: tuple = ()


def register_task(name, wrap, summary, params=()):
    """Register task ``name``; ``params`` are Param objects or names of registered ones."""
    names = []
    for param in params:
        if isinstance(param, str):
            if param not in TASK_PARAMETERS:
                raise ValueError(f"task parameter {param!r} is not registered")
            names.append(param)
        else:
            if TASK_PARAMETERS.setdefault(param.name, param) is not param:
                raise ValueError(f"task parameter {param.name!r} is already registered")
            names.append(param.name)
    if name in TASKS:
        raise ValueError(f"task {name!r} is already registered")
    TASKS[name] = TaskSpec(name, wrap, summary, tuple(names))
    return TASKS[name]


def task_spec(name):
    """The registered task ``name`` (InvalidParameterError naming ``task`` if there is none)."""
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise InvalidParameterError("task", f"unknown task {name!r}; choose from {', '.join(TASKS)}") from None


def make_task_prior(config, encoding, prior):
    """The prior the engine samples for a validated config: ``prior`` itself, or wrapped by the config's task."""
    spec = task_spec(config.task)
    return prior if spec.wrap is None else spec.wrap(config, encoding, prior)


def sampled_prior(config, encoding):
    """What the engine samples for a validated config: its prior on ``encoding``, wrapped by its task."""
    return make_task_prior(config, encoding, make_prior(config, encoding))


register_task("sample", None, "keep every draw of the prior")
