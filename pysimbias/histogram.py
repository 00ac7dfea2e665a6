"""Exact histograms of Boolean functions: accumulate keys, then freeze them."""

import math

import numba
import numpy as np

from .kernels.bits import keys_to_text, n_words, order_by_count, order_count_words, take_rows, text_sort_order
from .kernels.counting import (MAX_LOAD, MIN_CAPACITY, PARTS, empty_table, group_keys, insert_grouped, rehash,
                               take_count_words, table_items)
from .kernels.sort import SORT_PARALLEL_ROWS, sorts_in_parallel

__all__ = ["KeyCounter", "Histogram", "compile_kernels"]

_EMPTY_COUNTS = np.zeros(0, dtype=np.int64)
# Keys that make a table of the smallest capacity grow (compile_kernels).
_GROWING_ROWS = 4096


class KeyCounter:
    """Growable exact counter of packed keys.

    The table doubles whenever a partition reaches the load limit.  Given
    ``expected_total``, it quadruples instead when the keys so far, plus the
    samples still to come at the rate of new keys since the last growth,
    would fill the doubled table: when most samples are new functions, this
    halves the rehashing.  The projection can overshoot by one doubling
    when new functions dry up later; ``max_distinct`` bounds the table.

    Parameters
    ----------
    n_words : int
        Words per key (``ceil(m / 64)``).
    capacity : int, optional
        Initial number of slots (rounded up to a power of two).
    expected_total : int, optional
        How many samples (keys, weighted by their counts) the caller expects
        to add in all; only a hint for growing.
    max_distinct : int, optional
        Most distinct keys the caller will let the table hold; growth never
        goes beyond the slots they need.
    """

    def __init__(self, n_words, capacity=1 << 16, expected_total=None, max_distinct=None):
        self._expected_total = expected_total
        self._max_capacity = None if max_distinct is None else _slots_for(max_distinct)
        self._clear(int(n_words), capacity)

    def _clear(self, n_words, capacity):
        """Start again from an empty table of ``capacity`` slots."""
        self._table = empty_table(_power_of_two_slots(capacity), n_words)
        self._used = np.zeros(PARTS, dtype=np.int64)
        self._last_growth = (0, 0)  # (samples, distinct keys) when the table last grew
        self.distinct = 0
        self.total = 0

    @property
    def capacity(self):
        """Number of slots in the table (a power of two)."""
        return self._table.shape[0]

    def add(self, keys, counts=None):
        """Count every row of ``keys`` (once, or ``counts[r]`` times).

        The table grows whenever a partition reaches the load limit, as
        often as the batch needs.
        """
        keys = np.ascontiguousarray(keys, dtype=np.uint64)
        counts = _EMPTY_COUNTS if counts is None else np.ascontiguousarray(counts, dtype=np.int64)
        batch_total = int(counts.sum()) if counts.shape[0] else keys.shape[0]
        keys, counts, hashes, starts = group_keys(keys, counts)
        next_key = starts[:PARTS].copy()
        while not insert_grouped(self._table, keys, counts, hashes, starts, next_key, self._used,
                                 int(MAX_LOAD * (self.capacity // PARTS))):
            inserted = sum(counts[a:b].sum() if counts.shape[0] else b - a for a, b in zip(starts, next_key))
            self._table = rehash(self._table, self._grown_capacity(self.total + int(inserted)))
        self.distinct = int(self._used.sum())
        self.total += batch_total

    def _grown_capacity(self, added):
        """Slots after a growth: twice as many, or four times if the rate of new keys projects that far.

        ``added`` is the number of samples counted so far, this batch's
        inserted rows included.  The rate is the one since the previous
        growth (which this call records), so a run whose new functions are
        drying up does not grow as if they were not.
        """
        capacity = 2 * self.capacity
        distinct = int(self._used.sum())
        if self._expected_total is not None:
            since_total, since_distinct = self._last_growth
            rate = (distinct - since_distinct) / max(added - since_total, 1)
            if distinct + rate * max(self._expected_total - added, 0) > MAX_LOAD * capacity:
                capacity *= 2
        if self._max_capacity is not None:
            capacity = max(2 * self.capacity, min(capacity, self._max_capacity))
        self._last_growth = (added, distinct)
        return capacity

    def items(self):
        """Distinct keys and their counts, in table order."""
        return table_items(self._table)

    def take_count_order_words(self):
        """Distinct keys and their counts as rows of :func:`pysimbias.kernels.bits.count_order_words`, in table order.

        The rows are written over the table's own memory, so the counter is
        left empty; the rows are a view that holds the whole former table's
        memory until it is released.
        """
        words = take_count_words(self._table, numba.get_num_threads())
        self._clear(self._table.shape[1] - 1, MIN_CAPACITY)
        return words

    def sorted_blocks(self, block_rows):
        """Distinct keys and counts in text order, as blocks of at most ``block_rows`` rows.

        Only one block of sorted rows is held at a time, besides the table's
        own rows and their order.
        """
        keys, counts, order = self._text_ordered()
        for start in range(0, order.shape[0], int(block_rows)):
            rows = order[start:start + int(block_rows)]
            yield take_rows(keys, rows), counts[rows]

    def sorted_items(self):
        """Distinct keys and their counts, in text order."""
        keys, counts, order = self._text_ordered()
        return take_rows(keys, order), counts[order]

    def _text_ordered(self):
        keys, counts = self.items()
        return keys, counts, text_sort_order(keys)


def _power_of_two_slots(slots):
    """``slots`` rounded up to a power of two, and to at least :data:`MIN_CAPACITY`."""
    return max(MIN_CAPACITY, 1 << int(slots - 1).bit_length())


def _slots_for(distinct):
    """Fewest slots a table needs to hold ``distinct`` keys within the load limit."""
    return _power_of_two_slots(math.ceil(distinct / MAX_LOAD))


class Histogram:
    """Distinct functions and how often each was sampled, in canonical order.

    Rows are sorted by count (descending), ties by the function's text form,
    so a histogram's table is a deterministic function of its content.

    Parameters
    ----------
    keys : ndarray of uint64, shape (D, W)
    counts : ndarray of int64, shape (D,)
    m : int
        Number of inputs (bits per function).
    """

    def __init__(self, keys, counts, m):
        keys = np.ascontiguousarray(keys, dtype=np.uint64).reshape(-1, n_words(m))
        self._set(*order_by_count(keys, np.asarray(counts, dtype=np.int64)), m)

    def _set(self, keys, counts, m):
        self.keys, self.counts, self.m = keys, counts, int(m)

    @classmethod
    def from_counter(cls, counter, m):
        """Freeze a :class:`KeyCounter`, which is left empty (its table becomes the sort's input)."""
        histogram = cls.__new__(cls)
        histogram._set(*order_count_words(counter.take_count_order_words()), m)
        return histogram

    @property
    def samples(self):
        """Total number of samples counted."""
        return int(self.counts.sum())

    @property
    def distinct(self):
        """Number of distinct functions."""
        return int(self.counts.shape[0])

    @property
    def probabilities(self):
        """Empirical probability of each distinct function."""
        return self.counts / max(self.samples, 1)

    def texts(self, rows=slice(None)):
        """Text form ('0'/'1', character i = f(input i)) of the selected rows, as str."""
        return keys_to_text(self.keys[rows], self.m).astype(str)

    def __len__(self):
        return self.distinct

    def __repr__(self):
        return f"Histogram(m={self.m}, samples={self.samples}, distinct={self.distinct})"


def compile_kernels(n_words, samples=None):
    """Compile (or load from Numba's cache) the counting and ordering kernels a run on keys of ``n_words`` uses.

    A run measures its memory baseline after this, so that a kernel compiled
    halfway through (a table's first doubling, the first sort large enough
    for the parallel path) cannot take the run beyond its budget.  A run of
    ``samples`` samples never holds more distinct keys than that: when they
    are too few to reach the parallel sort, it is not compiled (tables that
    small are ordered by NumPy), and a few thousand keys make the table grow.
    """
    parallel = samples is None or sorts_in_parallel(int(samples))
    rows = SORT_PARALLEL_ROWS + 1 if parallel else max(1, min(int(samples), _GROWING_ROWS))
    keys = np.zeros((rows, int(n_words)), dtype=np.uint64)
    keys[:, 0] = np.arange(rows, dtype=np.uint64)
    counter = KeyCounter(n_words, capacity=16)
    counter.add(keys)  # weighted adds share this signature: counts are int64 either way
    for _ in counter.sorted_blocks(rows):
        pass
    Histogram.from_counter(counter, 64 * int(n_words))
