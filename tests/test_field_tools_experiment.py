"""The field-tools study (experiments/field_tools.py): its quick version, and its estimators against direct sums."""

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import pysimbias

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def _module():
    if str(EXPERIMENTS) not in sys.path:
        sys.path.insert(0, str(EXPERIMENTS))
    return importlib.import_module("field_tools")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("field_tools")
    return _module().main(["--quick", "--out", str(out)]), out


@pytest.mark.slow
def test_mlp_approaches_nngp_by_more_than_the_noise(quick):
    results, _ = quick
    findings = results["findings"]
    assert len(findings) == 6                      # two depths x three distances
    for key, finding in findings.items():
        assert finding["shrinks"], key             # widest < narrowest - 2 x floor
        assert finding["wide"] < finding["narrow"] / 4, key


@pytest.mark.slow
def test_network_prior_has_low_boolean_complexity(quick):
    results, _ = quick
    sop = results["sop"]
    assert sop["top_sop"][:2] == [0, 0]            # the two constants are the most frequent functions
    assert sop["mean_sop"][2] < 0.2 * sop["baseline_mean_sop"][1]
    assert sop["share_below_baseline_p01"] > 0.5
    assert sop["a"] > 0


@pytest.mark.slow
def test_report_section_and_figures_are_written(quick):
    results, out = quick
    report = (out / "REPORT.md").read_text(encoding="utf-8")
    for heading in ("## 1. P(f) against Boolean complexity", "## 2. `mlp` against `nngp`", "## Figures",
                    "## Regenerate"):
        assert heading in report
    for name in ("pf_vs_sop.png", "p_sop.png", "mlp_nngp_distance.png", "walsh_by_width.png"):
        assert (out / name).stat().st_size > 5000 and name in report
    section = (out / "section.md").read_text(encoding="utf-8")
    assert "REPORT.md" in section and "python experiments/field_tools.py --quick" in section
    saved = json.loads((out / "results.json").read_text())
    assert saved["name"] == "field_tools" and saved["quick"] is True


def _direct_total_variation(first, second, pool_below):
    """TV of P(f) with rare functions pooled, from the functions' text forms."""
    counts = [dict(zip(run.histogram.texts(), run.histogram.counts.tolist())) for run in (first, second)]
    totals = [sum(c.values()) for c in counts]
    keys = set(counts[0]) | set(counts[1])
    common = [k for k in keys if counts[0].get(k, 0) + counts[1].get(k, 0) >= pool_below]
    rare = [k for k in keys if k not in common]
    bins = [[c.get(k, 0) for k in common] + [sum(c.get(k, 0) for k in rare)] for c in counts]
    return 0.5 * sum(abs(a / totals[0] - b / totals[1]) for a, b in zip(*bins))


def test_function_distance_is_total_variation_with_rare_functions_pooled():
    field = _module()
    first = pysimbias.sample(prior="mlp", widths="3", n=3, samples=3000, seed=1)
    second = pysimbias.sample(prior="nngp", widths="3", n=3, samples=2000, seed=2)
    assert field.function_distance(first, second) == pytest.approx(
        _direct_total_variation(first, second, field.POOL_BELOW), abs=1e-12)
    assert field.function_distance(first, first) == 0.0


def test_ones_and_walsh_distances():
    field = _module()
    first = pysimbias.sample(prior="mlp", widths="2", n=3, samples=2000, seed=1)
    second = pysimbias.sample(prior="uniform", n=3, samples=2000, seed=2)
    t = [np.bincount([text.count("1") for text in run.histogram.texts()], weights=run.histogram.counts,
                     minlength=9) / run.histogram.samples for run in (first, second)]
    assert field.ones_distance(first, second) == pytest.approx(0.5 * np.abs(t[0] - t[1]).sum(), abs=1e-12)
    walsh = [np.array(run.manifest["walsh_spectrum"]["prior"]) for run in (first, second)]
    assert field.walsh_distance(first, second) == pytest.approx(0.5 * np.abs(walsh[0] - walsh[1]).sum())


def test_sop_sample_measures_resolved_functions_and_reweights_the_rest():
    field = _module()
    run = pysimbias.sample(prior="mlp", widths="4", n=4, samples=3000, seed=5)
    counts = run.histogram.counts
    rarer = int(np.count_nonzero(counts < field.RESOLVED))
    rows, sop, weights = field.sop_sample(run, rest=rarer // 3, seed=0)
    resolved = counts[rows] >= field.RESOLVED
    assert resolved.sum() == np.count_nonzero(counts >= field.RESOLVED) and (~resolved).sum() == rarer // 3
    np.testing.assert_array_equal(weights[resolved], counts[rows][resolved])
    np.testing.assert_allclose(weights[~resolved], counts[rows][~resolved] * rarer / (rarer // 3))
    everything = pysimbias.sample(prior="mlp", widths="4", n=4, samples=3000, seed=5, measures=["sop"])
    np.testing.assert_array_equal(sop, everything.measures["sop"][rows])
    # measuring every rarer function gives the exact distribution of sop over the samples
    rows, sop, weights = field.sop_sample(run, rest=rarer, seed=0)
    np.testing.assert_array_equal(np.sort(rows), np.arange(run.histogram.distinct))
    np.testing.assert_array_equal(weights, counts[rows])


def test_mean_sop_interval_widens_only_for_a_subset():
    field = _module()
    common = importlib.import_module("common")
    rng = np.random.default_rng(3)
    sop, counts = rng.integers(0, 60, 400), rng.integers(1, 10, 400)
    exact = field.mean_sop_interval(sop, counts.astype(float), sop[100:], counts[100:], rarer=300)
    assert exact == pytest.approx(common.weighted_mean_interval(sop, counts))
    subset = field.mean_sop_interval(sop[:200], counts[:200] * np.r_[np.ones(100), np.full(100, 3.0)],
                                     sop[100:200], counts[100:200], rarer=300)
    plain = common.weighted_mean_interval(sop[:200], counts[:200] * np.r_[np.ones(100), np.full(100, 3.0)])
    assert subset[0] == pytest.approx(plain[0]) and subset[2] - subset[1] > plain[2] - plain[1]
