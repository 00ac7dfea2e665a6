"""The generalization experiment runs its quick grid and writes a report whose answers follow from the data."""

import importlib
import sys
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    if str(EXPERIMENTS) not in sys.path:
        sys.path.insert(0, str(EXPERIMENTS))
    out = tmp_path_factory.mktemp("generalization")
    return importlib.import_module("generalization").main(["--quick", "--out", str(out)]), out


def _cells(results, **where):
    return [c for c in results["cells"] if all(c[key] == value for key, value in where.items())]


@pytest.mark.slow
def test_counting_measure_posteriors_have_test_error_half(quick):
    results, _ = quick
    counting = [c for c in _cells(results, n=5, prior="uniform") + _cells(results, n=5, encoding="onehot",
                                                                           prior="perceptron-nobias")
                if c["enough"]]
    assert len(counting) >= 10
    # 95% intervals: a few may miss 1/2 by chance, but never most of them, and never by much
    assert sum(c["mean_test_error_interval"][0] <= 0.5 <= c["mean_test_error_interval"][1]
               for c in counting) >= 0.8 * len(counting)
    assert all(abs(c["mean_test_error"] - 0.5) < 0.1 for c in counting)


@pytest.mark.slow
def test_networks_learn_x1_on_binary_inputs_and_bound_holds(quick):
    results, _ = quick
    for prior in ("perceptron", "mlp"):
        (cell,) = _cells(results, n=5, encoding="binary", prior=prior, target="x1")
        assert cell["enough"]
        assert cell["mean_test_error_interval"][1] < 0.5
        assert cell["pac_bayes_bound"] > cell["mean_test_error"]


@pytest.mark.slow
def test_permuted_inputs_give_networks_the_same_posterior(quick):
    results, _ = quick
    for prior in ("perceptron", "mlp"):
        for target in ("x1", "majority", "parity"):
            (binary,) = _cells(results, n=5, encoding="binary", prior=prior, target=target)
            (permuted,) = _cells(results, n=5, encoding="permuted", prior=prior, target=target)
            assert binary["accepted"] == permuted["accepted"]
            assert binary["mean_test_error"] == pytest.approx(permuted["mean_test_error"], abs=1e-12)


@pytest.mark.slow
def test_large_training_sets_report_samples_needed(quick):
    results, _ = quick
    uniform = _cells(results, n=7, prior="uniform")
    assert uniform and all(not c["enough"] and c["samples_needed"] > c["drawn"] for c in uniform)


@pytest.mark.slow
def test_report_section_and_figures_are_written(quick):
    results, out = quick
    report = (out / "REPORT.md").read_text()
    for heading in ("### Q5.", "### Q7.", "### Q8.", "## Figures"):
        assert heading in report
    assert "too few" in report
    for name in ("test_error_by_prior.png", "bound_vs_error.png", "test_error_vs_klz.png"):
        assert (out / name).stat().st_size > 0 and name in report
    section = (out / "section.md").read_text()
    assert "REPORT.md" in section and results["answers"]["q5"] in section
