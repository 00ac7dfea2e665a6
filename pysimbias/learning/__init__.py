"""Learning: targets and training sets, the tasks that condition or train on them.

Importing this package registers every task (see :mod:`pysimbias.learning.tasks`).
"""

from . import training  # noqa: F401  (registers the train task)
from .tasks import TASK_PARAMETERS, TASKS, TaskSpec, make_task_prior, register_task, sampled_prior, task_spec
from . import posterior  # noqa: F401,E402  (registers the posterior task)

__all__ = ["TASK_PARAMETERS", "TASKS", "TaskSpec", "make_task_prior", "register_task", "sampled_prior",
           "task_spec"]
