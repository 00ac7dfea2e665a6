"""Plot helpers against plain NumPy."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pysimbias.plots import _distinct_pairs


@settings(max_examples=50, deadline=None)
@given(n=st.integers(0, 300), x_values=st.integers(1, 6), y_values=st.integers(1, 40),
       seed=st.integers(0, 2**32 - 1))
def test_distinct_pairs_equal_numpy_unique_of_the_columns(n, x_values, y_values, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, x_values, size=n) * 3.5  # K_LZ-like: few distinct floats
    y = rng.integers(1, y_values + 1, size=n)  # counts
    pair_x, pair_y, multiplicity = _distinct_pairs(x, y)
    pairs, want = np.unique(np.stack([x, y]), axis=1, return_counts=True)
    np.testing.assert_array_equal(pair_x, pairs[0])
    np.testing.assert_array_equal(pair_y, pairs[1])
    np.testing.assert_array_equal(multiplicity, want)
