"""The Numba network kernels against the float64 reference forward pass.

The kernels compute in float32, the reference in float64 on the same float32
parameters.  Their output bits may legitimately differ only where the
reference pre-activation is within the float32 error bound of zero
(``tests.reference.reference_forward_with_bound``); such "ambiguous" bits are
counted and must be rare, and every other bit must agree exactly.
"""

import itertools
import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pysimbias.kernels import network as nk
from pysimbias.inputs.encodings import make_encoding
from pysimbias.kernels.rng import chunk_key
from reference import (
    binary_inputs,
    reference_forward,
    reference_forward_with_bound,
    reference_pack,
    reference_unpack,
    split_params,
)

WIDTHS = [(), (1,), (3,), (40, 40), (5, 7, 3), (13, 25)]  # 13 and 25 units split into uneven tiles
ACTS = ["relu", "tanh", "linear"]
#: the other activations, checked on fewer cases
MORE_ACTS = [name for name in nk.ACTIVATIONS if name not in ACTS]
LAWS = ["gaussian", "uniform"]
NS = range(1, 9)
SAMPLES_PER_CASE = 12

# Where the reference pre-activation lies within float32 error of zero.
MAX_AMBIGUOUS_RATE = 1e-3


def inputs_T(n):
    """The kernels' XT for {0,1}^n: (n, 2**n) float32, C-contiguous."""
    return np.ascontiguousarray(binary_inputs(n).T, dtype=np.float32)


def sizes_of(d, widths):
    return nk.layer_sizes(d, widths)


def _stable_seed(parts):
    # str hashing is salted per process; build a stable integer instead.
    text = repr(parts).encode()
    value = 0
    for byte in text:
        value = (value * 131 + byte) % (2 ** 61 - 1)
    return value


def key_for(*parts):
    k = chunk_key(20240601, _stable_seed(parts) % (2 ** 31))
    return k[0], k[1]


def compare_with_reference(params, XT, X, widths, bias, act, keys=None):
    """Kernel keys (``keys_from_params``'s unless given) vs the reference on every row of ``params``.

    Returns (n_bits, n_ambiguous, n_ambiguous_disagreeing, bad) where ``bad``
    lists (row, input, z, bound) of disagreements outside the error bound.
    """
    d = X.shape[1]
    sizes = sizes_of(d, widths)
    if keys is None:
        keys = nk.keys_from_params(params, XT, sizes, bias, nk.ACTIVATIONS[act])
    m = X.shape[0]
    assert keys.shape == (params.shape[0], (m + 63) // 64)
    n_bits = n_amb = n_amb_dis = 0
    bad = []
    for r in range(params.shape[0]):
        z, bound = reference_forward_with_bound(params[r], X, widths, bias, act)
        ref_bits = z > 0
        got_bits = np.array(reference_unpack([int(w) for w in keys[r]], m), dtype=bool)
        ambiguous = (np.abs(z) <= bound) & (bound > 0)
        differ = got_bits != ref_bits
        n_bits += m
        n_amb += int(ambiguous.sum())
        n_amb_dis += int((differ & ambiguous).sum())
        for i in np.flatnonzero(differ & ~ambiguous):
            bad.append((r, int(i), float(z[i]), float(bound[i])))
        if not differ.any():
            assert [int(w) for w in keys[r]] == reference_pack(ref_bits)
    return n_bits, n_amb, n_amb_dis, bad


CASES = list(itertools.product(WIDTHS, ACTS, [True, False], LAWS))


def _case_id(case):
    widths, act, bias, law = case
    return f"w{'x'.join(map(str, widths)) or '0'}-{act}-{'bias' if bias else 'nobias'}-{law}"


@pytest.fixture(scope="module")
def reference_results():
    """Run every case once; the tests below inspect the results."""
    results = {}
    for case in CASES:
        widths, act, bias, law = case
        for n in NS:
            k0, k1 = key_for("ref", n, case)
            sizes = sizes_of(n, widths)
            sigma_w, sigma_b = (1.0, 1.0) if n % 2 else (1.6, 0.4)
            params = nk.draw_params(k0, k1, 0, SAMPLES_PER_CASE, sizes, bias, nk.LAWS[law], sigma_w, sigma_b)
            XT = inputs_T(n)
            results[case, n] = compare_with_reference(params, XT, binary_inputs(n), widths, bias, act)
    return results


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_keys_from_params_matches_reference(reference_results, case):
    for n in NS:
        n_bits, n_amb, n_amb_dis, bad = reference_results[case, n]
        assert not bad, f"n={n}: disagreements outside the float32 error bound (row, input, z, bound): {bad[:5]}"


def test_ambiguous_bits_are_rare(reference_results):
    totals = np.sum([v[:3] for v in reference_results.values()], axis=0)
    n_bits, n_amb, n_amb_dis = (int(t) for t in totals)
    rate = n_amb / n_bits
    print(f"\nnear-zero bits: {n_amb} of {n_bits} ({rate:.2e}); of these {n_amb_dis} disagree")
    assert rate < MAX_AMBIGUOUS_RATE


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 8),
    widths=st.sampled_from(WIDTHS),
    act=st.sampled_from(ACTS),
    bias=st.booleans(),
    law=st.sampled_from(LAWS),
    seed=st.integers(0, 2 ** 32 - 1),
    start=st.integers(0, 2 ** 40),
)
def test_random_cases_match_reference(n, widths, act, bias, law, seed, start):
    k0, k1 = chunk_key(seed, seed % 97)
    sizes = sizes_of(n, widths)
    params = nk.draw_params(k0, k1, start, 4, sizes, bias, nk.LAWS[law], 1.0, 1.0)
    _, _, _, bad = compare_with_reference(params, inputs_T(n), binary_inputs(n), widths, bias, act)
    assert not bad


