"""Learning: targets and training sets, the tasks that condition or train on them.

Importing this package registers every task (see :mod:`pysimbias.learning.tasks`).
"""

from . import posterior, training  # noqa: F401  (each registers its task)
from .tasks import TASK_PARAMETERS, TASKS, TaskSpec, make_task_prior, register_task, sampled_prior, task_spec

__all__ = ["TASK_PARAMETERS", "TASKS", "TaskSpec", "make_task_prior", "register_task", "sampled_prior",
           "task_spec"]
