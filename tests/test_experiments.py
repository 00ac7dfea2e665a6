"""The experiment scripts in experiments/: quick versions reproduce the qualitative results.

Every script runs once (``--quick``, into a temporary folder) per test
session; the tests then check its results, its markdown section and its
figures.  The shared statistics and fitting helpers are checked against
plain references, and the report assembler against a made-up folder.
"""

import importlib
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
SCRIPTS = ("perceptron_uniform_t", "bias_variance", "depth", "pf_vs_klz", "pm1_inputs", "activation_scale")


def _module(name):
    if str(EXPERIMENTS) not in sys.path:
        sys.path.insert(0, str(EXPERIMENTS))
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().parent == EXPERIMENTS
    return module


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """Run every script's quick version once; map name -> (results, output folder)."""
    runs = {}
    for name in SCRIPTS:
        out = tmp_path_factory.mktemp(name)
        runs[name] = (_module(name).main(["--quick", "--out", str(out), "--seed", "3"]), out)
    return runs


# --------------------------------------------------------------------------- qualitative results


def test_bias_free_perceptron_has_uniform_t(quick):
    results, _ = quick["perceptron_uniform_t"]
    assert results["uniform"]
    assert len(results["configs"]) == 4          # two laws x two scales
    assert all(c["t_m_count"] == 0 for c in results["configs"])
    low, high = results["pooled_p_t0"][1:]
    assert low <= 2.0**-7 <= high


def test_p_t0_grows_with_bias_variance_towards_half(quick):
    results, _ = quick["bias_variance"]
    assert results["increasing"]
    p0 = results["p_t0"]
    assert p0[0] < 0.012                         # sigma_b = 0: the bias-free 2^-7
    assert 0.45 < p0[-1] < 0.5                   # sigma_b = 100: nearly 1/2


def test_depth_relu_grows_p_t0_and_linear_stays_uniform(quick):
    results, _ = quick["depth"]
    assert results["relu_increasing"]
    assert results["relu_p_t0"][-1] > 2 * results["relu_p_t0"][0]
    assert results["linear_uniform"]


def test_pf_vs_klz_constants_first_and_bound_falls(quick):
    results, _ = quick["pf_vs_klz"]
    assert results["rank_one_constant"]
    assert results["a"] > 0
    assert results["above_resolved"] == 0
    assert results["samples"] == 50_000


def test_pm1_constants_are_most_frequent(quick):
    results, _ = quick["pm1_inputs"]
    assert results["pm1_top_two_constant"]
    assert 0.1 < results["pm1_p_constant"][0] < 0.9


def test_tanh_loses_simplicity_bias_at_large_weights(quick):
    results, _ = quick["activation_scale"]
    assert results["tanh_weakens"]
    assert results["ranking_at_largest_sigma"][0] == "tanh"
    summary = results["summary"]
    for act in ("relu", "tanh", "linear"):
        assert summary[act]["high"] > summary[act]["low"]


# --------------------------------------------------------------------------- sections and figures


@pytest.mark.parametrize("name", SCRIPTS)
def test_section_has_every_part_and_its_figures(quick, name):
    _, out = quick[name]
    text = (out / "section.md").read_text(encoding="utf-8")
    assert text.startswith("## ")
    for part in ("**Claim.**", "**Paper.**", "**Published.**", "**Ours.**", "**Comparison.**"):
        assert part in text
    assert "[" in text.split("**Ours.**")[1].split("\n")[0]          # an interval
    assert f"python experiments/{name}.py --quick" in text
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert figures
    for figure in figures:
        path = out / figure
        assert path.suffix == ".png" and path.stat().st_size > 5000
    saved = json.loads((out / "results.json").read_text())
    assert saved["name"] == name and saved["quick"] is True and saved["seed"] == 3


def test_results_do_not_depend_on_threads(tmp_path):
    module = _module("bias_variance")
    one = module.main(["--quick", "--out", str(tmp_path / "a"), "--threads", "1"])
    two = module.main(["--quick", "--out", str(tmp_path / "b"), "--threads", "2"])
    assert one["configs"] == two["configs"]


