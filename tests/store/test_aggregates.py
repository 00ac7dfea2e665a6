"""The bounded aggregates: equal to what the whole table gives, stored with the run, rebuilt when absent."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pysimbias
from pysimbias.plots import measure_distribution_figure, ones_figure, pf_vs_klz_figure, rank_frequency_figure
from pysimbias.store.aggregates import AGGREGATES, EXACT_COUNTS, AggregateBuilder, count_cells, keys_texts
from pysimbias.summary import posterior_summary, summary_lines, weighted_quantile

from clirun import run_cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = dict(prior="perceptron", n=5, samples=20_000, seed=3)
POSTERIOR = dict(prior="perceptron", n=5, samples=20_000, seed=3, task="posterior", target="x1", train=8)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """In-memory runs and their directories (written by sample_to_directory), sample and posterior."""
    root = tmp_path_factory.mktemp("aggregates")
    made = {}
    for name, config in (("sample", SAMPLE), ("posterior", POSTERIOR)):
        pysimbias.sample_to_directory(root / name, plots=False, **config)
        made[name] = (pysimbias.load_run(root / name), root / name)
    return made


def _whole_distribution(values, counts):
    support, inverse = np.unique(values, return_inverse=True)
    return (support, np.bincount(inverse, weights=counts).astype(np.int64),
            np.bincount(inverse, minlength=support.shape[0]))


@pytest.mark.parametrize("task", ["sample", "posterior"])
def test_aggregates_equal_what_the_whole_table_gives(runs, task):
    run, directory = runs[task]
    aggregates = pysimbias.open_run(directory).aggregates
    counts = run.histogram.counts
    assert aggregates.samples == run.histogram.samples and aggregates.distinct == run.histogram.distinct
    starts = np.flatnonzero(np.r_[True, counts[1:] != counts[:-1]])
    np.testing.assert_array_equal(aggregates.run_counts, counts[starts])
    np.testing.assert_array_equal(aggregates.run_functions, np.diff(np.r_[starts, counts.shape[0]]))
    assert counts.max() <= EXACT_COUNTS or task == "sample"
    for name, values in run.measures.items():
        for got, expected in zip(aggregates.distribution(name), _whole_distribution(values, counts)):
            np.testing.assert_array_equal(got, expected)
        cell_values, cell_counts, cell_functions = aggregates.count_value_cells(name)
        small = cell_counts <= EXACT_COUNTS
        pairs = np.unique(np.stack([values, counts])[:, counts <= EXACT_COUNTS], axis=1, return_counts=True)
        order = np.lexsort((cell_counts[small], cell_values[small]))
        np.testing.assert_array_equal(cell_values[small][order], pairs[0][0])
        np.testing.assert_array_equal(cell_counts[small][order], pairs[0][1])
        np.testing.assert_array_equal(cell_functions[small][order], pairs[1])
        np.testing.assert_array_equal(aggregates.top_measures[name], values[:64])
    np.testing.assert_array_equal(aggregates.top_functions.astype(str), run.histogram.texts(slice(0, 64)))
    assert aggregates.to_bytes() == run.aggregates.to_bytes()


def test_aggregates_do_not_depend_on_the_batches():
    run = pysimbias.sample(**SAMPLE)
    hist = run.histogram
    for step in (1, 37, 5000):
        builder = AggregateBuilder(hist.m)
        for start in range(0, hist.distinct, step):
            rows = slice(start, start + step)
            builder.add(hist.counts[rows], {name: values[rows] for name, values in run.measures.items()},
                        keys_texts(hist.keys[rows], hist.m))
        built = builder.finish({name: values.dtype for name, values in run.measures.items()})
        assert built.to_bytes() == run.aggregates.to_bytes(), step


def test_count_cells_are_exact_then_log_binned_and_grow_with_the_count():
    counts = np.r_[np.arange(1, 3 * EXACT_COUNTS), np.geomspace(3 * EXACT_COUNTS, 1e12, 2000).astype(np.int64)]
    cells = count_cells(counts)
    np.testing.assert_array_equal(cells[counts <= EXACT_COUNTS], counts[counts <= EXACT_COUNTS])
    assert np.all(np.diff(cells) >= 0) and np.all(cells[counts > EXACT_COUNTS] > EXACT_COUNTS)
    # every log bin spans less than a factor 2^(1/16): its mean count stands for each of its counts within 5%
    for cell in np.unique(cells[counts > EXACT_COUNTS]):
        inside = counts[cells == cell]
        assert inside.max() / inside.min() < 2 ** (1 / 16)


def _figure_data(fig):
    ax = fig.axes[0]
    return ([np.asarray(c.get_offsets()) for c in ax.collections[:1]]
            + [np.asarray(c.get_sizes()) for c in ax.collections[:1]]
            + [line.get_xydata() for line in ax.lines])


def test_plots_from_aggregates_show_the_same_data_as_plots_from_the_table():
    """Exactly the same while every count is a cell of its own (larger counts share log bins)."""
    run = pysimbias.sample(**{**SAMPLE, "samples": 4000})
    aggregates = run.aggregates
    counts, measures, m = run.histogram.counts, run.measures, run.histogram.m
    assert counts.max() <= EXACT_COUNTS
    baseline = np.linspace(10, 40, 50)
    cells = aggregates.count_value_cells("klz")
    pairs = [(pf_vs_klz_figure(measures["klz"], counts, m, baseline),
              pf_vs_klz_figure(cells[0], cells[1], m, baseline, functions=cells[2])),
             (rank_frequency_figure(counts, m),
              rank_frequency_figure(aggregates.run_counts, m, functions=aggregates.run_functions)),
             (measure_distribution_figure(measures["klz"], counts, baseline, "K_LZ"),
              measure_distribution_figure(*aggregates.distribution("klz")[:2], baseline, "K_LZ")),
             (ones_figure(measures["ones"], counts, m), ones_figure(*aggregates.distribution("ones")[:2], m))]
    for whole, aggregated in pairs:
        for a, b in zip(_figure_data(whole), _figure_data(aggregated), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_show_from_aggregates_matches_the_whole_table(runs):
    run, directory = runs["sample"]
    stored = pysimbias.open_run(directory)
    lines = summary_lines(stored, top=70)
    assert lines == summary_lines(run, top=70)
    counts, measures = run.histogram.counts, run.measures
    constant = counts[(measures["ones"] == 0) | (measures["ones"] == 32)].sum() / counts.sum()
    assert f"P(constant):       {constant:.6g}" in lines
    assert f"mean K_LZ:         {np.average(measures['klz'], weights=counts):.3f}" in lines
    assert "top 70 functions:" in lines and lines[-1].endswith(run.histogram.texts(slice(69, 70))[0][-8:])


def test_posterior_numbers_from_aggregates_match_the_whole_table(runs):
    run, directory = runs["posterior"]
    summary = posterior_summary(pysimbias.open_run(directory))
    errors, counts = run.measures["test_error"], run.histogram.counts
    assert summary["accepted"] == counts.sum() and summary["enough"]
    assert summary["mean_test_error"] == pytest.approx(np.average(errors, weights=counts), rel=1e-12)
    assert list(summary["test_error_quantiles"].values()) == weighted_quantile(errors, counts,
                                                                                list(summary["test_error_quantiles"])).tolist()


def _copy_run(directory, to):
    to.mkdir()
    for path in directory.iterdir():
        (to / path.name).write_bytes(path.read_bytes())
    return to


def test_a_missing_or_damaged_aggregates_file_is_rebuilt_from_the_table(runs, tmp_path, capsys):
    run, directory = runs["sample"]
    expected = run.aggregates.to_bytes()
    copy = _copy_run(directory, tmp_path / "run")
    for damage in (lambda path: path.unlink(), lambda path: path.write_bytes(b"not an npz file")):
        damage(copy / AGGREGATES)
        stored = pysimbias.open_run(copy)
        assert stored.rebuilt and stored.aggregates.to_bytes() == expected
        code, _, err = run_cli(capsys, "show", str(copy))
        assert code == 0 and "rebuilt it from functions.parquet" in err
    (copy / AGGREGATES).unlink()
    (copy / "functions.parquet").write_bytes(b"damaged")
    code, _, err = run_cli(capsys, "show", str(copy))
    assert code == 2 and err.count("\n") == 1 and err.startswith("Error: ")


def test_an_older_run_without_aggregates_is_read_as_before(runs, tmp_path):
    """A run written before aggregates.npz existed: the manifest has no entry for it."""
    from pysimbias.store.rundir import write_manifest

    run, directory = runs["posterior"]
    copy = _copy_run(directory, tmp_path / "old")
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["files"][AGGREGATES], manifest["manifest_sha256"]
    write_manifest(copy, manifest)
    (copy / AGGREGATES).unlink()
    assert summary_lines(pysimbias.open_run(copy)) == summary_lines(run)


# VmHWM, not getrusage's ru_maxrss: a child process inherits its parent's ru_maxrss, and pytest is large.
_PEAK = """
import sys
import cli
try:
    cli.main(sys.argv[1:])
