"""Packed functions (pysimbias.kernels.bits) against the plain-Python references."""

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysimbias.kernels.bits import (
    count_order_words,
    keys_to_text,
    n_words,
    order_by_count,
    pack_bits,
    take_rows,
    text_sort_order,
    text_to_keys,
    unpack_bits,
)
from pysimbias.kernels import sort
from reference import reference_function_text, reference_pack, reference_unpack

#: Orderings by NumPy (the default up to SORT_PARALLEL_ROWS rows) and by the parallel sort (beyond).
SORT_PATHS = pytest.mark.parametrize("parallel_rows", [sort.SORT_PARALLEL_ROWS, 0], ids=["numpy", "parallel"])

# m in 1..300, with the word boundaries drawn often.
M_VALUES = st.one_of(st.sampled_from([1, 2, 63, 64, 65, 127, 128, 129, 191, 192, 193, 256, 300]),
                     st.integers(1, 300))


@st.composite
def bit_matrices(draw, max_rows=6):
    m = draw(M_VALUES)
    rows = draw(st.integers(1, max_rows))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    density = draw(st.sampled_from([0.0, 0.05, 0.5, 0.95, 1.0]))
    rng = np.random.default_rng(seed)
    return rng.random((rows, m)) < density


def _words_as_ints(keys_row):
    return [int(w) for w in keys_row]


def test_n_words():
    assert [n_words(m) for m in (1, 63, 64, 65, 128, 129, 300)] == [1, 1, 1, 2, 2, 3, 5]


@settings(max_examples=200, deadline=None)
@given(bit_matrices())
def test_pack_matches_reference(bits):
    keys = pack_bits(bits)
    m = bits.shape[1]
    assert keys.dtype == np.uint64
    assert keys.shape == (bits.shape[0], (m + 63) // 64)
    for r in range(bits.shape[0]):
        assert _words_as_ints(keys[r]) == reference_pack(bits[r])


@settings(max_examples=200, deadline=None)
@given(bit_matrices())
def test_unpack_roundtrip(bits):
    m = bits.shape[1]
    keys = pack_bits(bits)
    back = unpack_bits(keys, m)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, bits.astype(np.uint8))
    for r in range(bits.shape[0]):
        assert reference_unpack(_words_as_ints(keys[r]), m) == list(bits[r].astype(int))


@settings(max_examples=200, deadline=None)
@given(bit_matrices())
def test_unused_high_bits_are_zero(bits):
    m = bits.shape[1]
    keys = pack_bits(bits)
    rem = m % 64
    if rem:
        assert np.all(keys[:, -1] >> np.uint64(rem) == 0)
    # All-ones input: every used bit set, no unused bit set.
    full = pack_bits(np.ones((1, m), dtype=bool))[0]
    assert _words_as_ints(full) == reference_pack([True] * m)
    assert sum(bin(int(w)).count("1") for w in full) == m


@settings(max_examples=200, deadline=None)
@given(bit_matrices())
def test_text_roundtrip(bits):
    m = bits.shape[1]
    keys = pack_bits(bits)
    texts = keys_to_text(keys, m)
    assert texts.shape == (bits.shape[0],)
    expected = [reference_function_text(row) for row in bits]
    assert [t.decode("ascii") for t in texts] == expected
    # Back from bytes and from str.
    for source in (list(texts), expected):
        keys2, m2 = text_to_keys(source)
        assert m2 == m
        np.testing.assert_array_equal(keys2, keys)


def test_one_dimensional_forms():
    bits = np.zeros(70, dtype=bool)
    bits[[0, 5, 64, 69]] = True
    key = pack_bits(bits)
    assert key.shape == (2,)
    assert _words_as_ints(key) == [1 + 2 ** 5, 1 + 2 ** 5]
    np.testing.assert_array_equal(unpack_bits(key, 70), bits.astype(np.uint8))
    assert keys_to_text(key, 70)[0].decode() == reference_function_text(bits)


def test_character_i_is_bit_i():
    # Bit i of the function is character i of the text (character 0 first).
    keys, m = text_to_keys(["1000", "0001"])
    assert m == 4
    assert _words_as_ints(keys[0]) == [1]
    assert _words_as_ints(keys[1]) == [8]


@pytest.mark.parametrize("bad", [[], ["01", "011"], ["012"], [""]])
def test_text_to_keys_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        text_to_keys(bad)


