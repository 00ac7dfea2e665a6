"""compare on posterior runs: refusals, the posterior table, P(f|S) agreement, plots and the command line."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import pysimbias
from pysimbias import compare, summary
from pysimbias.compare import (check_posterior_runs, compare_directories, compare_posteriors, log_probability_correlation,
                               posterior_table, probability_agreement, shared_probabilities)
from pysimbias.errors import InvalidParameterError
from pysimbias.histogram import Histogram
from pysimbias.kernels.bits import pack_bits
from test_cli import run_cli

N, TRAIN = 4, 4
TARGET_X1 = "0000000011111111"  # x1 on 4 bits, written out


@pytest.fixture(scope="module")
def runs():
    common = dict(n=N, samples=20_000, train=TRAIN)
    return {
        "perceptron": pysimbias.posterior(prior="perceptron", target="x1", seed=0, **common),
        "mlp": pysimbias.posterior(prior="mlp", widths=(6,), target=TARGET_X1, seed=1, **common),
        "uniform": pysimbias.posterior(prior="uniform", target="x1", seed=2, **common),
        "few": pysimbias.posterior(prior="uniform", target="x1", seed=3, n=N, samples=40, train=TRAIN),
        "x2": pysimbias.posterior(prior="perceptron", target="x2", seed=0, **common),
        "other_train": pysimbias.posterior(prior="perceptron", target="x1", train_seed=5, seed=0, **common),
        "sample": pysimbias.sample(prior="perceptron", n=N, samples=2_000, seed=0),
    }


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory, runs):
    base = tmp_path_factory.mktemp("posterior_runs")
    for name, run in runs.items():
        run.save(base / name, plots=False)
    return base


def test_one_weighted_quantile():
    assert compare.weighted_quantile is summary.weighted_quantile


def test_a_target_and_its_bit_string_are_one_target(runs):
    assert check_posterior_runs([runs["perceptron"], runs["mlp"], runs["uniform"]], ["p", "m", "u"])
    assert not check_posterior_runs([runs["sample"]], ["s"])


@pytest.mark.parametrize(
    "names, message",
    [
        (("perceptron", "sample"), "s is a sample run but a is a posterior run"),
        (("sample", "perceptron"), "s is a posterior run but a is a sample run"),
        (("perceptron", "x2"), "s's target 'x2' = 0000111100001111 (16 inputs) differs from a's 'x1'"),
        (("perceptron", "other_train"), "s's training set '4' = {"),
    ],
)
def test_refusals_name_the_first_run_that_differs(runs, names, message):
    first, other = runs[names[0]], runs[names[1]]
    with pytest.raises(InvalidParameterError, match=re.escape(message)) as info:
        check_posterior_runs([first, first, other, first], ["a", "b", "s", "t"])
    assert info.value.param == "runs"
    with pytest.raises(InvalidParameterError):
        compare.compare_runs([runs[names[0]], runs[names[1]]], ["a", "s"], bootstrap=0, baseline_size=100)


def test_posterior_table_against_posterior_summary(runs):
    names = ["perceptron", "mlp", "uniform", "few"]
    frame = compare_posteriors([runs[name] for name in names], names, delta=0.1).set_index("label")
    for name in names:
        s = summary.posterior_summary(runs[name], delta=0.1)
        row = frame.loc[name]
        assert (row["drawn"], row["accepted"], row["train_size"]) == (s["drawn"], s["accepted"], TRAIN)
        assert (row["p_u"], row["p_u_low"], row["p_u_high"]) == (s["p_u"], *s["p_u_interval"])
        if s["enough"]:
            assert (row["mean_test_error"], row["mean_test_error_low"], row["mean_test_error_high"]) == (
                s["mean_test_error"], *s["mean_test_error_interval"])
            assert (row["pac_bayes_bound"], row["pac_bayes_bound_conservative"]) == (
                s["pac_bayes_bound"], s["pac_bayes_bound_conservative"])
    assert not summary.posterior_summary(runs["few"])["enough"]
    assert math.isnan(frame.loc["few", "mean_test_error"]) and math.isnan(frame.loc["few", "pac_bayes_bound"])
    counting = frame.loc["counting measure"]
    assert counting["p_u"] == 2.0 ** -TRAIN and counting["mean_test_error"] == 0.5
    assert counting["pac_bayes_bound"] == pytest.approx(summary.pac_bayes_bound(2.0 ** -TRAIN, TRAIN, 0.1))
    assert pd.isna(frame.loc["perceptron", "shared"])  # the first run is the reference of the agreement columns
    agreement = probability_agreement(runs["mlp"].histogram, runs["perceptron"].histogram)
    for key, column in (("shared", "shared"), ("mass_a", "mass_shared"), ("correlation", "correlation")):
        assert frame.loc["mlp", column] == pytest.approx(agreement[key])
    lines = posterior_table(frame.reset_index())
    assert any(line.startswith("counting measure") and "0.0625" in line for line in lines)
    assert any(line.startswith("mlp") and f"{agreement['shared']:,}" in line for line in lines)


def _histogram(texts, counts):
    bits = np.array([[c == "1" for c in text] for text in texts])
    return Histogram(pack_bits(bits), np.array(counts), bits.shape[1])


def test_agreement_on_a_hand_built_pair():
    # functions A..F on 4 inputs; a has A-E, b has B-F: shared B, C, D, E
    a = _histogram(["0000", "0001", "0011", "0111", "1111"], [40, 30, 16, 10, 4])
    b = _histogram(["1110", "0001", "0011", "0111", "1111"], [50, 20, 20, 5, 5])
    p_a, p_b = shared_probabilities(a, b)
    np.testing.assert_allclose(p_a, [0.30, 0.16, 0.10, 0.04])  # a's row order
    np.testing.assert_allclose(p_b, [0.20, 0.20, 0.05, 0.05])
    result = probability_agreement(a, b)
    ratio = np.log10([0.30 / 0.20, 0.16 / 0.20, 0.10 / 0.05, 0.04 / 0.05])
    assert result["shared"] == 4
    assert result["mass_a"] == pytest.approx(0.60) and result["mass_b"] == pytest.approx(0.50)
    assert result["log10_ratio_mean"] == pytest.approx(ratio.mean())
    assert result["log10_ratio_median"] == pytest.approx(np.median(ratio))
    pearson = stats.pearsonr(np.log10(p_a), np.log10(p_b))
    interval = pearson.confidence_interval(0.95)  # scipy's default is the Fisher z interval
    assert (result["correlation"], result["correlation_low"], result["correlation_high"]) == pytest.approx(
        (pearson.statistic, interval.low, interval.high))
    z, half = math.atanh(pearson.statistic), 1.959963984540054 / math.sqrt(4 - 3)
    assert result["correlation_low"] == pytest.approx(math.tanh(z - half))


def test_correlation_edge_cases():
    assert all(math.isnan(v) for v in log_probability_correlation([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]))
    assert all(math.isnan(v) for v in log_probability_correlation([0.1] * 5, [0.1, 0.2, 0.3, 0.2, 0.1]))
    p = np.array([0.5, 0.25, 0.125, 0.0625, 0.03125])
    assert log_probability_correlation(p, p ** 2) == pytest.approx((1.0, 1.0, 1.0))
    disjoint = probability_agreement(_histogram(["0000"], [3]), _histogram(["1111"], [2]))
    assert disjoint["shared"] == 0 and disjoint["mass_a"] == 0 and math.isnan(disjoint["log10_ratio_mean"])
    with pytest.raises(InvalidParameterError, match="16 and on 4 inputs"):
        shared_probabilities(_histogram(["0" * 16], [1]), _histogram(["0000"], [1]))


def test_directories_write_the_posterior_files_and_plots(run_dirs, tmp_path):
    dirs = [run_dirs / name for name in ("perceptron", "mlp", "uniform")]
    frame, posterior, written = compare_directories(dirs, tmp_path / "cmp", measures=["klz", "test_error"],
                                                    baseline_size=2_000, bootstrap=0)
    assert set(frame["measure"]) == {"klz", "test_error"} and set(frame["task"]) == {"posterior"}
    names = {path.name for path in written}
    assert {"compare.csv", "compare.txt", "posterior.csv", "test_error.png", "pfs_scatter.png"} <= names
    stored = pd.read_csv(tmp_path / "cmp" / "posterior.csv")
    assert list(stored["label"]) == ["perceptron", "mlp", "uniform", "counting measure"]
    np.testing.assert_allclose(stored["p_u"], posterior["p_u"])
    text = (tmp_path / "cmp" / "compare.txt").read_text()
    assert "P(U) [95% CI]" in text and "r(log10 P)" in text
    for name in ("test_error.png", "pfs_scatter.png"):
        assert (tmp_path / "cmp" / name).stat().st_size > 10_000


def test_test_error_overlay_has_a_line_per_run_and_the_counting_measure(runs):
    names = ["perceptron", "mlp", "few"]
    _, entries = compare.compare_runs([runs[name] for name in names], names, measures=["ones"], bootstrap=0,
                                      baseline_size=100)
    ax = compare.test_error_overlay(entries).axes[0]
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [label.split(" (")[0] for label in labels[:3]] == names
    assert labels[3].startswith("counting-measure posterior: Binomial(12, 1/2)/12")
    assert ax.get_yscale() == "log" and ax.get_xlabel().startswith("test error")
    scatter = compare._pfs_scatter(entries)
    assert len(scatter.axes) == 2 and scatter.axes[0].get_xscale() == "log"


def test_compare_cli_on_posterior_runs(run_dirs, tmp_path, capsys):
    code, out, err = run_cli(capsys, "compare", str(run_dirs / "perceptron"), str(run_dirs / "mlp"), "--out",
                             str(tmp_path / "cmp"), "--measures", "klz", "--bootstrap", "0",
                             "--baseline-samples", "1000", "--no-plots", "--delta", "0.1")
    assert code == 0, err
    assert "PAC-Bayes bound at delta = 0.1" in out and "counting measure" in out and "r(log10 P)" in out
    assert not (tmp_path / "cmp" / "test_error.png").exists()


@pytest.mark.parametrize(
    "names, extra, message",
    [
        (("perceptron", "sample"), [], "Invalid value for 'RUN_DIRS': sample is a sample run but perceptron"),
        (("perceptron", "x2"), [], "Invalid value for 'RUN_DIRS': x2's target 'x2'"),
        (("perceptron", "other_train"), [], "Invalid value for 'RUN_DIRS': other_train's training set"),
        (("perceptron", "mlp"), ["--delta", "1.5"], "Invalid value for '--delta'"),
    ],
)
def test_compare_cli_refusals_are_one_line(run_dirs, tmp_path, capsys, names, extra, message):
    code, _, err = run_cli(capsys, "compare", *(str(run_dirs / name) for name in names), "--out",
                           str(tmp_path / "cmp"), *extra)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "cmp").exists()


def test_a_posterior_that_accepted_nothing_is_compared_by_its_p_u_only(runs, tmp_path):
    empty = pysimbias.posterior(prior="uniform", n=N, samples=100, target="x1", train=12, seed=0)
    full = pysimbias.posterior(prior="perceptron", n=N, samples=20_000, target="x1", train=12, seed=0)
    assert empty.accepted == 0 < full.accepted
    frame, entries = compare.compare_runs([full, empty], ["full", "empty"], measures=["klz"], bootstrap=0,
                                          baseline_size=100)
    assert list(frame["label"]) == ["full"]
    posterior = compare_posteriors([full, empty], ["full", "empty"]).set_index("label")
    assert posterior.loc["empty", "p_u"] == 0 and posterior.loc["empty", "p_u_high"] > 0
    assert posterior.loc["empty", "shared"] == 0 and math.isnan(posterior.loc["empty", "mean_test_error"])
    names = {path.name for path in compare.write_comparison(frame, entries, tmp_path,
                                                            posterior=posterior.reset_index())}
    assert {"p_klz.png", "test_error.png", "pfs_scatter.png", "posterior.csv"} <= names
