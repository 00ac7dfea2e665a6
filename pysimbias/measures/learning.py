"""The measure of runs that learn from a training set: ``test_error``.

It applies only where the context carries a target and a training set
(posterior runs); importing this module registers it.
"""

from ..kernels.learning import count_disagreements
from .registry import Measure, register_measure

__all__ = []


def _applies(context):
    return context.target is not None and context.training_set is not None


def _test_error(keys, context):
    training = context.training_set
    return count_disagreements(keys, context.target.key, training.test_mask) / training.test_size


register_measure(Measure("test_error", "float64",
                         "share of test inputs (those outside the training set) where f differs from the target",
                         _test_error, applies=_applies))
