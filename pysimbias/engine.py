"""The sampling engine: cut a run into seeded chunks, sample them, count exactly.

Chunk k holds samples ``k * CHUNK_SIZE ..``; its random stream comes from
``SeedSequence(seed, spawn_key=(k,))``.  CHUNK_SIZE is fixed, so a run's
result depends only on (config, seed, samples) and never on the thread count.

Two ways to count.  :func:`count_functions` keeps the whole histogram in
memory (the API's :func:`~pysimbias.run.sample`).  :func:`record_chunks`
counts the chunks into a table of at most ``plan.table_rows`` functions
(a :class:`SegmentWriter`) and saves that table as a sorted segment of the
run's progress (see :mod:`pysimbias.store.checkpoint`) every
``checkpoint_every`` seconds and whenever it is full, so memory stays
bounded and a killed run loses at most the chunks of one interval.  The
last table is handed back unsaved (a :class:`LastTable`), for the final
merge to take from memory.
"""

import contextlib
import math
import numbers
from time import monotonic

import numba
import numpy as np

from .errors import InvalidParameterError
from .histogram import Histogram, KeyCounter
from .kernels.rng import chunk_key

__all__ = [
    "CHUNK_SIZE",
    "MAX_SAMPLES",
    "chunk_plan",
    "n_chunks",
    "pending_chunks",
    "check_samples",
    "check_threads",
    "check_checkpoint_every",
    "draw_chunk",
    "count_functions",
    "record_chunks",
    "SegmentWriter",
    "LastTable",
    "thread_limit",
]

CHUNK_SIZE = 1 << 16
MAX_SAMPLES = 10**12
#: Seconds between two segments of a run's progress, unless told otherwise.
CHECKPOINT_EVERY = 60.0


def n_chunks(samples, chunk_size=None):
    """Number of chunks of a run of ``samples`` samples."""
    return -(-int(samples) // (chunk_size or CHUNK_SIZE))


def _chunk_rows(samples, k, chunk_size=None):
    size = chunk_size or CHUNK_SIZE
    return int(min(size, int(samples) - int(k) * size))


def chunk_plan(samples, chunk_size=None):
    """Yield ``(chunk index, samples in chunk)`` for every chunk of a run (chunks of CHUNK_SIZE by default)."""
    for k in range(n_chunks(samples, chunk_size)):
        yield k, _chunk_rows(samples, k, chunk_size)


def pending_chunks(samples, done):
    """Yield ``(chunk index, samples in chunk)`` for the chunks not marked in boolean array ``done``."""
    for k in np.flatnonzero(~np.asarray(done, dtype=np.bool_)):
        yield int(k), _chunk_rows(samples, k)


def check_samples(samples):
    """Refuse runs beyond :data:`MAX_SAMPLES` (their chunk bookkeeping alone would not fit)."""
    if samples > MAX_SAMPLES:
        raise InvalidParameterError(
            "samples", f"at most {MAX_SAMPLES:.0e} per run, got {samples:.3g}; split the work into runs with different seeds"
        )
    return samples


def check_threads(threads):
    """Check a thread count against this machine's (None means all)."""
    if threads is None:
        return None
    limit = numba.config.NUMBA_NUM_THREADS
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or not 1 <= threads <= limit:
        raise InvalidParameterError(
            "threads", f"must be a whole number from 1 to {limit} (the threads this machine offers), got {threads!r}"
        )
    return int(threads)


def check_checkpoint_every(seconds):
    """Check a checkpoint interval in seconds (0: a segment after every chunk)."""
    if (isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) or not math.isfinite(seconds)
            or seconds < 0):
        raise InvalidParameterError(
            "checkpoint_every", f"must be a number of seconds, 0 or more (0 saves after every chunk), got {seconds!r}"
        )
    return float(seconds)


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


def draw_chunk(prior, key, count):
    """The functions a prior keeps of the first ``count`` draws of chunk ``key``, and the chunk's tally.

    The tally is None for priors without ``sample_tallied`` (see
    :mod:`pysimbias.learning.tasks`).
    """
    tallied = getattr(prior, "sample_tallied", None)
    if tallied is None:
        return prior.sample_chunk(key, count), None
    return tallied(key, count)


def count_functions(prior, samples, seed, progress=None, max_rows=None, tally=None):
    """Sample ``samples`` functions from ``prior`` and count them exactly, in memory.

    Parameters
    ----------
    prior : object with ``n_words``, ``m`` and ``sample_chunk(key, count)``
    samples, seed : int
    progress : callable, optional
        Called with the number of samples finished after every chunk.
    max_rows : int, optional
        Most distinct functions to hold; a chunk that could take the table
        beyond it raises InvalidParameterError (parameter ``memory``).
    tally : ndarray of int64, optional
        For priors that tally their draws: every chunk's tally is added to it.

    Returns
    -------
    Histogram
    """
    counter = KeyCounter(prior.n_words, expected_total=samples, max_distinct=max_rows)
    done = 0
    for k, count in chunk_plan(samples):
        if max_rows is not None and counter.distinct + count > max_rows:
            raise InvalidParameterError(
                "memory",
                f"after {done:,} samples the table holds {counter.distinct:,} distinct functions, as many as the "
                f"memory budget allows; sample into a run directory (pysimbias.sample_to_directory or the "
                f"'pysimbias sample' command), which spills to disk, or give a larger budget",
            )
        # Sampling and counting each use every thread, one after the other.
        keys, chunk_tally = draw_chunk(prior, chunk_key(seed, k), count)
        counter.add(keys)
        if chunk_tally is not None:
            tally += chunk_tally
        done += count
        if progress is not None:
            progress(count)
    return Histogram.from_counter(counter, prior.m)


