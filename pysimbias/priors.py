"""Priors over Boolean functions: each draws a chunk of packed functions from a seed.

A prior is built from a validated :class:`~pysimbias.config.SampleConfig` and
an :class:`~pysimbias.encodings.Encoding`.  ``sample_chunk(key, count)``
returns the (count, W) packed keys of the first ``count`` samples of the chunk
with 128-bit key ``key``; sample j of a chunk depends on the key and j alone.
"""

import numpy as np

from .bits import n_words
from .network_kernels import ACTIVATIONS, LAWS, layer_sizes, sample_keys
from .rng import sample_random_keys

__all__ = ["NetworkPrior", "UniformPrior", "make_prior"]


class NetworkPrior:
    """Random fully connected networks (the perceptron has no hidden layer)."""

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

    def sample_chunk(self, key, count):
        """Packed functions of the first ``count`` networks of chunk ``key``."""
        bias, act, law, sigma_w, sigma_b = self._args
        return sample_keys(
            key[0], key[1], 0, int(count), self._XT, self._sizes, bias, act, law, sigma_w, sigma_b
        )


class UniformPrior:
    """The counting measure: every function equally likely."""

    def __init__(self, config, encoding):
        self.config = config
        self.m = encoding.m
        self.n_words = n_words(self.m)

    def sample_chunk(self, key, count):
        """Packed uniform random functions: the first ``count`` of chunk ``key``."""
        return sample_random_keys(key[0], key[1], 0, int(count), np.int64(self.m))


_PRIOR_CLASSES = {"mlp": NetworkPrior, "perceptron": NetworkPrior, "uniform": UniformPrior}


def make_prior(config, encoding):
    """The prior a validated config names, on the given encoding."""
    return _PRIOR_CLASSES[config.prior](config, encoding)
