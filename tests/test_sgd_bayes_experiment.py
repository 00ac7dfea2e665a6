"""The SGD-against-Bayes experiment (Q6) runs its quick version; its report's answers follow from the data."""

import importlib
import math
import sys
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    if str(EXPERIMENTS) not in sys.path:
        sys.path.insert(0, str(EXPERIMENTS))
    out = tmp_path_factory.mktemp("sgd_bayes")
    return importlib.import_module("sgd_bayes").main(["--quick", "--out", str(out)]), out


def _rows(results, encoding):
    return [row for row in results["rows"] if row["encoding"] == encoding]


@pytest.mark.slow
def test_every_optimizer_batch_and_loss_is_set_against_the_posterior(quick):
    results, _ = quick
    binary = _rows(results, "binary")
    assert {(r["optimizer"], r["batch_size"], r["loss"]) for r in binary} == {
        (o, b, loss) for o in ("sgd", "adam") for b in (1, 8) for loss in ("ce", "mse")}
    for row in binary:
        assert row["shared"] >= 4 and -1 <= row["correlation_low"] <= row["correlation"] <= row["correlation_high"] <= 1
        assert 0 < row["mass_a"] <= 1 and 0 < row["mass_b"] <= 1
        # trained networks generalize on x1: both sides' test error lies far below the counting measure's 1/2
        assert row["sgd"]["mean_test_error_interval"][1] < 0.5 and row["bayes"]["mean_test_error_interval"][1] < 0.5


@pytest.mark.slow
def test_permuted_posterior_shares_the_binary_draws_and_one_hot_accepts_too_few(quick):
    results, _ = quick
    binary, permuted = _rows(results, "binary")[0]["bayes"], _rows(results, "permuted")[0]["bayes"]
    assert (binary["kept"], binary["distinct"]) == (permuted["kept"], permuted["distinct"])
    assert binary["mean_test_error"] == pytest.approx(permuted["mean_test_error"], abs=1e-12)
    for row in _rows(results, "onehot"):
        assert row["shared"] < 4 and math.isnan(row["correlation"])
        assert "too few functions found by both" in results["answers"]["encodings"]


@pytest.mark.slow
def test_report_and_section_are_written_from_the_data(quick):
    results, out = quick
    report = (out / "REPORT.md").read_text()
    for heading in ("## The setting, and why", "## Results", "## Answers", "**Q6.", "## Figures"):
        assert heading in report
    assert results["answers"]["q6"] in report
    for name in ("pfs_scatter.png", "klz_mass.png"):
        assert (out / name).stat().st_size > 10_000 and name in report
    assert [s["n"] for s in results["scout"]] == [5, 5, 7]
    section = (out / "section.md").read_text()
    assert "REPORT.md" in section and results["answers"]["q6"] in section