@pytest.mark.parametrize("act", MORE_ACTS)
def test_more_activations_match_reference(act):
    """Each further activation: kernel bits against the reference, ambiguous ones rare, fused = two-step."""
    n_bits = n_amb = 0
    for n, widths, bias in itertools.product((3, 7), ((3,), (13, 25), (40, 40)), (True, False)):
        k0, k1 = key_for("more", n, widths, act, bias)
        sizes, XT = sizes_of(n, widths), inputs_T(n)
        params = nk.draw_params(k0, k1, 0, SAMPLES_PER_CASE, sizes, bias, 0, 1.3, 0.7)
        bits, amb, _, bad = compare_with_reference(params, XT, binary_inputs(n), widths, bias, act)
        assert not bad, f"n={n} {widths}: disagreements outside the float32 error bound: {bad[:5]}"
        n_bits, n_amb = n_bits + bits, n_amb + amb
        fused = nk.sample_keys(k0, k1, 0, SAMPLES_PER_CASE, XT, sizes, bias, nk.ACTIVATIONS[act], 0, 1.3, 0.7)
        np.testing.assert_array_equal(fused, nk.keys_from_params(params, XT, sizes, bias, nk.ACTIVATIONS[act]))
    assert n_amb / n_bits < MAX_AMBIGUOUS_RATE


