"""Streaming merges of sorted tables: the bounded-memory path to ``functions.parquet``.

Two orders matter.  The *text order* sorts functions by their text form; a
counting table is spilled in it, so equal functions of different spills meet
during a merge and their counts add up.  The *count order* (count descending,
then text) is the order of ``functions.parquet``.  :func:`merge_streams` merges
any number of sorted streams block by block (vectorised: each step emits every
row up to the smallest last row among the blocks in hand); :func:`count_sorted`
turns the text-ordered stream of all functions into the count order with an
external sort, and :func:`rebatch` cuts a stream into the output's batches.
When every row fits the plan's counting table, :func:`count_in_memory` skips
both merges: it adds the files' rows to a counting table and sorts that in
memory.  Memory stays within the :class:`~pysimbias.store.memory.MemoryPlan`.
"""

from pathlib import Path

import numpy as np

from ..histogram import KeyCounter
from ..kernels.bits import count_order_words, order_count_words, text_order_words
from .spill import TableReader, write_table

__all__ = ["text_order", "count_order", "merge_streams", "merge_files", "count_sorted", "fits_in_memory",
           "count_in_memory", "rebatch"]


def _as_bytes(words):
    """Rows of uint64 words as fixed-width byte strings that compare like the rows."""
    words = np.ascontiguousarray(words, dtype=">u8")
    return words.view(f"S{8 * words.shape[1]}").ravel()


def text_order(keys, counts):
    """Sort keys (one bytes value per row) of the text order."""
    return _as_bytes(text_order_words(keys))


def count_order(keys, counts):
    """Sort keys of the count order: count descending, then text."""
    return _as_bytes(count_order_words(keys, counts))


class _Head:
    """The unmerged rows of one stream's current block."""

    def __init__(self, stream, order):
        self._stream = iter(stream)
        self._order = order
        self.done = False
        self.keys = self.counts = self.sort = None
        self.refill()

    def refill(self):
        for keys, counts in self._stream:
            if keys.shape[0]:
                self.keys, self.counts = keys, counts
                self.sort = self._order(keys, counts)
                return
        self.done = True

    def take(self, bound):
        """Remove and return the rows that sort at or before ``bound``."""
        cut = int(np.searchsorted(self.sort, bound, side="right")[0])
        taken = self.keys[:cut], self.counts[:cut], self.sort[:cut]
        self.keys, self.counts, self.sort = self.keys[cut:], self.counts[cut:], self.sort[cut:]
        if not self.keys.shape[0]:
            self.refill()
        return taken


def merge_streams(streams, order, combine=False):
    """Merge streams of ``(keys, counts)`` blocks, each sorted by ``order``.

    Parameters
    ----------
    streams : iterable of iterables of (ndarray, ndarray)
        Each yields blocks whose rows, taken in sequence, are sorted by
        ``order`` with no key repeated within the stream.
    order : callable
        :func:`text_order` or :func:`count_order`.
    combine : bool
        Add the counts of a key that appears in several streams (the rows
        come out once each).  Without it, keys must not repeat across streams.

    Yields
    ------
    keys : ndarray of uint64, shape (r, W)
    counts : ndarray of int64, shape (r,)
        Blocks of the merged stream, sorted by ``order``.
    """
    heads = [head for head in (_Head(stream, order) for stream in streams) if not head.done]
    while heads:
        # Every stream's later rows sort after its block's last row, so every
        # row up to the smallest of those last rows can be emitted now.
        lasts = np.sort(np.array([head.sort[-1] for head in heads], dtype=heads[0].sort.dtype))
        parts = [head.take(lasts[:1]) for head in heads]
        heads = [head for head in heads if not head.done]
        keys = np.concatenate([part[0] for part in parts])
        counts = np.concatenate([part[1] for part in parts])
        sort = np.concatenate([part[2] for part in parts])
        rank = np.argsort(sort, kind="stable")
        keys, counts, sort = keys[rank], counts[rank], sort[rank]
        if combine and len(parts) > 1:
            starts = np.flatnonzero(np.concatenate([[True], sort[1:] != sort[:-1]]))
            keys, counts = keys[starts], np.add.reduceat(counts, starts)
        yield keys, counts


def _file_blocks(path, block_rows):
    yield from TableReader(path).blocks(block_rows)


