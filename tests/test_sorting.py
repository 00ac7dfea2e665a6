"""The radix lexsort kernel against np.lexsort."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pysimbias.sorting_kernels import lexsort_rows


def reference_order(words):
    return np.lexsort([words[:, c] for c in range(words.shape[1] - 1, -1, -1)])


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.uint64, st.tuples(st.integers(0, 300), st.integers(1, 4)),
                  elements=st.one_of(st.integers(0, 3), st.integers(0, 2 ** 64 - 1),
                                     st.sampled_from([2 ** 63, 2 ** 64 - 1, 2 ** 11, 2 ** 11 - 1]))))
def test_matches_lexsort_with_ties_and_extremes(words):
    np.testing.assert_array_equal(lexsort_rows(words), reference_order(words))


def test_large_random_rows_with_shared_digits():
    rng = np.random.default_rng(3)
    words = rng.integers(0, 2 ** 63, size=(200_000, 3), dtype=np.uint64)
    words[:, 0] >>= np.uint64(50)  # high digits shared by every row: those passes are skipped
    words[::5, 1] = 7  # ties in the middle column
    words[::10] = words[0]  # whole-row ties keep their input order
    np.testing.assert_array_equal(lexsort_rows(words), reference_order(words))
