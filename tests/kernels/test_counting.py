"""Exact counting: the hash-table kernels against np.unique and collections.Counter."""

from collections import Counter

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysimbias.histogram import Histogram, KeyCounter
from pysimbias.kernels.counting import (MAX_LOAD, MIN_CAPACITY, PARTS, group_keys, insert_grouped, table_items,
                                        take_count_words)


def reference_counts(keys):
    """Plain-Python multiset of rows."""
    return Counter(tuple(int(x) for x in row) for row in keys)


def counter_as_dict(counter):
    keys, counts = counter.items()
    return {tuple(int(x) for x in row): int(c) for row, c in zip(keys, counts)}


@settings(max_examples=60, deadline=None)
@given(
    n_words=st.integers(1, 5),
    n_keys=st.integers(0, 400),
    alphabet=st.integers(1, 50),
    seed=st.integers(0, 2**32 - 1),
    capacity=st.sampled_from([1, 16, 1024]),
)
def test_counter_matches_reference(n_words, n_keys, alphabet, seed, capacity):
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, 2**64, size=(alphabet, n_words), dtype=np.uint64)
    keys = pool[rng.integers(0, alphabet, size=n_keys)]
    counter = KeyCounter(n_words, capacity=capacity)
    # several batches, forcing growth across them
    for part in np.array_split(keys, 3):
        counter.add(part)
    assert counter_as_dict(counter) == reference_counts(keys)
    assert counter.total == n_keys
    assert counter.distinct == len(reference_counts(keys))


def test_weighted_merge_equals_raw_counting():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 8, size=(5000, 2), dtype=np.uint64)
    a, b = KeyCounter(2), KeyCounter(2)
    a.add(keys)
    for part in np.array_split(keys, 7):
        partial = KeyCounter(2, capacity=4)
        partial.add(part)
        b.add(*partial.items())
    assert counter_as_dict(a) == counter_as_dict(b)


def test_colliding_hash_slots_stay_distinct():
    # keys that differ only in the last word and a tiny table: every probe path is exercised
    keys = np.zeros((300, 3), dtype=np.uint64)
    keys[:, 2] = np.arange(300) % 97
    counter = KeyCounter(3, capacity=2)
    counter.add(keys)
    got = counter_as_dict(counter)
    assert len(got) == 97
    assert sum(got.values()) == 300


def test_insert_reports_new_keys_and_stops_at_the_limit():
    table = np.zeros((MIN_CAPACITY, 2), dtype=np.uint64)
    used = np.zeros(PARTS, dtype=np.int64)

    def insert(keys, counts, limit=8):
        keys, counts, hashes, starts = group_keys(keys, counts)
        next_key = starts[:PARTS].copy()
        done = insert_grouped(table, keys, counts, hashes, starts, next_key, used, limit)
        return done, next_key - starts[:PARTS]

    keys = np.array([[5], [7], [5]], dtype=np.uint64)
    assert insert(keys, np.zeros(0, dtype=np.int64))[0] and used.sum() == 2
    assert insert(keys[:1], np.array([10]))[0] and used.sum() == 2
    got, counts = table_items(table)
    assert sorted(zip(got[:, 0].tolist(), counts.tolist())) == [(5, 12), (7, 1)]
    # A partition holding `limit` keys stops at its next new key, and goes on from there when called again.
    rng = np.random.default_rng(0)
    many = rng.choice(2**40, size=10 * PARTS, replace=False).astype(np.uint64)[:, None]
    none = np.zeros(0, dtype=np.int64)
    many, _, hashes, starts = group_keys(many, none)
    next_key = starts[:PARTS].copy()
    assert not insert_grouped(table, many, none, hashes, starts, next_key, used, 3)
    sizes = np.diff(starts)
    assert np.all((used == 3) | (next_key == starts[1:])) and used.max() == 3
    assert np.all(next_key - starts[:PARTS] <= sizes)
    assert insert_grouped(table, many, none, hashes, starts, next_key, used, 15)
    got, counts = table_items(table)
    assert used.sum() == got.shape[0] == 2 + many.shape[0] and counts.sum() == 13 + many.shape[0]


