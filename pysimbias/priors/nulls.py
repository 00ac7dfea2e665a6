"""Null priors built from a reference run: entropy-matched and re-enumerated functions.

``fixed-ones:RUN``
    Uniform over the functions with t ones, t drawn from the reference run's
    P(t): the counting measure with the reference's entropy distribution.
``shuffled:RUN``
    A function drawn from the reference run's P(f), its inputs permuted by a
    fresh uniformly random permutation per sample: the reference's number of
    ones (hence entropy) kept, any dependence on the input order destroyed.

The reference run is read with
:func:`~pysimbias.store.rundir.read_histogram` (which checks its checksums);
the manifest records its path and the SHA-256 of its functions table.
"""

from pathlib import Path

import numpy as np

from ..kernels.bits import n_words
from ..errors import InvalidParameterError, RunDirectoryError
from ..kernels.lz import count_ones
from ..kernels.priors import fixed_ones_keys, shuffled_keys
from ..store.rundir import FUNCTIONS, read_histogram
from .registry import register_prior

__all__ = ["FixedOnesPrior", "ShuffledPrior", "load_reference"]


def load_reference(path, m):
    """Load reference run ``path`` for a prior on m inputs.

    Returns
    -------
    histogram : pysimbias.Histogram
    description : dict
        The manifest entry: the run's resolved path, functions-table SHA-256,
        prior, encoding and sample count.
    """
    try:
        manifest, histogram, _ = read_histogram(path)
        config = manifest["config"]
        description = {
            "path": str(Path(path).resolve()),
            "functions_sha256": manifest["files"][FUNCTIONS],
            "prior": config["prior"],
            "encoding": config["encoding"],
            "samples": histogram.samples,
        }
    except RunDirectoryError as exc:
        raise InvalidParameterError("prior", f"cannot use reference run {str(path)!r}: {exc}") from None
    except (KeyError, TypeError):
        raise InvalidParameterError("prior", f"cannot use reference run {str(path)!r}: its manifest has no "
                                             f"config") from None
    if histogram.m != m:
        raise InvalidParameterError(
            "prior", f"reference run {str(path)!r} has functions on {histogram.m} inputs, "
                     f"this run's encoding has {m}; use the same --n and --encoding size")
    return histogram, description


class _ReferencePrior:
    """Shared set-up: the reference run and its facts for the manifest."""

    name = ""

    def __init__(self, config, encoding):
        self.m = encoding.m
        self.n_words = n_words(self.m)
        histogram, self.reference = load_reference(config.prior.partition(":")[2], self.m)
        self._setup(histogram)

    def describe(self):
        """Manifest entry: the prior and its reference run."""
        return {"name": self.name, "reference": self.reference}


class FixedOnesPrior(_ReferencePrior):
    """Uniform functions with t ones, t ~ the reference run's P(t)."""

    name = "fixed-ones"

    def _setup(self, histogram):
        ones = count_ones(histogram.keys, self.m)
        per_t = np.bincount(ones, weights=histogram.counts, minlength=self.m + 1)
        self.cumulative = np.cumsum(np.rint(per_t).astype(np.int64))

    def sample_chunk(self, key, count):
        """Packed functions of the first ``count`` samples of chunk ``key``."""
        return fixed_ones_keys(key[0], key[1], 0, int(count), self.m, self.cumulative)


class ShuffledPrior(_ReferencePrior):
    """Reference functions with a fresh random input permutation per sample."""

    name = "shuffled"

    def _setup(self, histogram):
        self.reference_keys = np.ascontiguousarray(histogram.keys)
        self.cumulative = np.cumsum(histogram.counts.astype(np.int64))

    def sample_chunk(self, key, count):
        """Packed functions of the first ``count`` samples of chunk ``key``."""
        return shuffled_keys(key[0], key[1], 0, int(count), self.reference_keys, self.cumulative, self.m)


register_prior("fixed-ones", FixedOnesPrior, "uniform over functions with t ones, t drawn from run RUN's P(t)",
               argument="RUN")
register_prior("shuffled", ShuffledPrior, "run RUN's functions, inputs freshly permuted per sample", argument="RUN")
