"""The row sort (pysimbias.kernels.sort), NumPy's and the parallel one, against NumPy's lexsort."""

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysimbias.kernels import sort
from pysimbias.kernels.sort import SORT_PARALLEL_ROWS, bucket_order, bucket_rows, parallel_row_order, row_order


def _sorted_by_buckets(words):
    """The rows as a caller of bucket_rows and bucket_order sees them: bucket by bucket, each sorted."""
    rows, starts = bucket_rows(np.ascontiguousarray(words, dtype=np.uint64))
    assert starts[0] == 0 and starts[-1] == words.shape[0] and np.all(np.diff(starts) >= 0)
    buckets = [rows[a:b] for a, b in zip(starts[:-1], starts[1:])]
    return np.concatenate([bucket[bucket_order(bucket)] for bucket in buckets]) if buckets else rows


def _reference_order(words):
    """The stable lexicographic order of the rows, column 0 first (numpy's lexsort)."""
    if words.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    if words.shape[1] == 0:
        return np.arange(words.shape[0])
    return np.lexsort(words.T[::-1])


def _rows(kind, n, k, rng):
    """Rows of one of several shapes that stress different parts of the sort."""
    if kind == "random":
        return rng.integers(0, 2**64, size=(n, k), dtype=np.uint64)
    if kind == "few values":  # many exact duplicates: ties go by index
        return rng.integers(0, 3, size=(n, k)).astype(np.uint64)
    if kind == "shared prefix":  # rows agree on a prefix that ends inside a word
        words = np.full((n, k), 0x0123456789ABCDEF, dtype=np.uint64)
        if k:
            words[:, -1] ^= rng.integers(0, 2**27, size=n, dtype=np.uint64)
        if k > 1:
            words[:, 0] ^= rng.integers(0, 2, size=n, dtype=np.uint64) << np.uint64(5)
        return words
    if kind == "nested ties":  # rows tie over several 64-bit windows in turn, at varying depths
        words = np.zeros((n, k), dtype=np.uint64)
        depth = rng.integers(0, 64 * max(k, 1), size=n)
        for w in range(k):
            shift = np.clip(depth - 64 * w, 0, 63).astype(np.uint64)
            words[:, w] = rng.integers(0, 3, size=n, dtype=np.uint64) << shift
        return words
    if kind == "ties past 64 bits":  # rows equal over 64 bits after their common prefix, apart later
        words = rng.integers(0, 2, size=(n, k)).astype(np.uint64) << np.uint64(63)
        if k:
            words[:, -1] = rng.integers(0, 2**64, size=n, dtype=np.uint64)
        return words
    # "skewed": most rows equal, a few random, as the counts of a histogram
    words = np.zeros((n, k), dtype=np.uint64)
    some = rng.random(n) < 0.05
    words[some] = rng.integers(0, 2**64, size=(int(some.sum()), k), dtype=np.uint64)
    return words


KINDS = ["random", "few values", "shared prefix", "ties past 64 bits", "nested ties", "skewed"]
#: row_order, and the parallel sort it uses on large tables, on every size.
ORDERS = pytest.mark.parametrize("order", [row_order, parallel_row_order], ids=["row_order", "parallel"])


@ORDERS
@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(KINDS),
       n=st.one_of(st.integers(0, 40), st.sampled_from([4095, 4096, 4097, 9000, 33000])),
       k=st.integers(0, 4), seed=st.integers(0, 2**32 - 1))
def test_row_order_is_the_stable_lexicographic_order(order, kind, n, k, seed):
    words = _rows(kind, n, k, np.random.default_rng(seed))
    np.testing.assert_array_equal(order(words), _reference_order(words))


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(KINDS),
       n=st.one_of(st.integers(0, 40), st.sampled_from([4096, 4097, 33000])),
       k=st.integers(0, 4), seed=st.integers(0, 2**32 - 1))
def test_sorted_buckets_are_the_rows_in_lexicographic_order(kind, n, k, seed):
    words = _rows(kind, n, k, np.random.default_rng(seed))
    np.testing.assert_array_equal(_sorted_by_buckets(words), words[_reference_order(words)])


@pytest.mark.parametrize("kind", KINDS)
def test_row_order_on_many_buckets(kind):
    words = _rows(kind, 300_000, 3, np.random.default_rng(7))
    expected = _reference_order(words)
    np.testing.assert_array_equal(parallel_row_order(words), expected)
    np.testing.assert_array_equal(_sorted_by_buckets(words), words[expected])


def test_row_order_does_not_depend_on_thread_count():
    words = _rows("few values", 100_000, 2, np.random.default_rng(3))
    orders = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        previous = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            orders.append(parallel_row_order(words))
        finally:
            numba.set_num_threads(previous)
    np.testing.assert_array_equal(orders[0], orders[1])


def test_row_order_takes_any_integer_rows():
    words = [[3, 1], [2, 9], [3, 0], [2, 9]]
    assert row_order(words).tolist() == [1, 3, 2, 0]


def test_row_order_of_large_tables_is_the_parallel_sort(monkeypatch):
    words = _rows("few values", 3000, 2, np.random.default_rng(5))
    sorted_in_parallel = []

    def spy(rows):
        sorted_in_parallel.append(rows.shape[0])
        return parallel_row_order(rows)

    monkeypatch.setattr(sort, "parallel_row_order", spy)
    np.testing.assert_array_equal(row_order(words), _reference_order(words))
    assert sorted_in_parallel == []
    monkeypatch.setattr(sort, "SORT_PARALLEL_ROWS", 2999)
    np.testing.assert_array_equal(row_order(words), _reference_order(words))
    assert sorted_in_parallel == [3000]
    assert SORT_PARALLEL_ROWS >= 10**6  # the default run (10^6 samples) never compiles the parallel sort
