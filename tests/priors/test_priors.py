"""The non-neural priors and the nulls: kernels against slow references, laws, seeds and validation."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import pysimbias
from pysimbias import InvalidParameterError, SampleConfig
from pysimbias.kernels.activations import ACTIVATIONS
from pysimbias.kernels.bits import pack_bits, unpack_bits
from pysimbias.inputs.encodings import make_encoding
from pysimbias.kernels.priors import (fixed_ones_keys, gp_keys, mulhi, shuffled_keys, tree_keys,
                                     voronoi_keys)
from pysimbias.priors import make_prior
from pysimbias.priors.learner import LEARNERS, learner_function
from pysimbias.priors.metric import cholesky_with_jitter, kernel_matrix, median_distance
from pysimbias.kernels.rng import chunk_key
from reference_metric import (fixed_ones_reference, gp_reference, sample_seed, shuffled_reference,
                              tree_reference, voronoi_reference)

KEY = chunk_key(123, 4)


def bit_rows(keys, m):
    return unpack_bits(keys, m).astype(int).tolist()


@settings(max_examples=200, deadline=None)
@given(a=st.integers(0, 2**64 - 1), b=st.integers(0, 2**64 - 1))
def test_mulhi_is_the_high_word(a, b):
    assert int(mulhi(np.uint64(a), np.uint64(b))) == (a * b) >> 64


# ------------------------------------------------------------------ kernels vs references


@pytest.mark.parametrize("spec, n, centres", [("binary", 4, 3), ("onehot", 3, 2), ("gaussian:3", 5, 6),
                                              ("grid:2:5", 1, 25), ("binary", 7, 70)])
def test_voronoi_kernel_matches_reference(spec, n, centres):
    points = make_encoding(spec, n).points
    keys = voronoi_keys(KEY[0], KEY[1], 0, 30, points, centres)
    for j, row in enumerate(bit_rows(keys, points.shape[0])):
        assert row == voronoi_reference(points.tolist(), centres, sample_seed(KEY, j))


@pytest.mark.parametrize("spec, n, depth", [("binary", 4, 0), ("binary", 5, 3), ("gaussian:2", 4, 4),
                                            ("onehot", 3, 2), ("grid:2:4", 1, 7)])
def test_tree_kernel_matches_reference(spec, n, depth):
    points = make_encoding(spec, n).points
    keys = tree_keys(KEY[0], KEY[1], 0, 30, points, points.min(axis=0), points.max(axis=0), depth)
    for j, row in enumerate(bit_rows(keys, points.shape[0])):
        assert row == tree_reference(points.tolist(), depth, sample_seed(KEY, j))


@pytest.mark.parametrize("kernel", ["rbf", "laplace", "arccos"])
@pytest.mark.parametrize("spec, n", [("binary", 3), ("pm1", 6), ("gaussian:4", 5), ("onehot", 4)])
def test_gp_kernel_matches_reference(kernel, spec, n):
    points = make_encoding(spec, n).points
    chol, _ = cholesky_with_jitter(kernel_matrix(points, kernel, median_distance(points)))
    keys = gp_keys(KEY[0], KEY[1], 0, 40, chol)
    for j, row in enumerate(bit_rows(keys, points.shape[0])):
        values = gp_reference(chol, sample_seed(KEY, j))
        decided = np.abs(values) > 1e-9
        np.testing.assert_array_equal(np.array(row)[decided], (values > 0)[decided])


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 150), data=st.data())
def test_fixed_ones_kernel_matches_reference(m, data):
    per_t = data.draw(st.lists(st.integers(0, 5), min_size=m + 1, max_size=m + 1).filter(any))
    cumulative = np.cumsum(per_t).astype(np.int64)
    keys = fixed_ones_keys(KEY[0], KEY[1], 0, 8, m, cumulative)
    for j, row in enumerate(bit_rows(keys, m)):
        assert row == fixed_ones_reference(m, cumulative.tolist(), sample_seed(KEY, j))


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 150), data=st.data())
def test_shuffled_kernel_matches_reference(m, data):
    count = data.draw(st.integers(1, 4))
    rows = data.draw(st.lists(st.lists(st.booleans(), min_size=m, max_size=m), min_size=count, max_size=count))
    weights = data.draw(st.lists(st.integers(1, 9), min_size=count, max_size=count))
    reference = pack_bits(np.array(rows))
    cumulative = np.cumsum(weights).astype(np.int64)
    keys = shuffled_keys(KEY[0], KEY[1], 0, 8, reference, cumulative, m)
    for j, row in enumerate(bit_rows(keys, m)):
        assert row == shuffled_reference([list(map(int, r)) for r in rows], cumulative.tolist(),
                                         sample_seed(KEY, j))


def test_kernel_covariances_against_formulas():
    points = make_encoding("gaussian:3", 3).points
    scale = 1.7
    for i in range(8):
        for j in range(8):
            d = math.dist(points[i], points[j])
            x = np.append(points[i] / scale, 1.0)
            y = np.append(points[j] / scale, 1.0)
            cos = min(1.0, x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))
            theta = math.acos(cos)
            arccos = np.linalg.norm(x) * np.linalg.norm(y) * (math.sin(theta) + (math.pi - theta) * cos) / math.pi
            assert kernel_matrix(points, "rbf", scale)[i, j] == pytest.approx(math.exp(-d * d / (2 * scale ** 2)))
            assert kernel_matrix(points, "laplace", scale)[i, j] == pytest.approx(math.exp(-d / scale))
            assert kernel_matrix(points, "arccos", scale)[i, j] == pytest.approx(arccos, abs=1e-9)
    distances = [math.dist(points[i], points[j]) for i in range(8) for j in range(i + 1, 8)]
    assert median_distance(points) == pytest.approx(float(np.median(distances)))


# ------------------------------------------------------------------ laws (reference samplers)


def function_counts(run, universe):
    found = dict(zip(run.histogram.texts(), run.histogram.counts))
    return np.array([found.get(f, 0) for f in universe])


ALL_16 = ["".join(bits) for bits in itertools.product("01", repeat=4)]


def test_voronoi_with_every_input_a_centre_is_the_counting_measure():
    run = pysimbias.sample(prior="voronoi", centres=4, n=2, samples=32_000, seed=1)
    assert stats.chisquare(function_counts(run, ALL_16)).pvalue > 1e-4


def test_voronoi_with_one_centre_is_constant():
    run = pysimbias.sample(prior="voronoi", centres=1, n=4, samples=2000, seed=1)
    assert set(run.histogram.texts()) == {"0" * 16, "1" * 16}


def test_gp_against_an_independent_gaussian_sampler():
    """Signs of numpy's multivariate normal draws have the same law as the gp prior (n = 2)."""
    run = pysimbias.sample(prior="gp", kernel="rbf", length_scale=1.0, n=2, samples=40_000, seed=2)
    cov = kernel_matrix(make_encoding("binary", 2).points, "rbf", 1.0)
    draws = np.random.default_rng(0).multivariate_normal(np.zeros(4), cov, size=40_000) > 0
    reference = dict(zip(*np.unique(["".join("1" if b else "0" for b in row) for row in draws],
                                    return_counts=True)))
    table = np.array([function_counts(run, ALL_16), [reference.get(f, 0) for f in ALL_16]])
    table = table[:, table.sum(axis=0) > 0]
    assert stats.chi2_contingency(table).pvalue > 1e-4