class SegmentWriter:
    """The counting table of the chunks since the last segment, saved by time or when full.

    Counted pieces (a chunk's sampled keys, or a partial histogram) go into
    one table of at most ``plan.table_rows`` functions.  The table is saved as
    a segment of the run's progress, and started afresh, once
    ``checkpoint_every`` seconds have passed since the last save, and
    before a piece could take it beyond its rows.  Only the new functions of
    each interval are written, so the progress costs little I/O; how the
    chunks are cut into segments does not change the run's result.

    Parameters
    ----------
    progress : pysimbias.store.checkpoint.Progress
    n_words : int
    plan : pysimbias.store.memory.MemoryPlan
    checkpoint_every : float
        Seconds between saves (0: after every piece).
    expected_total : int, optional
        Samples still to come: a hint for growing the table.
    """

    def __init__(self, progress, n_words, plan, checkpoint_every, expected_total=None):
        self._progress = progress
        self._n_words = n_words
        self._plan = plan
        self._every = float(checkpoint_every)
        self._expected_total = expected_total
        self._fresh()

    def _fresh(self):
        self.counter = KeyCounter(self._n_words, expected_total=self._expected_total,
                                  max_distinct=self._plan.table_rows)
        self.chunks = []
        self.tally = None
        self._since = monotonic()

    def add(self, chunk_ids, keys, counts=None, tally=None):
        """Count a piece: the keys (each once, or ``counts`` times) and tally of the chunks ``chunk_ids``."""
        if self.counter.distinct + keys.shape[0] > self._plan.table_rows:
            if counts is None:  # the chunk's distinct functions may still fit
                piece = KeyCounter(self._n_words, capacity=2 * keys.shape[0])
                piece.add(keys)
                keys, counts = piece.items()
            if self.counter.distinct + keys.shape[0] > self._plan.table_rows:
                self.save()
        self.counter.add(keys, counts)
        if tally is not None:
            self.tally = tally.copy() if self.tally is None else self.tally + tally
        self.chunks.extend(int(k) for k in chunk_ids)
        if monotonic() - self._since >= self._every:
            self.save()

    def save(self):
        """Write the table as a segment covering its chunks and start afresh (nothing if it holds no chunk)."""
        self.last().save()

    def last(self):
        """The table not saved yet, as a :class:`LastTable`; the writer starts afresh."""
        table = LastTable(self._progress, self.counter, self.chunks, self.tally, self._plan.block_rows)
        self._fresh()
        return table


class LastTable:
    """The counting table of the chunks counted since the last segment, not saved yet.

    A run's final merge takes it from memory (no sort, write and read back);
    :meth:`save` writes it as a segment instead, when it cannot.

    Attributes
    ----------
    counter : KeyCounter
    chunks : list of int
        The chunks it holds.
    tally : ndarray of int64 or None
        Their summed tally.
    """

    def __init__(self, progress, counter, chunks, tally, block_rows):
        self._progress = progress
        self.counter, self.chunks, self.tally = counter, chunks, tally
        self._block_rows = block_rows

    def save(self):
        """Write the table as a segment of the run's progress (nothing if it holds no chunk); it is then empty."""
        if self.chunks:
            self._progress.write_segment(self.counter.sorted_blocks(self._block_rows), self.chunks, self.tally)
        self.counter, self.chunks, self.tally = None, [], None


def record_chunks(prior, seed, chunks, progress, plan, checkpoint_every=CHECKPOINT_EVERY, on_chunk=None,
                  expected_total=None):
    """Count chunks into a run's progress, within a memory plan.

    Every chunk of ``chunks`` is sampled and added to a :class:`SegmentWriter`.
    When Ctrl-C stops it, every counted chunk is in a segment; when it
    returns, every chunk is in a segment or in the returned table.

    Parameters
    ----------
    prior : object with ``n_words`` and ``sample_chunk(key, count)``
    seed : int
    chunks : iterable of (int, int)
        ``(chunk index, samples in chunk)`` pairs to compute.
    progress : pysimbias.store.checkpoint.Progress
    plan : pysimbias.store.memory.MemoryPlan
    checkpoint_every : float
        Seconds between two segments (0: one segment per chunk).
    on_chunk : callable, optional
        Called with the number of samples of every chunk computed.
    expected_total : int, optional
        Samples still to compute: a hint that lets the counting table
        grow in fewer, larger steps when most samples are new functions.

    Returns
    -------
    LastTable
        The chunks counted since the last segment, in memory: the caller
        merges them from there or saves them.  A process killed before
        either loses at most these chunks, which a resume computes again.
    """
    table = SegmentWriter(progress, prior.n_words, plan, checkpoint_every, expected_total)
    try:
        for k, count in chunks:
            keys, tally = draw_chunk(prior, chunk_key(seed, k), count)
            table.add([k], keys, tally=tally)
            if on_chunk is not None:
                on_chunk(count)
    except KeyboardInterrupt:  # Ctrl-C: keep what was counted (a killed process keeps its last segment)
        table.save()
        raise
    return table.last()