def merge_files(paths, order, combine, plan, scratch, n_words):
    """Merge sorted table files, in several passes when there are more than ``plan.fan_in``.

    Intermediate files go to directory ``scratch`` and are deleted once
    merged; the input files are left alone.

    Yields
    ------
    (keys, counts) blocks, as :func:`merge_streams`.
    """
    paths = [Path(p) for p in paths]
    scratch = Path(scratch)
    made = []
    while len(paths) > plan.fan_in:
        group, paths = paths[:plan.fan_in], paths[plan.fan_in:]
        target = scratch / f"pass-{len(made):06d}.bin"
        blocks = merge_streams([_file_blocks(p, plan.block_rows) for p in group], order, combine)
        write_table(target, n_words, {"kind": "merge", "order": order.__name__}, blocks, durable=False)
        for path in group:
            if path in made:
                path.unlink()
        made.append(target)
        paths.append(target)
    yield from merge_streams([_file_blocks(p, plan.block_rows) for p in paths], order, combine)
    for path in made:
        path.unlink(missing_ok=True)


def _sorted_by_count(blocks):
    """One buffer of text-ordered blocks, re-sorted into the count order."""
    keys = np.concatenate([b[0] for b in blocks])
    counts = np.concatenate([b[1] for b in blocks])
    # The buffer is in text order with distinct keys, so a stable sort by
    # count alone gives count-then-text order.
    rank = np.argsort(-counts, kind="stable")
    return keys[rank], counts[rank]


def count_sorted(stream, plan, scratch, n_words):
    """Re-sort a text-ordered stream of distinct functions into the count order.

    Buffers of ``plan.sort_rows`` rows are sorted in memory; when the stream
    needs more than one, each is written to ``scratch`` and the runs are
    merged (:func:`merge_files`).

    Yields
    ------
    (keys, counts) blocks in count order.
    """
    scratch = Path(scratch)
    runs, buffer, held = [], [], 0
    for keys, counts in stream:
        buffer.append((keys, counts))
        held += keys.shape[0]
        if held >= plan.sort_rows:
            runs.append(scratch / f"run-{len(runs):06d}.bin")
            write_table(runs[-1], n_words, {"kind": "run", "order": "count"}, [_sorted_by_count(buffer)],
                        durable=False)
            buffer, held = [], 0
    if not runs:
        if buffer:
            yield _sorted_by_count(buffer)
        return
    if buffer:
        runs.append(scratch / f"run-{len(runs):06d}.bin")
        write_table(runs[-1], n_words, {"kind": "run", "order": "count"}, [_sorted_by_count(buffer)],
                    durable=False)
    yield from merge_files(runs, count_order, False, plan, scratch, n_words)
    for path in runs:
        path.unlink(missing_ok=True)


def fits_in_memory(paths, counter, plan):
    """Whether the rows of table files ``paths``, with those of ``counter`` (or None), fit ``plan.table_rows``."""
    held = 0 if counter is None else counter.distinct
    return held + sum(TableReader(path).rows for path in paths) <= plan.table_rows


def count_in_memory(paths, counter, plan, n_words):
    """The functions of table files and of a counting table, in count order: one block.

    The files' rows are added to ``counter`` (a
    :class:`~pysimbias.histogram.KeyCounter`, left empty; None starts one),
    which is then sorted in memory, as a run held in memory is; for rows
    that :func:`fits_in_memory`.

    Yields
    ------
    (keys, counts), the one block in count order.
    """
    if counter is None:
        counter = KeyCounter(n_words, max_distinct=plan.table_rows)
    for path in paths:
        for keys, counts in TableReader(path).blocks(plan.block_rows):
            counter.add(keys, counts)
    yield order_count_words(counter.take_count_order_words())


def rebatch(stream, rows):
    """Cut a stream of ``(keys, counts)`` blocks into blocks of exactly ``rows`` rows (the last may be shorter)."""
    keys_parts, count_parts, held = [], [], 0
    for keys, counts in stream:
        start = 0
        while start < keys.shape[0]:
            take = min(rows - held, keys.shape[0] - start)
            keys_parts.append(keys[start:start + take])
            count_parts.append(counts[start:start + take])
            held += take
            start += take
            if held == rows:
                yield np.concatenate(keys_parts), np.concatenate(count_parts)
                keys_parts, count_parts, held = [], [], 0
    if held:
        yield np.concatenate(keys_parts), np.concatenate(count_parts)