def test_tree_on_one_bit_per_level():
    """Depth-1 trees on {0,1}^2: a random coordinate, fair labels on its two sides."""
    run = pysimbias.sample(prior="tree", depth=1, n=2, samples=40_000, seed=3)
    expected = {"0000": 0.25, "1111": 0.25, "0011": 0.125, "1100": 0.125, "0101": 0.125, "1010": 0.125}
    counts = function_counts(run, list(expected))
    assert counts.sum() == 40_000
    assert stats.chisquare(counts, np.array(list(expected.values())) * 40_000).pvalue > 1e-4


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "mlp"
    pysimbias.sample(prior="mlp", widths=(8,), n=3, samples=20_000, seed=4).save(path, plots=False)
    return path


def test_fixed_ones_matches_the_reference_ones_law(reference_run):
    reference = pysimbias.load_run(reference_run)
    run = pysimbias.sample(prior=f"fixed-ones:{reference_run}", n=3, samples=40_000, seed=5)
    want = np.bincount(reference.measures["ones"], weights=reference.histogram.counts, minlength=9)
    got = np.bincount(run.measures["ones"], weights=run.histogram.counts, minlength=9)
    keep = want > 0
    assert np.all(got[~keep] == 0)
    assert stats.chisquare(got[keep], want[keep] / want.sum() * got.sum()).pvalue > 1e-4
    # given t, uniform over the C(8, t) functions with t ones
    with_three = [(f, c) for f, c in zip(run.histogram.texts(), run.histogram.counts) if f.count("1") == 3]
    assert len(with_three) == math.comb(8, 3)
    assert stats.chisquare([c for _, c in with_three]).pvalue > 1e-4
    assert run.manifest["prior"]["reference"]["path"] == str(reference_run.resolve())


