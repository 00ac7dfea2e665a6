"""Streaming merges and the external sort, against plain-Python counting and sorting."""

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pysimbias.histogram import KeyCounter
from pysimbias.store.memory import MemoryPlan
from pysimbias.store.merge import (count_in_memory, count_order, count_sorted, fits_in_memory, merge_files, merge_streams,
                                   rebatch, text_order)
from pysimbias.store.spill import write_table


def key_text(row):
    """Text form of a packed key on 64 * W inputs: character i is bit i of word i // 64."""
    return "".join(str((int(word) >> i) & 1) for word in row for i in range(64))


def reference_text_order(keys):
    """Plain-Python multiset of keys: (text, count) pairs sorted by text."""
    counted = Counter(key_text(row) for row in keys)
    return sorted(counted.items())


def reference_count_order(keys):
    return sorted(reference_text_order(keys), key=lambda item: (-item[1], item[0]))


def as_pairs(blocks):
    return [(key_text(k), int(c)) for keys, counts in blocks for k, c in zip(keys, counts)]


def blocks_of(keys, counts, sizes):
    """Cut rows into consecutive blocks of the given sizes (cycled)."""
    out, start, i = [], 0, 0
    while start < keys.shape[0]:
        size = sizes[i % len(sizes)]
        out.append((keys[start:start + size], counts[start:start + size]))
        start, i = start + size, i + 1
    return out


@st.composite
def key_multisets(draw):
    """Keys drawn with repeats (small alphabet), cut into runs that are each counted and sorted."""
    n_words = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pool = rng.integers(0, 2**64, size=(draw(st.integers(1, 60)), n_words), dtype=np.uint64)
    # keys differing only in high bits of the last word stress the byte order
    pool[::3, -1] = rng.integers(0, 4, size=pool[::3].shape[0]).astype(np.uint64) << np.uint64(62)
    keys = pool[rng.zipf(1.6, size=draw(st.integers(1, 400))) % pool.shape[0]]
    cuts = np.sort(rng.integers(0, keys.shape[0] + 1, size=draw(st.integers(0, 6))))
    runs = []
    for part in np.split(keys, cuts):
        counter = KeyCounter(n_words, capacity=4)
        counter.add(part)
        runs.append(counter.sorted_items())
    sizes = draw(st.lists(st.integers(1, 50), min_size=1, max_size=4))
    return n_words, keys, runs, sizes


@settings(max_examples=80, deadline=None)
@given(key_multisets())
def test_merge_with_combine_counts_like_python(data):
    n_words, keys, runs, sizes = data
    merged = list(merge_streams([blocks_of(k, c, sizes) for k, c in runs], text_order, combine=True))
    assert as_pairs(merged) == reference_text_order(keys)


@settings(max_examples=60, deadline=None)
@given(key_multisets(), st.integers(1, 40), st.integers(2, 4))
def test_files_and_external_sort_give_the_count_order(tmp_path_factory, data, sort_rows, fan_in):
    n_words, keys, runs, sizes = data
    scratch = tmp_path_factory.mktemp("scratch")
    paths = []
    for i, (k, c) in enumerate(runs):
        paths.append(scratch / f"segment-{i}.bin")
        write_table(paths[-1], n_words, {}, blocks_of(k, c, sizes))
    plan = MemoryPlan(table_rows=10, block_rows=sizes[0], sort_rows=sort_rows, fan_in=fan_in)
    merged = merge_files(paths, text_order, True, plan, scratch, n_words)
    ordered = list(count_sorted(merged, plan, scratch, n_words))
    assert as_pairs(ordered) == reference_count_order(keys)
    assert sorted(p.name for p in scratch.iterdir()) == sorted(p.name for p in paths)  # scratch files cleaned up


@settings(max_examples=60, deadline=None)
@given(key_multisets(), st.booleans())
def test_files_counted_in_memory_with_a_table_give_the_count_order(tmp_path_factory, data, with_table):
    """The last run kept as a counting table (or none), the others as files: one block in count order."""
    n_words, keys, runs, sizes = data
    scratch = tmp_path_factory.mktemp("files")
    table = None
    if with_table:
        table = KeyCounter(n_words, capacity=4)
        table.add(*runs[-1])
        runs = runs[:-1]
    paths = []
    for i, (k, c) in enumerate(runs):
        paths.append(scratch / f"segment-{i}.bin")
        write_table(paths[-1], n_words, {}, blocks_of(k, c, sizes))
    rows = sum(k.shape[0] for k, _ in runs) + (table.distinct if with_table else 0)
    plan = MemoryPlan(table_rows=rows, block_rows=sizes[0], sort_rows=1, fan_in=2)
    assert fits_in_memory(paths, table, plan)
    if rows > 1:
        assert not fits_in_memory(paths, table, MemoryPlan(table_rows=rows - 1, block_rows=1, sort_rows=1, fan_in=2))
    ordered = list(count_in_memory(paths, table, plan, n_words))
    assert len(ordered) == 1 and as_pairs(ordered) == reference_count_order(keys)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 30), max_size=8), st.integers(1, 25))
def test_rebatch_cuts_exact_batches(sizes, rows):
    total = sum(sizes)
    keys = np.arange(total, dtype=np.uint64).reshape(-1, 1)
    counts = np.arange(total, dtype=np.int64)
    stream, start = [], 0
    for size in sizes:
        stream.append((keys[start:start + size], counts[start:start + size]))
        start += size
    batches = list(rebatch(stream, rows))
    assert [b[0].shape[0] for b in batches] == [rows] * (total // rows) + ([total % rows] if total % rows else [])
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches] + [counts[:0]]), counts)


def test_order_keys_compare_like_text_and_counts():
    keys = np.array([[1], [2], [1 << 63], [0]], dtype=np.uint64)  # texts 100.., 010.., 0..01, 000..
    counts = np.array([5, 5, 7, 1])
    assert list(np.argsort(text_order(keys, counts), kind="stable")) == [3, 2, 1, 0]
    assert list(np.argsort(count_order(keys, counts), kind="stable")) == [2, 1, 0, 3]