def test_arbitrary_inputs_and_partial_words():
    # Non-binary inputs and m not a multiple of 64 (130 inputs: 3 words).
    rng = np.random.default_rng(5)
    for m, d, widths in ((130, 5, (5, 7, 3)), (100, 3, ()), (1, 4, (3,))):
        X = rng.standard_normal((m, d))
        XT = np.ascontiguousarray(X.T, dtype=np.float32)
        X32 = XT.T.astype(np.float64)  # the inputs the kernel actually sees
        k0, k1 = key_for("arbitrary", m)
        for act in ACTS:
            for bias in (True, False):
                params = nk.draw_params(k0, k1, 0, 20, sizes_of(d, widths), bias, 0, 1.0, 1.0)
                *_, bad = compare_with_reference(params, XT, X32, widths, bias, act)
                assert not bad
                keys = nk.keys_from_params(params, XT, sizes_of(d, widths), bias, nk.ACTIVATIONS[act])
                rem = m % 64
                if rem:
                    assert np.all(keys[:, -1] >> np.uint64(rem) == 0)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_sample_keys_equals_keys_from_drawn_params(case):
    widths, act, bias, law = case
    for n in (1, 4, 7):
        k0, k1 = key_for("fused", n, case)
        sizes = sizes_of(n, widths)
        XT = inputs_T(n)
        start, count = 1000, 150
        fused = nk.sample_keys(k0, k1, start, count, XT, sizes, bias, nk.ACTIVATIONS[act], nk.LAWS[law], 1.3, 0.7)
        params = nk.draw_params(k0, k1, start, count, sizes, bias, nk.LAWS[law], 1.3, 0.7)
        two_step = nk.keys_from_params(params, XT, sizes, bias, nk.ACTIVATIONS[act])
        np.testing.assert_array_equal(fused, two_step)


def _tree_cases():
    rng = np.random.default_rng(11)
    signed = rng.integers(-1, 2, size=(5, 40)).astype(np.float32)
    signed[:, 7] = 0  # an all-zero input: the bias alone
    signed[:, 9] = signed[:, 3]  # a repeated input
    cases = {f"binary{n}": make_encoding("binary", n).transposed32() for n in (1, 2, 5, 7, 9)}
    cases.update({spec: make_encoding(spec, 6).transposed32() for spec in ("pm1", "gray", "permuted:3")})
    cases["onehot7"] = make_encoding("onehot", 7).transposed32()  # 129 parameters: drawn stream by stream
    cases["signed"] = np.ascontiguousarray(signed)
    return cases


TREE_CASES = _tree_cases()


@pytest.mark.parametrize("name", sorted(TREE_CASES))
def test_sample_tree_keys_match_reference(name):
    # The sum tree's packed keys against the float64 forward pass directly,
    # every input word (partial and over the 32-bit halves) included.
    XT = TREE_CASES[name]
    sizes = sizes_of(XT.shape[0], ())
    for bias in (True, False):
        k0, k1 = key_for("tree-reference", name, bias)
        params = nk.draw_params(k0, k1, 0, 300, sizes, bias, 0, 1.3, 0.7)
        keys = nk.sample_tree_keys(k0, k1, 0, 300, *nk.sum_tree(XT), sizes, bias, 0, 1.3, 0.7)
        n_bits, *_, bad = compare_with_reference(params, XT, np.ascontiguousarray(XT.T), (), bias, "relu", keys)
        assert n_bits == 300 * XT.shape[1] and not bad


@pytest.mark.parametrize("name", sorted(TREE_CASES))
def test_sample_tree_keys_equals_sample_keys(name):
    XT = TREE_CASES[name]
    tree = nk.sum_tree(XT)
    sizes = sizes_of(XT.shape[0], ())
    for bias, law in itertools.product((True, False), LAWS):
        k0, k1 = key_for("tree", name, bias, law)
        for start, count in ((0, 1), (3, 63), (1000, 64), (77, 1000)):
            expected = nk.sample_keys(k0, k1, start, count, XT, sizes, bias, 0, nk.LAWS[law], 1.3, 0.7)
            got = nk.sample_tree_keys(k0, k1, start, count, *tree, sizes, bias, nk.LAWS[law], 1.3, 0.7)
            assert got.shape == expected.shape
            np.testing.assert_array_equal(got, expected)


