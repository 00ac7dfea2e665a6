"""The comparison table: statistics against direct computations, KL, bootstrap, CLI and errors."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import pysimbias
from pysimbias.kernels.bits import pack_bits
from pysimbias.compare import (compare_runs, exact_reference, kl_bits, overlay_figure, sampled_reference,
                               weighted_quantile)
from pysimbias.inputs.encodings import make_encoding
from pysimbias.inputs.graphs import make_graph
from pysimbias.measures import MeasureContext, compute_measures
from test_cli import run_cli


@pytest.fixture(scope="module")
def runs():
    return [pysimbias.sample(prior="mlp", widths=(6,), n=4, samples=20_000, seed=1),
            pysimbias.sample(prior="uniform", n=4, samples=20_000, seed=2),
            pysimbias.sample(prior="gp", encoding="gaussian:3", n=4, samples=20_000, seed=3)]


def test_weighted_quantile_is_the_quantile_of_the_repeated_sample():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 30, 50).astype(float)
    weights = rng.integers(1, 6, 50)
    expanded = np.repeat(values, weights)
    for q in (0.0, 0.01, 0.05, 0.3, 0.5, 0.95, 1.0):
        assert weighted_quantile(values, weights, [q])[0] == np.quantile(expanded, q, method="inverted_cdf")


def test_exact_references_by_enumerating_every_function():
    """For m = 8 every one of the 256 functions can be listed: their ones/entropy law is the reference."""
    m = 8
    keys = pack_bits(np.array(list(itertools.product([0, 1], repeat=m)), dtype=bool))
    values = compute_measures(keys, MeasureContext(m=m, n=3), ["ones", "entropy"])
    for name in ("ones", "entropy"):
        ref = exact_reference(name, m)
        support, counts = np.unique(np.round(values[name], 9), return_counts=True)
        np.testing.assert_allclose(ref.values, support)
        np.testing.assert_allclose(ref.weights, counts / 256)
        np.testing.assert_allclose(np.exp2(ref.log2p), counts / 256)
    assert exact_reference("klz", m) is None


def test_exact_reference_does_not_underflow():
    ref = exact_reference("ones", 4096)
    assert ref.log2p[0] == pytest.approx(-4096)
    assert np.isfinite(ref.log2p).all()


def test_kl_against_the_formula():
    ref = exact_reference("ones", 4)
    support = np.array([0.0, 2.0, 4.0])
    mass = np.array([5.0, 3.0, 2.0])
    p = mass / 10
    q = np.array([stats.binom.pmf(k, 4, 0.5) for k in (0, 2, 4)])
    assert kl_bits(support, mass, ref) == pytest.approx(np.sum(p * np.log2(p / q)))
    sampled = sampled_reference(np.array([1.0, 1.0, 2.0, 3.0]))
    # counts of the union support 0, 1, 2, 3, 4, smoothed by 1/2
    counts = np.array([0, 2, 1, 1, 0])
    q_smoothed = (counts + 0.5) / (4 + 0.5 * 5)
    expected = np.sum(p * np.log2(p / q_smoothed[[0, 2, 4]]))
    assert kl_bits(support, mass, sampled) == pytest.approx(expected)
    assert np.sum(q_smoothed) == pytest.approx(1)


def test_table_against_direct_computations(runs):
    frame, entries = compare_runs(runs, labels=["mlp", "uniform", "gp"], bootstrap=50, baseline_size=20_000)
    assert len(entries) == 3
    for run, label in zip(runs, ["mlp", "uniform", "gp"]):
        rows = frame[frame["label"] == label].set_index("measure")
        counts = run.histogram.counts
        ones = run.measures["ones"]
        assert rows["distinct"].iloc[0] == run.histogram.distinct
        assert rows["p_constant"].iloc[0] == pytest.approx(counts[(ones == 0) | (ones == 16)].sum() / 20_000)
        for name, values in run.measures.items():
            assert rows.loc[name, "mean"] == pytest.approx(np.average(values, weights=counts))
            assert rows.loc[name, "q50"] == np.quantile(np.repeat(values, counts), 0.5, method="inverted_cdf")
            assert 0 <= rows.loc[name, "kl_low"] <= rows.loc[name, "kl_high"]
            if label != "uniform":  # far from the counting measure the plug-in bias is negligible
                assert rows.loc[name, "kl_low"] <= rows.loc[name, "kl_bits"] <= rows.loc[name, "kl_high"]
        klz = run.measures["klz"]
        p01 = rows.loc["klz", "counting_p01"]
        assert rows.loc["klz", "share_below_counting_p01"] == pytest.approx(counts[klz < p01].sum() / 20_000)
        assert math.isnan(rows.loc["ones", "share_below_counting_p01"])
    assert set(frame[frame["label"] == "gp"]["measure"]) == {"ones", "entropy", "lz76", "klz", "lz78", "boundary",
                                                             "csr"}
    assert frame[frame["label"] == "gp"]["graph"].iloc[0] == "knn:4"


def test_counting_measure_is_near_itself(runs):
    frame, _ = compare_runs([runs[1]], bootstrap=100, baseline_size=50_000)
    rows = frame.set_index("measure")
    for name in ("entropy", "klz", "boundary", "walsh_degree"):
        assert rows.loc[name, "kl_bits"] < 0.05
        assert rows.loc[name, "kl_low"] < 0.01
    assert rows.loc["klz", "share_below_counting_p01"] < 0.03
    mlp = compare_runs([runs[0]], bootstrap=0)[0].set_index("measure")
    assert mlp.loc["entropy", "kl_bits"] > 1 and mlp.loc["klz", "share_below_counting_p01"] > 0.3
    assert math.isnan(mlp.loc["klz", "kl_low"])


def test_baseline_uses_the_runs_graph(runs):
    _, entries = compare_runs([runs[2]], bootstrap=0, baseline_size=5000)
    encoding = make_encoding("gaussian:3", 4)
    context = MeasureContext.for_encoding(encoding, make_graph("knn:4", encoding))
    from pysimbias.baseline import counting_measure_sample

    direct = counting_measure_sample(context, size=5000, names=["boundary"])["boundary"]
    ref = entries[0].references["boundary"]
    np.testing.assert_allclose(ref.values, np.unique(np.round(direct, 9)))
    assert ref.samples == 5000


def test_overlay_figure_draws_every_run_and_the_counting_measure(runs):
    _, entries = compare_runs(runs, labels=["a", "b", "c"], bootstrap=0, baseline_size=5000)
    fig = overlay_figure("boundary", entries)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels[:3] == ["a", "b", "c"]
    assert sum(label.startswith("counting measure") for label in labels) == 2  # hypercube and knn graphs
    assert fig.axes[0].get_yscale() == "log"
    assert fig.axes[0].get_xlabel().startswith("boundary")


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory, runs):
    base = tmp_path_factory.mktemp("runs")
    for name, run in zip(("mlp", "uniform", "gp"), runs):
        run.save(base / name, plots=False)
    return base


def test_compare_cli(run_dirs, tmp_path, capsys):
    dirs = [str(run_dirs / name) for name in ("mlp", "uniform", "gp")]
    code, out, err = run_cli(capsys, "compare", *dirs, "--out", str(tmp_path / "cmp"), "--bootstrap", "20",
                             "--baseline-samples", "1e4", "--measures", "entropy,klz,boundary")
    assert code == 0, err
    assert "KL bits" in out and "counting measure (exact)" in out and "mlp" in out
    frame = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert set(frame["measure"]) == {"entropy", "klz", "boundary"} and set(frame["label"]) == {"mlp", "uniform", "gp"}
    for name in ("compare.txt", "p_entropy.png", "p_klz.png", "p_boundary.png"):
        assert (tmp_path / "cmp" / name).stat().st_size > 0
    code, _, err = run_cli(capsys, "compare", *dirs, "--out", str(tmp_path / "cmp"))
    assert code == 2 and "--force" in err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--labels", "a"], "--labels"),
        (["--measures", "klz,nope"], "--measures"),
        (["--bootstrap", "-1"], "--bootstrap"),
    ],
)
def test_compare_cli_errors(run_dirs, tmp_path, capsys, extra, message):
    code, _, err = run_cli(capsys, "compare", str(run_dirs / "mlp"), str(run_dirs / "gp"), "--out",
                           str(tmp_path / "c"), *extra)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_compare_cli_refuses_missing_runs_and_run_directories(run_dirs, tmp_path, capsys):
    code, _, err = run_cli(capsys, "compare", str(tmp_path / "none"), "--out", str(tmp_path / "c"))
    assert code == 2 and "is not a directory" in err
    code, _, err = run_cli(capsys, "compare", str(run_dirs / "mlp"), "--out", str(run_dirs / "gp"), "--force")
    assert code == 2 and "holds a run" in err
    assert (run_dirs / "gp" / "manifest.json").exists()