except SystemExit as exit:
    assert not exit.code, exit.code
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) * 1024)
"""


def _peak_rss(*args):
    out = subprocess.run([sys.executable, "-c", _PEAK, *args], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    return int(out.stdout.strip().splitlines()[-1])


def test_show_plot_and_compare_do_not_grow_with_the_table(tmp_path):
    """Uniform random functions are all distinct: 12x the samples is 12x the table, but not 12x the memory."""
    sizes, peaks, tables = (25_000, 300_000), {}, {}
    for samples in sizes:
        out = tmp_path / f"u{samples}"
        pysimbias.sample_to_directory(out, plots=False, prior="uniform", n=7, samples=samples, seed=1)
        run = pysimbias.load_run(out)
        tables[samples] = (run.histogram.keys.nbytes + run.histogram.counts.nbytes + 128 * samples
                           + sum(v.nbytes for v in run.measures.values()))
        del run
        peaks[samples] = {"show": _peak_rss("show", str(out)), "plot": _peak_rss("plot", str(out)),
                          "compare": _peak_rss("compare", str(out), str(out), "--out", str(tmp_path / f"c{samples}"),
                                               "--bootstrap", "20", "--baseline-samples", "1000")}
    grown_table = tables[sizes[1]] - tables[sizes[0]]
    assert grown_table > 50 << 20   # loading the table would take this much more memory ...
    for command in ("show", "plot", "compare"):
        grown = peaks[sizes[1]][command] - peaks[sizes[0]][command]
        assert grown < grown_table / 4, (command, peaks, grown_table)   # ... the commands take a small share of it


def test_compare_matches_posteriors_whole_or_among_their_leading_functions(runs, tmp_path, monkeypatch):
    import pysimbias.compare as compare

    run, directory = runs["posterior"]
    other = {**POSTERIOR, "seed": 4}
    pysimbias.sample_to_directory(tmp_path / "other", plots=False, **other)
    stored = [pysimbias.open_run(directory), pysimbias.open_run(tmp_path / "other")]
    frame = compare.compare_posteriors(stored, ["a", "b"])
    whole = compare.probability_agreement(pysimbias.load_run(tmp_path / "other").histogram, run.histogram)
    assert frame.loc[1, "shared"] == whole["shared"] and frame["join_rows"].isna().all()
    assert frame.loc[1, "correlation"] == pytest.approx(whole["correlation"], rel=1e-12)
    monkeypatch.setattr(compare, "JOIN_ROWS", 50)
    frame = compare.compare_posteriors(stored, ["a", "b"])
    assert frame.loc[1, "join_rows"] == 50 and 0 < frame.loc[1, "shared"] <= 50
    assert any("among each run's 50 most frequent" in line for line in compare.posterior_table(frame))


def test_aggregates_rebuilt_from_the_table_do_not_depend_on_its_batches(runs):
    from pysimbias.store.aggregates import aggregates_from_table

    run, directory = runs["sample"]
    for rows in (7, 1000):   # fewer rows per batch than the top functions kept, and more
        rebuilt = aggregates_from_table(directory / "functions.parquet", run.histogram.m, rows)
        assert rebuilt.to_bytes() == run.aggregates.to_bytes(), rows