@st.composite
def keyed_histograms(draw):
    m = draw(M_VALUES)
    n = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    # Few distinct rows and counts so that ties in count and long shared
    # prefixes of the text both occur.
    base = rng.random((3, m)) < 0.5
    bits = base[rng.integers(0, 3, size=n)].copy()
    flips = rng.random((n, m)) < draw(st.sampled_from([0.0, 0.01, 0.5]))
    bits ^= flips
    counts = rng.integers(1, draw(st.sampled_from([2, 4, 1000])), size=n)
    return bits, counts


def _python_order(texts, counts, with_counts):
    index = range(len(texts))
    if with_counts:
        return sorted(index, key=lambda i: (-int(counts[i]), texts[i]))
    return sorted(index, key=lambda i: texts[i])


@SORT_PATHS
@settings(max_examples=200, deadline=None)
@given(keyed_histograms())
def test_text_sort_order_and_order_by_count_match_python_sorted(parallel_rows, data):
    with mock.patch.object(sort, "SORT_PARALLEL_ROWS", parallel_rows):
        _check_orders_match_python_sorted(*data)


def _check_orders_match_python_sorted(bits, counts):
    keys = pack_bits(bits)
    texts = [reference_function_text(row) for row in bits]
    for with_counts in (True, False):
        order = text_sort_order(keys, counts if with_counts else None)
        expected = _python_order(texts, counts, with_counts)
        # Compare the sorted (count, text) sequences: equal elements may be
        # permuted among themselves without changing the order.
        got = [(int(counts[i]), texts[i]) if with_counts else texts[i] for i in order]
        want = [(int(counts[i]), texts[i]) if with_counts else texts[i] for i in expected]
        assert got == want
        assert sorted(order.tolist()) == list(range(len(texts)))
    # order_by_count returns the rows themselves in count order
    got_keys, got_counts = order_by_count(keys, counts)
    rows = unpack_bits(got_keys, bits.shape[1])
    assert [(int(c), reference_function_text(row)) for c, row in zip(got_counts, rows)] == \
        [(int(counts[i]), texts[i]) for i in _python_order(texts, counts, True)]


@SORT_PATHS
@pytest.mark.parametrize("n_w", [1, 2, 3])
def test_order_by_count_on_many_buckets(n_w, parallel_rows, monkeypatch):
    # Distinct keys that share long prefixes, as functions of a perceptron do,
    # with skewed counts: every bucket and tie path of the parallel sort runs.
    rng = np.random.default_rng(n_w)
    n = 60_000
    keys = np.zeros((n, n_w), dtype=np.uint64)
    keys[:, -1] = rng.permutation(n).astype(np.uint64) << np.uint64(40)
    keys[:, 0] |= rng.integers(0, 4, size=n, dtype=np.uint64)
    counts = rng.geometric(0.6, size=n)
    expected = np.lexsort(count_order_words(keys, counts).T[::-1])
    monkeypatch.setattr(sort, "SORT_PARALLEL_ROWS", parallel_rows)
    np.testing.assert_array_equal(text_sort_order(keys, counts), expected)
    got_keys, got_counts = order_by_count(keys, counts)
    np.testing.assert_array_equal(got_keys, keys[expected])
    np.testing.assert_array_equal(got_counts, counts[expected])


def test_text_sort_order_small_example():
    texts = ["0110", "1000", "0001", "0110", "1111"]
    keys, _ = text_to_keys(texts)
    counts = np.array([2, 5, 2, 2, 1])
    order = text_sort_order(keys, counts)
    assert [texts[i] for i in order] == ["1000", "0001", "0110", "0110", "1111"]
    order = text_sort_order(keys)
    assert [texts[i] for i in order] == ["0001", "0110", "0110", "1000", "1111"]


@pytest.mark.parametrize("n, w", [(0, 2), (1, 1), (1000, 2), (777, 5)])
def test_take_rows_equals_fancy_indexing(n, w):
    rng = np.random.default_rng(n + w)
    keys = rng.integers(0, 2**64, size=(max(n, 1), w), dtype=np.uint64)
    order = rng.permutation(n) if n else np.zeros(0, dtype=np.int64)
    np.testing.assert_array_equal(take_rows(keys, order), keys[order])


@pytest.mark.parametrize("m", [1, 64, 70, 128])
def test_no_rows(m):
    keys = np.zeros((0, n_words(m)), dtype=np.uint64)
    assert unpack_bits(keys, m).shape == (0, m)
    assert keys_to_text(keys, m).shape == (0,)