def test_script_runs_from_the_command_line(tmp_path):
    result = subprocess.run([sys.executable, str(EXPERIMENTS / "bias_variance.py"), "--quick", "--out",
                             str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "section.md").is_file() and (tmp_path / "p_t0_vs_sigma_b.png").is_file()


@pytest.mark.parametrize("args, flag", [(["--samples", "-5"], "--samples"), (["--seed", "x"], "--seed"),
                                        (["--threads", "0"], "--threads"), (["--bogus"], "--bogus")])
def test_bad_arguments_give_one_line_and_status_2(tmp_path, capsys, args, flag):
    with pytest.raises(SystemExit) as exit_info:
        _module("pf_vs_klz").main(["--quick", "--out", str(tmp_path / "out"), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and flag in err
    assert not (tmp_path / "out").exists()


def test_bad_parameter_from_the_api_gives_one_line_and_status_2(tmp_path):
    result = subprocess.run([sys.executable, str(EXPERIMENTS / "pf_vs_klz.py"), "--quick", "--out",
                             str(tmp_path), "--sigma-w", "-1"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "--sigma-w" in result.stderr
    assert not any(tmp_path.iterdir())


# --------------------------------------------------------------------------- statistics helpers


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (10, 10), (1, 1000), (500, 1000), (77, 12345)])
def test_wilson_matches_scipy(k, n):
    common = _module("common")
    p, low, high = common.wilson(k, n)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert p == k / n
    assert low == pytest.approx(ci.low, abs=1e-12) and high == pytest.approx(ci.high, abs=1e-12)


def test_weighted_mean_interval_matches_expanded_sample():
    common = _module("common")
    rng = np.random.default_rng(0)
    values, counts = rng.normal(size=50), rng.integers(1, 20, size=50)
    expanded = np.repeat(values, counts)
    mean, low, high = common.weighted_mean_interval(values, counts)
    half = common.Z95 * expanded.std(ddof=1) / math.sqrt(expanded.size)
    assert mean == pytest.approx(expanded.mean())
    assert (low, high) == pytest.approx((expanded.mean() - half, expanded.mean() + half))


@pytest.mark.parametrize("seed", range(4))
def test_chi_square_uniform_matches_scipy(seed):
    common = _module("common")
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(20_000, rng.dirichlet(np.full(128, 50.0 * (seed + 1))))
    statistic, dof, p_value = common.chi_square_uniform(counts)
    reference = stats.chisquare(counts)
    assert dof == 127
    assert statistic == pytest.approx(reference.statistic)
    assert p_value == pytest.approx(reference.pvalue, abs=2e-3)


def test_binomial_pmf_is_the_counting_measure():
    common = _module("common")
    np.testing.assert_allclose(common.binomial_pmf(128), stats.binom.pmf(np.arange(129), 128, 0.5), rtol=1e-9)


# --------------------------------------------------------------------------- the bound and Zipf fits


def _brute_force_bound(x, y):
    """Among lines through two points that lie above all points, the one with least summed gap."""
    best = None
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            slope = (y[j] - y[i]) / (x[j] - x[i])
            line = y[i] + slope * (x - x[i])
            if np.all(line >= y - 1e-9):
                gap = float(np.sum(line - y))
                if best is None or gap < best[0] - 1e-9:
                    best = (gap, -slope, y[i] - slope * x[i])
    return best[1:]


@pytest.mark.parametrize("seed", range(8))
def test_fit_bound_is_the_tightest_line_above_the_points(seed):
    pf = _module("pf_vs_klz")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.choice(np.arange(7.0, 160.0, 3.5), size=rng.integers(2, 12), replace=False))
    y = -0.3 * x + rng.normal(scale=3.0, size=x.size)
    a, b = pf.fit_bound(x, y)
    assert np.all(-a * x + b >= y - 1e-9)
    assert (a, b) == pytest.approx(_brute_force_bound(x, y))


def test_fit_bound_needs_two_points():
    pf = _module("pf_vs_klz")
    assert all(math.isnan(v) for v in pf.fit_bound(np.array([7.0]), np.array([-1.0])))


def test_upper_envelope_is_the_largest_count_per_value():
    pf = _module("pf_vs_klz")
    rng = np.random.default_rng(1)
    klz = rng.choice([7.0, 24.5, 28.0, 31.5], size=200)
    counts = rng.integers(1, 1000, size=200)
    values, top = pf.upper_envelope(klz, counts)
    np.testing.assert_array_equal(values, np.unique(klz))
    np.testing.assert_array_equal(top, [counts[klz == v].max() for v in np.unique(klz)])


def test_zipf_fit_recovers_an_exact_zipf_law():
    pf = _module("pf_vs_klz")
    samples = 10**9
    counts = np.round(0.05 * samples / np.arange(1, 5001)).astype(np.int64)
    alpha, c = pf.zipf_fit(counts, samples)
    assert alpha == pytest.approx(1.0, abs=1e-3) and c == pytest.approx(0.05, rel=1e-3)


# --------------------------------------------------------------------------- the report


def _section(folder, title, figure="fig.png"):
    folder.mkdir(parents=True)
    (folder / figure).write_bytes(b"png")
    (folder / "section.md").write_text(f"## {title}\n\nText.\n\n![a figure]({figure}) and "
                                       f"[a link](https://example.org/x.png) and [anchor](#top).\n")


def test_report_orders_sections_and_rewrites_links(tmp_path):
    report = _module("make_report")
    _section(tmp_path / "results" / "depth", "3. Depth")
    _section(tmp_path / "results" / "perceptron_uniform_t", "1. Perceptron")
    _section(tmp_path / "results" / "zzz_extra", "Extra result")
    _section(tmp_path / "critique", "Critique study", figure="c.png")
    text = report.assemble(tmp_path)
    order = [text.index(f"## {t}") for t in ("1. Perceptron", "3. Depth", "Extra result", "Critique study")]
    assert order == sorted(order)
    assert "](results/depth/fig.png)" in text and "](critique/c.png)" in text
    assert "](https://example.org/x.png)" in text and "](#top)" in text
    assert "(#1-perceptron)" in text
    assert "`python experiments/pf_vs_klz.py`" in text and "`python experiments/depth.py`" not in text


def test_report_without_critique_or_any_section(tmp_path):
    report = _module("make_report")
    text = report.assemble(tmp_path)
    assert "No sections yet." in text
    _section(tmp_path / "results" / "pm1_inputs", "5. Inputs")
    path = report.write_report(tmp_path)
    assert path == tmp_path / "README.md"
    assert "## 5. Inputs" in path.read_text() and "critique" not in path.read_text()


def test_committed_report_is_assembled_from_the_committed_sections():
    report = _module("make_report")
    committed = EXPERIMENTS / "README.md"
    assert committed.read_text(encoding="utf-8") == report.assemble(EXPERIMENTS)


def test_report_adds_up_the_sections_times(tmp_path):
    """The introduction's run time comes from the sections' provenance lines, not from prose that can go stale."""
    report = _module("make_report")
    assert "each section's last line records" in report.assemble(tmp_path)
    for name, seconds in (("depth", "1,234"), ("pm1_inputs", "66")):
        _section(tmp_path / "results" / name, name)
        with open(tmp_path / "results" / name / "section.md", "a", encoding="utf-8") as section:
            section.write(f"\n*Generated by `python experiments/{name}.py` (full version). Base seed 0; 1 "
                          f"configuration(s); 10 samples in all; {seconds} s; pysimbias 9.9.9, numpy 2.0.0.*\n")
    assert "the 2 sections took 1,300 s in all, with pysimbias 9.9.9" in report.assemble(tmp_path)
