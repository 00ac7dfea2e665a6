"""Priors over Boolean functions: each draws a chunk of packed functions from a seed.

A prior is built from a validated :class:`~pysimbias.config.SampleConfig` and
an :class:`~pysimbias.encodings.Encoding`.  ``sample_chunk(key, count)``
returns the (count, W) packed keys of the first ``count`` samples of the chunk
with 128-bit key ``key``; sample j of a chunk depends on the key and j alone.
``describe()`` returns what the manifest records about the prior.

The networks and the counting measure live here; the nulls built from a
reference run in :mod:`pysimbias.priors_null`, the metric-respecting
non-neural priors in :mod:`pysimbias.priors_metric` and
:mod:`pysimbias.priors_learner`.  :func:`make_prior` is the one entry point.
"""

import numpy as np

from .bits import n_words
from .network_kernels import (
    ACTIVATIONS,
    LAWS,
    MAX_TREE_SIGMA,
    layer_sizes,
    sample_keys,
    sample_tree_keys,
    sum_tree,
)
from .priors_learner import LearnerPrior
from .priors_metric import GPPrior, TreePrior, VoronoiPrior
from .priors_null import FixedOnesPrior, ShuffledPrior
from .rng import sample_random_keys

__all__ = ["NetworkPrior", "UniformPrior", "make_prior"]


class NetworkPrior:
    """Random fully connected networks (the perceptron has no hidden layer).

    A perceptron whose inputs have coordinates in {-1, 0, 1} is evaluated
    through its sum tree (:func:`~pysimbias.network_kernels.sum_tree`),
    which gives the same keys faster.
    """

    def __init__(self, config, encoding):
        self.config = config
        self.m = encoding.m
        self.n_words = n_words(self.m)
        self._XT = encoding.transposed32()
        self._sizes = layer_sizes(encoding.dim, config.widths)
        self._args = (
            bool(config.bias),
            ACTIVATIONS[config.activation],
            LAWS[config.law],
            float(config.sigma_w),
            float(config.sigma_b),
        )
        exact = not len(config.widths) and max(config.sigma_w, config.sigma_b) <= MAX_TREE_SIGMA
        self._tree = sum_tree(self._XT) if exact else None

    def sample_chunk(self, key, count):
        """Packed functions of the first ``count`` networks of chunk ``key``."""
        bias, act, law, sigma_w, sigma_b = self._args
        if self._tree is not None:
            return sample_tree_keys(key[0], key[1], 0, int(count), *self._tree, self._sizes, bias, law,
                                    sigma_w, sigma_b)
        return sample_keys(
            key[0], key[1], 0, int(count), self._XT, self._sizes, bias, act, law, sigma_w, sigma_b
        )

    def describe(self):
        """Manifest entry: the layer sizes, inputs to output."""
        return {"name": self.config.prior, "layer_sizes": [int(size) for size in self._sizes]}


class UniformPrior:
    """The counting measure: every function equally likely."""

    def __init__(self, config, encoding):
        self.config = config
        self.m = encoding.m
        self.n_words = n_words(self.m)

    def sample_chunk(self, key, count):
        """Packed uniform random functions: the first ``count`` of chunk ``key``."""
        return sample_random_keys(key[0], key[1], 0, int(count), np.int64(self.m))

    def describe(self):
        """Manifest entry."""
        return {"name": "uniform"}


_PRIOR_CLASSES = {
    "mlp": NetworkPrior,
    "perceptron": NetworkPrior,
    "uniform": UniformPrior,
    "fixed-ones": FixedOnesPrior,
    "shuffled": ShuffledPrior,
    "gp": GPPrior,
    "voronoi": VoronoiPrior,
    "tree": TreePrior,
    "learner": LearnerPrior,
}


def make_prior(config, encoding):
    """The prior a validated config names (``config.prior``, e.g. ``"learner:knn"``), on the given encoding."""
    return _PRIOR_CLASSES[config.prior.partition(":")[0]](config, encoding)