def test_shuffled_keeps_ones_and_is_uniform_given_them(reference_run):
    run = pysimbias.sample(prior=f"shuffled:{reference_run}", n=3, samples=40_000, seed=6)
    reference = pysimbias.load_run(reference_run)
    want = np.bincount(reference.measures["ones"], weights=reference.histogram.counts, minlength=9)
    got = np.bincount(run.measures["ones"], weights=run.histogram.counts, minlength=9)
    keep = want > 0
    assert stats.chisquare(got[keep], want[keep] / want.sum() * got.sum()).pvalue > 1e-4
    with_two = [c for f, c in zip(run.histogram.texts(), run.histogram.counts) if f.count("1") == 2]
    assert len(with_two) == math.comb(8, 2)
    assert stats.chisquare(with_two).pvalue > 1e-4
    sha = (reference_run / "manifest.json").read_text()
    assert run.manifest["prior"]["reference"]["functions_sha256"] in sha


def test_reference_run_must_match(reference_run, tmp_path):
    with pytest.raises(InvalidParameterError, match="inputs"):
        pysimbias.sample(prior=f"shuffled:{reference_run}", n=4, samples=10)
    with pytest.raises(InvalidParameterError, match="reference run"):
        pysimbias.sample(prior=f"fixed-ones:{tmp_path / 'nothing'}", n=3, samples=10)


# ------------------------------------------------------------------ learners


