"""The sampling engine: cut a run into seeded chunks, sample them, count exactly.

Chunk k holds samples ``k * CHUNK_SIZE ..``; its random stream comes from
``SeedSequence(seed, spawn_key=(k,))``.  CHUNK_SIZE is fixed, so a run's
result depends only on (config, seed, samples) and never on the thread count.
"""

import contextlib

import numba

from .histogram import Histogram, KeyCounter
from .rng import chunk_key

__all__ = ["CHUNK_SIZE", "chunk_plan", "count_functions", "thread_limit"]

CHUNK_SIZE = 1 << 16


def chunk_plan(samples, chunk_size=CHUNK_SIZE):
    """``(chunk index, samples in chunk)`` for every chunk of a run."""
    full, rest = divmod(int(samples), chunk_size)
    plan = [(k, chunk_size) for k in range(full)]
    if rest:
        plan.append((full, rest))
    return plan


@contextlib.contextmanager
def thread_limit(threads):
    """Run the block with Numba limited to ``threads`` threads (None: all)."""
    previous = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(int(threads))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def count_functions(prior, samples, seed, progress=None):
    """Sample ``samples`` functions from ``prior`` and count them exactly.

    Parameters
    ----------
    prior : object with ``n_words``, ``m`` and ``sample_chunk(key, count)``
    samples, seed : int
    progress : callable, optional
        Called with the number of samples finished after every chunk.

    Returns
    -------
    Histogram
    """
    counter = KeyCounter(prior.n_words)
    for k, count in chunk_plan(samples):
        counter.add(prior.sample_chunk(chunk_key(seed, k), count))
        if progress is not None:
            progress(count)
    return Histogram.from_counter(counter, prior.m)
