"""The counting measure (every function equally likely) as a reference sample."""

import numpy as np

from .measures import compute_measures
from .kernels.rng import chunk_key, sample_random_keys

__all__ = ["counting_measure_sample", "BASELINE_SEED"]

BASELINE_SEED = 20190101


def counting_measure_sample(context, size=100_000, names=None, seed=BASELINE_SEED, posterior=False):
    """Measures of ``size`` uniformly random functions on ``context.m`` inputs.

    Parameters
    ----------
    context : MeasureContext
    size : int
    names : list of str, optional
        Measures to compute (default: all that apply).
    seed : int
    posterior : bool
        Draw from the counting measure's posterior instead: uniformly among
        the functions that agree with ``context.target`` on
        ``context.training_set`` (each input outside S a fair coin).

    Returns
    -------
    dict of str -> ndarray
    """
    key = chunk_key(seed, 0)
    keys = sample_random_keys(key[0], key[1], 0, int(size), np.int64(context.m))
    if posterior:
        mask = context.training_set.mask
        keys = (keys & ~mask) | (context.target.key & mask)
    return compute_measures(keys, context, names)