@pytest.mark.parametrize("n_words", [1, 2, 64])
def test_histogram_canonical_order_matches_np_unique(n_words):
    rng = np.random.default_rng(n_words)
    pool = rng.integers(0, 2**64, size=(40, n_words), dtype=np.uint64)
    keys = pool[rng.zipf(1.5, size=3000) % 40]
    counter = KeyCounter(n_words)
    counter.add(keys)
    hist = Histogram.from_counter(counter, 64 * n_words)
    uniq, counts = np.unique(keys, axis=0, return_counts=True)
    assert hist.distinct == len(uniq) and hist.samples == 3000
    assert sorted(counts.tolist(), reverse=True) == hist.counts.tolist()
    texts = hist.texts()
    expected = sorted(zip(-hist.counts, texts))
    assert [t for _, t in expected] == list(texts)


def test_large_batches_with_prefetching_and_growth_match_np_unique():
    # Batches far longer than the prefetch distance, into a table that has
    # to grow (and be rehashed in slot order) several times.
    rng = np.random.default_rng(11)
    keys = rng.integers(0, 2**64, size=(150_000, 2), dtype=np.uint64)
    keys[::3] = keys[0]  # one very common key among many rare ones
    keys[1::7, 1] = 5
    counter = KeyCounter(2, capacity=16)
    for part in np.array_split(keys, 4):
        counter.add(part)
    got_keys, got_counts = counter.sorted_items()
    want_keys, want_counts = np.unique(keys, axis=0, return_counts=True)
    assert counter.distinct == want_keys.shape[0]
    # grown only as far as the load limit asks, given the last batch it reserved for
    assert counter.distinct <= MAX_LOAD * counter.capacity
    assert MAX_LOAD * counter.capacity / 2 < counter.distinct + len(keys) // 4 + 1
    assert sorted(zip(map(tuple, got_keys.tolist()), got_counts.tolist())) == \
        sorted(zip(map(tuple, want_keys.tolist()), want_counts.tolist()))