@settings(max_examples=60, deadline=None)
@given(d=st.integers(1, 6), m=st.integers(1, 30), seed=st.integers(0, 2 ** 32 - 1))
def test_sum_tree_adds_each_inputs_weights_in_order(d, m, seed):
    rng = np.random.default_rng(seed)
    XT = rng.integers(-1, 2, size=(d, m)).astype(np.float32)
    src, coord, flip, out_node = nk.sum_tree(XT)
    w, b = rng.standard_normal(d), rng.standard_normal()
    nodes = [b]
    for s, a, f in zip(src, coord, flip):
        assert s < len(nodes) and f in (0, np.iinfo(np.int32).min)
        nodes.append(nodes[s] - w[a] if f else nodes[s] + w[a])
    for i in range(m):
        total = b
        for a in range(d):
            if XT[a, i]:
                total = total + XT[a, i] * w[a]
        assert nodes[out_node[i]] == total  # the same additions in the same order


def test_sum_tree_sizes_and_refusals():
    for n in range(1, 10):
        src, coord, flip, out_node = nk.sum_tree(inputs_T(n))
        assert len(src) == 2 ** n - 1 and not flip.any()  # one addition per input besides input 0
        assert sorted(out_node) == list(range(2 ** n))
    assert len(nk.sum_tree(make_encoding("pm1", 5).transposed32())[0]) == 2 ** 6 - 2
    assert nk.sum_tree(make_encoding("gaussian:3", 4).transposed32()) is None
    assert nk.sum_tree(inputs_T(3) * 2) is None
    assert nk.sum_tree(inputs_T(6), max_nodes=63) is None
    assert nk.sum_tree(inputs_T(6), max_nodes=64) is not None


def test_param_count_and_layout():
    for d, widths in ((3, ()), (3, (1,)), (8, (40, 40)), (2, (5, 7, 3))):
        sizes = sizes_of(d, widths)
        assert list(sizes) == [d, *widths, 1]
        for bias in (True, False):
            full = [d, *widths, 1]
            expected = sum(a * b + (b if bias else 0) for a, b in zip(full[:-1], full[1:]))
            assert nk.param_count(sizes, bias) == expected
            # split_params (the reference's reading) uses every entry exactly once.
            split_params(np.zeros(expected), d, widths, bias)


def _layer_blocks(d, widths, bias):
    """(kind, layer, fan_in, slice) of every weight and bias block."""
    sizes = [d, *widths, 1]
    blocks, off = [], 0
    for layer, (fi, fo) in enumerate(zip(sizes[:-1], sizes[1:])):
        blocks.append(("w", layer, fi, slice(off, off + fi * fo)))
        off += fi * fo
        if bias:
            blocks.append(("b", layer, fi, slice(off, off + fo)))
            off += fo
    return blocks


@pytest.mark.parametrize("law", LAWS)
def test_draw_params_scaling(law):
    d, widths, sigma_w, sigma_b, count = 6, (40, 9), 1.7, 0.4, 4000
    k0, k1 = key_for("scaling", law)
    params = nk.draw_params(k0, k1, 0, count, sizes_of(d, widths), True, nk.LAWS[law], sigma_w, sigma_b)
    assert params.dtype == np.float32
    kurtosis = 3.0 if law == "gaussian" else 1.8  # E x^4 / var^2 of the law
    for kind, layer, fan_in, sl in _layer_blocks(d, widths, True):
        x = params[:, sl].astype(np.float64).ravel()
        var = sigma_w ** 2 / fan_in if kind == "w" else sigma_b ** 2
        se = var * math.sqrt((kurtosis - 1) / x.size)
        assert abs(x.var() - var) < 5 * se, (kind, layer)
        assert abs(x.mean()) < 5 * math.sqrt(var / x.size), (kind, layer)
        if law == "uniform":
            assert np.all(np.abs(x) <= math.sqrt(3 * var) * (1 + 1e-6)), (kind, layer)
            assert stats.kstest(x / math.sqrt(var), "uniform", args=(-math.sqrt(3), 2 * math.sqrt(3))).pvalue > 1e-4
        else:
            assert stats.kstest(x / math.sqrt(var), "norm").pvalue > 1e-4
    # Different parameters of one network are uncorrelated.
    c = np.corrcoef(params[:, :30].T)
    off_diagonal = c[~np.eye(30, dtype=bool)]
    assert np.max(np.abs(off_diagonal)) < 5 / math.sqrt(count)


