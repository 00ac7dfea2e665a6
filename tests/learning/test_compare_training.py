"""compare on train runs, with posterior runs and with each other: checks, the table, P_SGD against P_B, plots."""

import math
import re

import numpy as np
import pytest

from clirun import run_cli
import pysimbias
from pysimbias import compare, summary
from pysimbias.compare import check_posterior_runs, compare_directories, compare_posteriors, posterior_table
from pysimbias.errors import InvalidParameterError
from pysimbias.plots import plot_run, rank_frequency_figure

N, TRAIN = 4, 8
TASK = dict(n=N, target="x1", train=TRAIN)
NETWORK = dict(widths=(6,), max_epochs=100)


@pytest.fixture(scope="module")
def runs():
    return {
        "bayes": pysimbias.posterior(samples=100_000, seed=0, **TASK, widths=(6,)),
        "sgd": pysimbias.train(samples=400, seed=1, **TASK, **NETWORK),
        "adam": pysimbias.train(samples=400, seed=1, optimizer="adam", lr=0.05, **TASK, **NETWORK),
        "other_target": pysimbias.train(samples=50, seed=1, n=N, target="x2", train=TRAIN, **NETWORK),
        "other_train": pysimbias.train(samples=50, seed=1, train_seed=4, **TASK, **NETWORK),
        "sample": pysimbias.sample(prior="mlp", n=N, widths=(6,), samples=500, seed=0),
    }


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory, runs):
    base = tmp_path_factory.mktemp("train_runs")
    for name, run in runs.items():
        run.save(base / name, plots=False)
    return base


def test_a_train_run_names_its_target_and_training_set_as_a_posterior_does(runs):
    bayes, sgd = summary.task_entry(runs["bayes"]), summary.task_entry(runs["sgd"])
    assert (bayes["name"], sgd["name"]) == ("posterior", "train")
    assert sgd["target"] == bayes["target"] and sgd["train"] == bayes["train"]
    assert sgd == runs["sgd"].manifest["task"]
    assert summary.conditions_on_training_set(runs["sgd"].config)
    assert not summary.conditions_on_training_set(runs["sample"].config)


def test_train_and_posterior_runs_compare_with_each_other(runs):
    assert check_posterior_runs([runs["bayes"], runs["sgd"], runs["adam"]], ["b", "s", "a"])
    assert check_posterior_runs([runs["sgd"], runs["adam"]], ["s", "a"])


@pytest.mark.parametrize(
    "names, message",
    [
        (("sgd", "sample"), "x is a sample run but a is a train run; posterior and train runs compare only"),
        (("sample", "sgd"), "x is a train run but a is a sample run"),
        (("bayes", "other_target"), "x's target 'x2' = 0000111100001111 (16 inputs) differs from a's 'x1'"),
        (("sgd", "other_train"), "x's training set '8' = {"),
    ],
)
def test_refusals_name_both_runs_and_what_differs(runs, names, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message)) as info:
        check_posterior_runs([runs[names[0]], runs[names[1]]], ["a", "x"])
    assert info.value.param == "runs"


def _probabilities(run):
    return dict(zip(run.histogram.texts(), run.histogram.probabilities))


def test_the_table_of_a_train_run_against_the_posterior(runs):
    names = ["bayes", "sgd", "adam"]
    frame = compare_posteriors([runs[name] for name in names], names).set_index("label")
    training = runs["sgd"].manifest["training"]
    row = frame.loc["sgd"]
    assert row["task"] == "train" and (row["drawn"], row["accepted"]) == (400, training["fitted"])
    assert row["fit_rate"] == training["fit_rate"]
    assert row["epochs_to_fit_mean"] == pytest.approx(training["epochs_to_fit"]["mean"])
    assert row["epochs_to_fit_median"] == training["epochs_to_fit"]["q50"]
    assert math.isnan(row["p_u"]) and math.isnan(row["pac_bayes_bound"])
    assert math.isnan(frame.loc["bayes", "fit_rate"]) and frame.loc["bayes", "p_u"] > 0
    errors, counts = runs["sgd"].measures["test_error"], runs["sgd"].histogram.counts
    assert row["mean_test_error"] == pytest.approx(np.dot(errors, counts) / counts.sum())
    # the mass shares by hand: each side's probability on the functions the other found
    p_sgd, p_b = _probabilities(runs["sgd"]), _probabilities(runs["bayes"])
    shared = set(p_sgd) & set(p_b)
    assert row["shared"] == len(shared) > 3
    assert row["mass_shared"] == pytest.approx(sum(p_sgd[f] for f in shared))
    assert row["mass_shared_first"] == pytest.approx(sum(p_b[f] for f in shared))
    x = np.log10([p_sgd[f] for f in sorted(shared)])
    y = np.log10([p_b[f] for f in sorted(shared)])
    assert row["correlation"] == pytest.approx(np.corrcoef(x, y)[0, 1])
    lines = posterior_table(frame.reset_index())
    assert any(line.startswith("sgd") and f"fit {training['fit_rate']:.4g}" in line for line in lines)
    assert any(line.startswith("bayes") and f"{frame.loc['bayes', 'p_u']:.4g} [" in line for line in lines)