def test_growth_hint_grows_in_larger_steps_within_max_distinct():
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 2**64, size=(3000, 2), dtype=np.uint64)  # all distinct
    plain = KeyCounter(2, capacity=16)
    hinted = KeyCounter(2, capacity=16, expected_total=10 * len(keys))
    capped = KeyCounter(2, capacity=16, expected_total=10 * len(keys), max_distinct=len(keys))
    plain_sizes, hinted_sizes, capped_sizes = [], [], []
    for part in np.array_split(keys, 30):
        for counter, sizes in ((plain, plain_sizes), (hinted, hinted_sizes), (capped, capped_sizes)):
            counter.add(part)
            sizes.append(counter.capacity)
    growth = [b // a for a, b in zip(hinted_sizes, hinted_sizes[1:]) if b != a]
    assert growth and set(growth) == {4}  # the projection asks for four times every time
    assert set(b // a for a, b in zip(plain_sizes, plain_sizes[1:]) if b != a) <= {2, 4, 8}
    assert plain.capacity == 8192 and hinted.capacity == 16384
    # max_distinct: no more slots than 3000 keys need at the load limit (4286 -> 8192)
    assert capped.capacity == 8192 >= len(keys) / MAX_LOAD
    for counter in (hinted, capped):
        assert counter_as_dict(counter) == counter_as_dict(plain)
    # several growths inside one batch: the rate counts the rows inserted so far,
    # so a hundred samples to come project hardly more than the batch
    batch = rng.integers(0, 2**64, size=(6000, 2), dtype=np.uint64)
    plain_once = KeyCounter(2, capacity=16)
    at_once = KeyCounter(2, capacity=16, expected_total=len(batch) + 100)
    plain_once.add(batch)
    at_once.add(batch)
    assert at_once.capacity == plain_once.capacity == 16384
    assert counter_as_dict(at_once) == counter_as_dict(plain_once)


def test_growth_hint_doubles_when_few_samples_are_new():
    # 300 functions seen again and again, then one new function in every
    # two hundred samples: the rate since the last growth is what is projected.
    rng = np.random.default_rng(6)
    pool = rng.integers(0, 2**64, size=(300, 2), dtype=np.uint64)
    batches = [pool[rng.integers(0, 300, size=1000)] for _ in range(20)]
    fresh = rng.integers(0, 2**64, size=(1000, 2), dtype=np.uint64)
    batches += [np.concatenate([pool[rng.integers(0, 300, size=995)], fresh[5 * i:5 * i + 5]])
                for i in range(100)]
    plain = KeyCounter(2, capacity=1024)
    hinted = KeyCounter(2, capacity=1024, expected_total=120_000)
    sizes = [hinted.capacity]
    for batch in batches:
        plain.add(batch)
        hinted.add(batch)
        sizes.append(hinted.capacity)
    assert {b // a for a, b in zip(sizes, sizes[1:]) if b != a} == {2}
    assert hinted.capacity == plain.capacity
    assert counter_as_dict(hinted) == counter_as_dict(plain)


@pytest.mark.parametrize("n_words, n_keys", [(1, 0), (1, 500), (2, 70_000), (3, 2000), (2, 400_000)])
def test_taken_count_words_and_frozen_counter_match_the_two_step_path(n_words, n_keys):
    # take_count_order_words compacts the table in place into count_order_words'
    # rows, one segment per thread; from_counter sorts them
    from pysimbias.kernels.bits import count_order_words

    def filled():
        rng = np.random.default_rng(n_keys)
        pool = rng.integers(0, 2**64, size=(max(n_keys // 3, 1), n_words), dtype=np.uint64)
        counter = KeyCounter(n_words, capacity=16)
        counter.add(pool[rng.zipf(1.3, size=n_keys // 2) % pool.shape[0]])
        counter.add(pool[rng.integers(0, pool.shape[0], size=n_keys - n_keys // 2)])
        return counter

    counter = filled()
    keys, counts = counter.items()
    words = counter.take_count_order_words()
    assert np.array_equal(words, count_order_words(keys, counts))
    assert counter.distinct == counter.total == 0 and counter.items()[0].shape == (0, n_words)
    counter.add(keys[:3])
    assert counter.distinct == min(3, keys.shape[0])
    previous = numba.get_num_threads()
    numba.set_num_threads(1)  # one segment instead of one per thread: the same rows
    try:
        assert np.array_equal(filled().take_count_order_words(), words)
    finally:
        numba.set_num_threads(previous)
    assert np.array_equal(take_count_words(filled()._table, 7), words)
    frozen, direct = Histogram.from_counter(filled(), 64 * n_words), Histogram(keys, counts, 64 * n_words)
    assert np.array_equal(frozen.keys, direct.keys) and np.array_equal(frozen.counts, direct.counts)
    assert frozen.keys.shape == (keys.shape[0], n_words) and frozen.m == 64 * n_words


@pytest.mark.parametrize("n_words", [1, 2, 3])
def test_take_count_words_on_a_full_table_rewrites_each_slot_in_place(n_words):
    # Every slot occupied: each row is written over its own slot, so the
    # words must be rewritten from the last (the key word each one reads is
    # still unwritten).
    from pysimbias.kernels.bits import count_order_words

    rng = np.random.default_rng(n_words)
    table = rng.integers(0, 2**64, size=(MIN_CAPACITY, n_words + 1), dtype=np.uint64)
    table[:, -1] = rng.integers(1, 1000, size=MIN_CAPACITY, dtype=np.uint64)
    expected = count_order_words(table[:, :-1], table[:, -1].astype(np.int64))
    for segments in (1, 2, 7):
        assert np.array_equal(take_count_words(table.copy(), segments), expected)


def test_empty_table_is_zeroed():
    from pysimbias.kernels.counting import empty_table

    table = empty_table(64, 3)
    assert table.shape == (64, 4) and table.dtype == np.uint64 and not table.any()