def test_draw_params_is_scaled_stream():
    """Row r is stream (start + r)'s raw draws times the per-block scale, exactly."""
    from pysimbias.kernels.rng import fill_normal, fill_uniform, stream_seed

    d, widths, bias, sigma_w, sigma_b = 5, (4, 3), True, 1.3, 0.6
    sizes = sizes_of(d, widths)
    k0, k1 = key_for("layout")
    for law, fill in (("gaussian", fill_normal), ("uniform", fill_uniform)):
        params = nk.draw_params(k0, k1, 77, 5, sizes, bias, nk.LAWS[law], sigma_w, sigma_b)
        for r in range(5):
            raw = np.empty(params.shape[1], dtype=np.float32)
            fill(np.uint64(stream_seed(k0, k1, 77 + r)), raw, np.float32(1.0))
            scale = np.empty(params.shape[1], dtype=np.float32)
            for kind, _, fan_in, sl in _layer_blocks(d, widths, bias):
                scale[sl] = np.float32(sigma_w / math.sqrt(fan_in)) if kind == "w" else np.float32(sigma_b)
            np.testing.assert_array_equal(params[r], raw * scale)


@pytest.mark.parametrize("widths,act,bias,law", [((5, 7, 3), "tanh", True, "gaussian"),
                                                 ((), "relu", False, "uniform"),
                                                 ((40, 40), "relu", True, "uniform")])
def test_split_invariance(widths, act, bias, law):
    n, total = 6, 700
    sizes, XT = sizes_of(n, widths), inputs_T(n)
    k0, k1 = key_for("split", widths)
    args = (XT, sizes, bias, nk.ACTIVATIONS[act], nk.LAWS[law], 1.0, 1.0)
    whole = nk.sample_keys(k0, k1, 0, total, *args)
    for cuts in ([1, 64, 65, 300], [333], [10, 20, 30, 600, 699]):
        bounds = [0, *cuts, total]
        parts = [nk.sample_keys(k0, k1, a, b - a, *args) for a, b in zip(bounds[:-1], bounds[1:])]
        np.testing.assert_array_equal(np.concatenate(parts), whole)
        pparts = [nk.draw_params(k0, k1, a, b - a, sizes, bias, nk.LAWS[law], 1.0, 1.0)
                  for a, b in zip(bounds[:-1], bounds[1:])]
        np.testing.assert_array_equal(np.concatenate(pparts),
                                      nk.draw_params(k0, k1, 0, total, sizes, bias, nk.LAWS[law], 1.0, 1.0))
    # An empty range is fine too.
    assert nk.sample_keys(k0, k1, 5, 0, *args).shape == (0, 1)


def test_thread_count_independence():
    n, widths = 7, (5, 7, 3)
    sizes, XT = sizes_of(n, widths), inputs_T(n)
    k0, k1 = key_for("threads")
    original = numba.get_num_threads()
    thread_counts = sorted({1, min(2, numba.config.NUMBA_NUM_THREADS), numba.config.NUMBA_NUM_THREADS})
    results = []
    try:
        for threads in thread_counts:
            numba.set_num_threads(threads)
            keys = nk.sample_keys(k0, k1, 0, 1000, XT, sizes, True, 1, 0, 1.0, 1.0)
            params = nk.draw_params(k0, k1, 0, 1000, sizes, True, 0, 1.0, 1.0)
            tree_keys = nk.sample_tree_keys(k0, k1, 0, 20000, *nk.sum_tree(XT), sizes_of(n, ()), True, 0, 1.0, 1.0)
            results.append((keys, params, nk.keys_from_params(params, XT, sizes, True, 1), tree_keys))
    finally:
        numba.set_num_threads(original)
    for result in results[1:]:
        for got, expected in zip(result, results[0]):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("widths", WIDTHS, ids=lambda w: "w" + ("x".join(map(str, w)) or "0"))
