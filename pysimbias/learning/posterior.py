"""The ``posterior`` task: exact rejection sampling of P(f | S) from any prior.

A posterior run draws ``config.samples`` functions from its prior, on the
prior's own streams, and keeps those that agree with the target on the
training set S: its functions and counts are exactly the rows of the
``sample`` run with the same config and seed that agree on S.  The
histogram's total is the number *accepted*; P(U) = accepted / drawn.
"""

from ..kernels.learning import select_consistent
from .targets import TARGET, TRAIN, TRAIN_SEED, make_target, make_training_set
from .tasks import register_task

__all__ = ["PosteriorPrior", "learning_inputs"]


def learning_inputs(config, encoding):
    """The target and training set a validated config names on ``encoding`` (None, None if it names none)."""
    params = config.params
    if "target" not in params or "train" not in params:
        return None, None
    return (make_target(params["target"], encoding, config.n),
            make_training_set(params["train"], encoding.m, params.get("train_seed", TRAIN_SEED.default)))


class PosteriorPrior:
    """A prior's draws that agree with ``target`` on the training set, and nothing else.

    Parameters
    ----------
    config : SampleConfig
        A validated config of task ``posterior``.
    encoding : Encoding
    prior : object
        The prior it filters (``m``, ``n_words``, ``sample_chunk``,
        ``describe``, optionally ``working_bytes``).

    Attributes
    ----------
    target : Target
    training_set : TrainingSet
    """

    def __init__(self, config, encoding, prior):
        self.prior = prior
        self.m = prior.m
        self.n_words = prior.n_words
        self.target, self.training_set = learning_inputs(config, encoding)

    def sample_chunk(self, key, count):
        """The draws of chunk ``key`` (its first ``count``) that agree with the target on S, in draw order."""
        return select_consistent(self.prior.sample_chunk(key, count), self.target.key, self.training_set.mask)

    def working_bytes(self, threads):
        """Memory the prior's sampler needs on ``threads`` threads."""
        working_bytes = getattr(self.prior, "working_bytes", None)
        return 0 if working_bytes is None else working_bytes(threads)

    def describe(self):
        """Manifest entry: the prior's own."""
        return self.prior.describe()

    def describe_task(self):
        """Manifest entry of the task: its name, the target and the training set."""
        return {"name": "posterior", "target": self.target.describe(), "train": self.training_set.describe()}


register_task("posterior", PosteriorPrior,
              "keep the draws that agree with --target on the training set --train (exact rejection sampling of "
              "P(f|S))", params=(TARGET, TRAIN, TRAIN_SEED))