@pytest.mark.parametrize("name", list(LEARNERS))
def test_learner_prior_matches_a_direct_fit(name):
    """The prior's sample j is the documented recipe run on sample j's own generator."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    encoding = make_encoding("gaussian:3", 4)
    config = SampleConfig(prior=f"learner:{name}", n=4, train_fraction=0.5).validated()
    keys = make_prior(config, encoding).sample_chunk(KEY, 12)
    for j, row in enumerate(bit_rows(keys, 16)):
        rng = np.random.Generator(np.random.Philox(sample_seed(KEY, j)))
        train = rng.choice(16, size=8, replace=False)
        labels = rng.integers(0, 2, size=8)
        if labels.min() == labels.max():
            assert row == [int(labels[0])] * 16
            continue
        model = {"knn": lambda: KNeighborsClassifier(n_neighbors=5),
                 "svm-rbf": lambda: SVC(kernel="rbf", C=1.0, gamma="scale"),
                 "tree": lambda: DecisionTreeClassifier(random_state=int(rng.integers(2**31))),
                 "logistic": lambda: LogisticRegression(C=1.0)}[name]()
        model.fit(encoding.points[train], labels)
        assert row == model.predict(encoding.points).astype(int).tolist()


def test_tree_learner_on_all_inputs_is_the_counting_measure():
    """A fully grown tree fitted to fair labels on every input reproduces them: uniform functions."""
    run = pysimbias.sample(prior="learner:tree", train_fraction=1.0, n=2, samples=3200, seed=7)
    assert stats.chisquare(function_counts(run, ALL_16)).pvalue > 1e-4


def test_learner_constant_labels_and_tiny_training_sets():
    rng = np.random.Generator(np.random.Philox(1))
    points = make_encoding("binary", 3).points
    bits = learner_function(points, "knn", 1 / 8, rng)   # one training input: a constant
    assert bits.all() or not bits.any()


# ------------------------------------------------------------------ seeds, chunks, threads


@pytest.mark.parametrize("prior, extra", [("gp", {}), ("voronoi", {}), ("tree", {"depth": 4}),
                                          ("learner:knn", {})])
def test_samples_depend_on_their_index_only(prior, extra):
    encoding = make_encoding("binary", 4)
    p = make_prior(SampleConfig(prior=prior, n=4, **extra).validated(), encoding)
    np.testing.assert_array_equal(p.sample_chunk(KEY, 7), p.sample_chunk(KEY, 20)[:7])


@pytest.mark.parametrize("prior", ["gp", "voronoi", "tree"])
def test_new_priors_do_not_depend_on_threads(prior):
    kwargs = dict(prior=prior, n=3, samples=3000, seed=8)
    one = pysimbias.sample(threads=1, **kwargs)
    two = pysimbias.sample(threads=2, **kwargs)
    np.testing.assert_array_equal(one.histogram.keys, two.histogram.keys)
    np.testing.assert_array_equal(one.histogram.counts, two.histogram.counts)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_mlp_runs_do_not_depend_on_threads(activation):
    """A whole mlp run, sampled with 1 and with 2 threads, gives the same histogram bit for bit."""
    kwargs = dict(prior="mlp", n=5, widths=(13, 7), activation=activation, samples=3000, seed=4)
    one = pysimbias.sample(threads=1, **kwargs)
    two = pysimbias.sample(threads=2, **kwargs)
    np.testing.assert_array_equal(one.histogram.keys, two.histogram.keys)
    np.testing.assert_array_equal(one.histogram.counts, two.histogram.counts)


def test_nulls_do_not_depend_on_threads(reference_run):
    for prior in (f"fixed-ones:{reference_run}", f"shuffled:{reference_run}"):
        one = pysimbias.sample(prior=prior, n=3, samples=3000, seed=9, threads=1)
        two = pysimbias.sample(prior=prior, n=3, samples=3000, seed=9, threads=2)
        np.testing.assert_array_equal(one.histogram.counts, two.histogram.counts)
        np.testing.assert_array_equal(one.histogram.keys, two.histogram.keys)


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    "params, param",
    [
        ({"prior": "learner:nope"}, "prior"),
        ({"prior": "learner"}, "prior"),
        ({"prior": "shuffled"}, "prior"),
        ({"prior": "gp:1"}, "prior"),
        ({"prior": "gp", "kernel": "cosine"}, "kernel"),
        ({"prior": "gp", "length_scale": -1.0}, "length_scale"),
        ({"prior": "gp", "length_scale": "big"}, "length_scale"),
        ({"prior": "voronoi", "centres": 0}, "centres"),
        ({"prior": "voronoi", "centres": 9, "n": 3}, "centres"),
        ({"prior": "tree", "depth": -1}, "depth"),
        ({"prior": "tree", "depth": 40}, "depth"),
        ({"prior": "learner:knn", "train_fraction": 0.0}, "train_fraction"),
        ({"prior": "learner:knn", "train_fraction": 1.5}, "train_fraction"),
        ({"prior": "gp", "encoding": "grid:2:70"}, "prior"),
        ({"graph": "radius:0.1"}, "graph"),
        ({"graph": "hypercube", "encoding": "gaussian:2"}, "graph"),
    ],
)
def test_bad_prior_parameters(params, param):
    with pytest.raises(InvalidParameterError) as info:
        pysimbias.sample(samples=10, **params)
    assert info.value.param == param


def test_irrelevant_parameters_are_normalised():
    config = SampleConfig(prior="mlp", kernel="laplace", centres=3, depth=5, train_fraction=0.9).validated()
    assert (config.kernel, config.centres, config.depth, config.train_fraction) == ("rbf", 8, 3, 0.25)
    assert SampleConfig(prior="gp", length_scale="2.5").validated().length_scale == 2.5
    assert SampleConfig.from_dict(SampleConfig(prior="learner:svm-rbf").validated().to_dict()).prior == \
        "learner:svm-rbf"


def test_gp_manifest_records_the_resolved_length_scale():
    run = pysimbias.sample(prior="gp", n=3, samples=100, seed=0)
    assert run.manifest["prior"]["length_scale"] == pytest.approx(median_distance(run.encoding.points))
    assert run.manifest["prior"]["kernel"] == "rbf"
