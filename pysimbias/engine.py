"""The sampling engine: cut a run into seeded chunks, sample them, count exactly.

Chunk k holds samples ``k * CHUNK_SIZE ..``; its random stream comes from
``SeedSequence(seed, spawn_key=(k,))``.  CHUNK_SIZE is fixed, so a run's
result depends only on (config, seed, samples) and never on the thread count.

Two ways to count.  :func:`count_functions` keeps the whole histogram in
memory (the API's :func:`~pysimbias.run.sample`).  :func:`record_chunks`
writes every chunk's partial histogram to the run's progress as soon as it
is counted (see :mod:`pysimbias.store.checkpoint`), adds it to a counting table of
at most ``plan.table_rows`` functions, and saves that table as a sorted
segment when it is full, so memory stays bounded and a killed run loses at
most the chunk in flight.
"""

import contextlib
import numbers

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
    "draw_chunk",
    "count_chunk",
    "count_functions",
    "record_chunks",
    "thread_limit",
]

CHUNK_SIZE = 1 << 16
MAX_SAMPLES = 10**12
# A snapshot segment is written once the chunk files since the last one hold
# at least this many bytes and at least as many as the table itself, so the
# chunk files on disk stay about as large as the table and rewriting the
# table costs no more than writing the chunk files did.
SNAPSHOT_MIN_BYTES = 64 << 20


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


def count_chunk(prior, seed, k, count):
    """Sample chunk ``k`` (``count`` samples) and count it.

    Returns
    -------
    keys : ndarray of uint64, shape (D, W)
        The chunk's distinct functions, in text order.
    counts : ndarray of int64, shape (D,)
    tally : ndarray of int64, or None
        See :func:`draw_chunk`.
    """
    keys, tally = draw_chunk(prior, chunk_key(seed, k), count)
    counter = KeyCounter(prior.n_words, capacity=2 * count)
    counter.add(keys)
    return (*counter.sorted_items(), tally)


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


class _Accumulator:
    """The counting table of the chunks since the last spill, saved as segments.

    While the table has room, each save writes a new segment with the whole
    table (a snapshot) and deletes the previous snapshot and the chunk files
    it now covers; when the table is full it is saved one last time and
    started afresh.
    """

    def __init__(self, progress, n_words, plan, expected_total):
        self._progress = progress
        self._n_words = n_words
        self._plan = plan
        self._expected_total = expected_total
        self._row_bytes = 8 * (n_words + 1)
        self._fresh()

    def _fresh(self):
        self.counter = KeyCounter(self._n_words, expected_total=self._expected_total,
                                  max_distinct=self._plan.table_rows)
        self.chunks = []
        self.tally = None
        self.snapshot = None
        self.unsaved = 0

    def add(self, k, keys, counts, stored_bytes, tally=None):
        """Count chunk ``k``'s partial histogram (and tally), whose chunk file has ``stored_bytes``."""
        if self.counter.distinct + keys.shape[0] > self._plan.table_rows:
            self.save()
            self._fresh()
        self.counter.add(keys, counts)
        if tally is not None:
            self.tally = tally.copy() if self.tally is None else self.tally + tally
        self.chunks.append(int(k))
        self.unsaved += stored_bytes
        if self.unsaved >= max(SNAPSHOT_MIN_BYTES, self.counter.distinct * self._row_bytes):
            self.save()

    def save(self):
        """Write the table as a segment covering its chunks (nothing if no chunk is unsaved)."""
        if not self.unsaved:
            return
        seq = self._progress.write_segment(self.counter.sorted_blocks(self._plan.block_rows), self.chunks,
                                           self.tally)
        if self.snapshot is not None:
            self._progress.drop_segment(self.snapshot)
        self._progress.drop_chunks(self.chunks)
        self.snapshot, self.unsaved = seq, 0


def record_chunks(prior, seed, chunks, progress, plan, on_chunk=None, expected_total=None):
    """Count chunks into a run's progress, within a memory plan.

    First the chunk files left by an interrupted session are merged into the
    table, then every chunk of ``chunks`` is sampled, counted, written as a
    chunk file and added to the table.  When this returns, every counted
    chunk is in a segment.

    Parameters
    ----------
    prior : object with ``n_words`` and ``sample_chunk(key, count)``
    seed : int
    chunks : iterable of (int, int)
        ``(chunk index, samples in chunk)`` pairs to compute.
    progress : pysimbias.store.checkpoint.Progress
    plan : pysimbias.store.memory.MemoryPlan
    on_chunk : callable, optional
        Called with the number of samples of every chunk computed.
    expected_total : int, optional
        Samples the run holds in all: a hint that lets the counting table
        grow in fewer, larger steps when most samples are new functions.
    """
    table = _Accumulator(progress, prior.n_words, plan, expected_total)
    for k in sorted(progress.journal):
        keys, counts = progress.read_chunk(k)
        table.add(k, keys, counts, progress.journal[k].stat().st_size, progress.chunk_tallies.get(k))
    for k, count in chunks:
        keys, counts, tally = count_chunk(prior, seed, k, count)
        table.add(k, keys, counts, progress.write_chunk(k, keys, counts, tally), tally)
        if on_chunk is not None:
            on_chunk(count)
    table.save()
