"""The counting measure: every function equally likely (``--prior uniform``)."""

import numpy as np

from ..kernels.bits import n_words
from ..kernels.rng import sample_random_keys
from .registry import register_prior

__all__ = ["UniformPrior"]


class UniformPrior:
    """The counting measure: every output bit a fair coin."""

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


register_prior("uniform", UniformPrior, "the counting measure: every output bit a fair coin")