def test_a_train_run_against_itself_agrees_exactly(runs):
    frame = compare_posteriors([runs["sgd"], runs["sgd"]], ["a", "b"]).set_index("label")
    row = frame.loc["b"]
    assert row["shared"] == runs["sgd"].histogram.distinct
    assert (row["mass_shared"], row["mass_shared_first"]) == pytest.approx((1.0, 1.0))
    assert (row["correlation"], row["correlation_low"], row["correlation_high"]) == pytest.approx((1.0, 1.0, 1.0))
    assert row["log10_ratio_mean"] == pytest.approx(0.0, abs=1e-12)


def test_directories_write_the_scatter_and_the_test_error_overlay(run_dirs, tmp_path):
    dirs = [run_dirs / name for name in ("bayes", "sgd", "adam")]
    frame, table, written = compare_directories(dirs, tmp_path / "cmp", measures=["klz", "test_error"],
                                                baseline_size=2_000, bootstrap=0)
    assert set(frame["task"]) == {"posterior", "train"}
    assert list(table["task"]) == ["posterior", "train", "train", "counting"]
    names = {path.name for path in written}
    assert {"posterior.csv", "test_error.png", "pfs_scatter.png", "p_klz.png"} <= names
    _, entries = compare.compare_runs([pysimbias.load_run(d) for d in dirs], ["bayes", "sgd", "adam"],
                                      measures=["ones"], bootstrap=0, baseline_size=100)
    scatter = compare._pfs_scatter(entries)
    ax = scatter.axes[0]
    assert ax.get_ylabel() == "P(f|S) in sgd (trained, P_SGD)"
    assert ax.get_xlabel() == "P(f|S) in bayes (posterior, P_B)"
    assert any(line.get_label().startswith("identity") for line in ax.get_lines())
    overlay = compare.test_error_overlay(entries).axes[0]
    labels = [line.get_label() for line in overlay.get_lines() if not line.get_label().startswith("_")]
    assert labels[:3] == [label for label in labels[:3] if " (" in label]
    assert [label.split(" (")[1].split(")")[0] for label in labels[:3]] == ["posterior", "trained", "trained"]
    assert overlay.get_title() == "Test error of the posteriors' and the trained networks' functions"


def test_compare_cli_on_train_and_posterior_runs(run_dirs, tmp_path, capsys):
    code, out, err = run_cli(capsys, "compare", str(run_dirs / "bayes"), str(run_dirs / "sgd"), "--out",
                             str(tmp_path / "cmp"), "--measures", "klz", "--bootstrap", "0",
                             "--baseline-samples", "1000", "--no-plots")
    assert code == 0, err
    assert "fit 1" in out or "fit 0." in out
    assert "r(log10 P)" in out and "share of P_SGD on functions P_B found" in out


def test_compare_cli_refuses_a_train_run_with_a_sample_run_in_one_line(run_dirs, tmp_path, capsys):
    code, _, err = run_cli(capsys, "compare", str(run_dirs / "sgd"), str(run_dirs / "sample"), "--out",
                           str(tmp_path / "cmp"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "Invalid value for 'RUN_DIRS': sample is a sample run but sgd is a train run" in err


def test_train_help_lists_only_the_mlp_prior_and_training_flags(capsys):
    code, out, _ = run_cli(capsys, "train", "--help")
    assert code == 0
    for flag in ("--widths", "--activation", "--sigma-w", "--optimizer", "--batch-size", "--runs", "--target"):
        assert flag in out
    for flag in ("--kernel", "--depth", "--samples", "--train-fraction", "--centres"):
        assert flag not in out
    code, out, _ = run_cli(capsys, "sample", "--help")
    assert "--kernel" in out and "--optimizer" not in out


def test_plots_of_a_train_run_speak_of_fitted_runs(runs, tmp_path):
    run = runs["sgd"]
    ax = rank_frequency_figure(run.histogram.counts, run.histogram.m, train_size=TRAIN, trained=True).axes[0]
    assert ax.get_ylabel() == "P_SGD(f|S), fraction of fitted runs"
    assert "one fitted run (resolution)" in [line.get_label() for line in ax.get_lines()]
    written = plot_run(run, tmp_path)
    assert {path.name for path in written} >= {"test_error.png", "rank_frequency.png"}