def test_bias_free_maps_input_zero_to_zero(widths):
    # Without biases every pre-activation of input 0 is exactly 0, and the
    # Heaviside output of 0 is 0.
    for n in (1, 3, 7):
        XT = inputs_T(n)
        # every activation with act(0) = 0 (all but sigmoid and gaussian)
        for act, law in itertools.product([a for a in nk.ACTIVATIONS if a not in ("sigmoid", "gaussian")], LAWS):
            k0, k1 = key_for("zero", n, act, law)
            keys = nk.sample_keys(k0, k1, 0, 500, XT, sizes_of(n, widths), False,
                                  nk.ACTIVATIONS[act], nk.LAWS[law], 1.0, 1.0)
            assert np.all(keys[:, 0] & np.uint64(1) == 0)
            # ... while other inputs do get 1s.
            assert np.any(keys[:, 0] >> np.uint64(1))


def test_perceptron_n1_by_hand():
    # {0,1}^1 = [0, 1]: f(0) = [b > 0], f(1) = [w + b > 0].
    XT = inputs_T(1)
    k0, k1 = key_for("n1")
    sizes = sizes_of(1, ())
    params = nk.draw_params(k0, k1, 0, 2000, sizes, True, 0, 1.0, 1.0)
    keys = nk.keys_from_params(params, XT, sizes, True, 0)
    w, b = params[:, 0], params[:, 1]
    expected = (b > 0).astype(np.uint64) | ((w + b > 0).astype(np.uint64) << np.uint64(1))
    np.testing.assert_array_equal(keys[:, 0], expected)
    # All four functions occur.
    assert set(keys[:, 0].tolist()) == {0, 1, 2, 3}
    # Without bias: only 00 and 01.
    params = nk.draw_params(k0, k1, 0, 2000, sizes, False, 0, 1.0, 1.0)
    keys = nk.keys_from_params(params, XT, sizes, False, 0)
    np.testing.assert_array_equal(keys[:, 0], (params[:, 0] > 0).astype(np.uint64) << np.uint64(1))


def test_width_one_network_by_hand():
    # One hidden ReLU unit: z = w2 * relu(x.w1 + b1) + b2.
    n = 3
    X, XT = binary_inputs(n), inputs_T(n)
    sizes = sizes_of(n, (1,))
    k0, k1 = key_for("width1")
    params = nk.draw_params(k0, k1, 0, 300, sizes, True, 0, 1.0, 1.0)
    keys = nk.keys_from_params(params, XT, sizes, True, 0)
    for r in range(300):
        p = params[r].astype(np.float64)
        w1, b1, w2, b2 = p[:3], p[3], p[4], p[5]
        z = w2 * np.maximum(X @ w1 + b1, 0) + b2
        assert np.allclose(z, reference_forward(params[r], X, (1,), True, "relu"))
        if np.min(np.abs(z)) > 1e-5:
            assert [int(k) for k in keys[r]] == reference_pack(z > 0)


@pytest.mark.parametrize("law", LAWS)
def test_bias_free_perceptron_ones_are_uniform(law):
    """Mingard et al. (2019): a bias-free perceptron on {0,1}^n with a
    reflection-symmetric weight law has P(t) = 2**-n for t = 0 .. 2**n - 1
    (and P(t = 2**n) = 0)."""
    n, count = 7, 200_000
    XT = inputs_T(n)
    k0, k1 = key_for("theorem", law)
    keys = nk.sample_keys(k0, k1, 0, count, XT, sizes_of(n, ()), False, 0, nk.LAWS[law], 1.0, 1.0)
    bits = np.unpackbits(keys.view(np.uint8), axis=1, bitorder="little")[:, :128]
    t = bits.sum(axis=1)
    hist = np.bincount(t, minlength=129)
    assert hist[128] == 0
    assert stats.chisquare(hist[:128]).pvalue > 1e-4
