"""The posterior task: sample's rows that agree with the target on S, run directories, resume, CLI and show."""

import json
import math
import os

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats

from clirun import run_cli
import pysimbias
from pysimbias import InvalidParameterError, engine
from pysimbias.histogram import Histogram
from pysimbias.kernels.bits import pack_bits
from pysimbias.run import Run
from pysimbias.store.memory import MemoryPlan
from pysimbias.summary import MIN_ACCEPTED, clopper_pearson, pac_bayes_bound, posterior_summary, summary_lines
from crashing import Crash, StepCounter

TINY_PLAN = MemoryPlan(table_rows=400, block_rows=9, sort_rows=60, fan_in=2)
SMALL_PLAN = MemoryPlan(table_rows=2000, block_rows=100, sort_rows=5000, fan_in=8)
GIVEN = dict(task="posterior", target="majority", train=4, train_seed=2)


def _agreeing(texts, target, indices):
    """Rows whose text equals the target's at every index of S (plain Python)."""
    return np.array([all(text[i] == target[i] for i in indices) for text in texts], dtype=bool)


def _expected_test_error(texts, target, indices):
    test = [i for i in range(len(target)) if i not in set(indices)]
    return np.array([sum(text[i] != target[i] for i in test) / len(test) for text in texts])


PRIORS = [
    dict(prior="perceptron"),
    dict(prior="mlp", widths=(6,)),
    dict(prior="uniform"),
    dict(prior="gp"),
]


@pytest.mark.parametrize("prior", PRIORS, ids=lambda p: p["prior"])
@pytest.mark.parametrize("encoding", ["binary", "pm1", "gaussian:3:1"])
def test_posterior_is_the_sample_run_filtered_on_s(prior, encoding):
    config = dict(n=5, encoding=encoding, samples=12_000, seed=7, **prior)
    everything = pysimbias.sample(**config).to_frame()
    run = pysimbias.sample(**config, **GIVEN)
    task = run.manifest["task"]
    target, indices = task["target"]["function"], task["train"]["indices"]
    assert len(indices) == 4 and run.drawn == 12_000
    kept = everything[_agreeing(everything["function"], target, indices)].reset_index(drop=True)
    posterior = run.to_frame()
    assert 0 < run.accepted == kept["count"].sum() < 12_000
    assert posterior["function"].tolist() == kept["function"].tolist()
    assert posterior["count"].tolist() == kept["count"].tolist()
    for name in kept.columns[2:]:
        assert np.array_equal(posterior[name].to_numpy(), kept[name].to_numpy()), name
    assert np.allclose(posterior["test_error"], _expected_test_error(posterior["function"], target, indices))


def test_a_directory_run_writes_the_same_table_as_the_in_memory_path(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "CHUNK_SIZE", 500)
    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 0)
    config = dict(prior="mlp", widths=(6,), n=5, samples=6000, seed=3, **GIVEN)
    pysimbias.sample(**config).save(tmp_path / "memory", plots=False)
    manifest = pysimbias.sample_to_directory(tmp_path / "disk", memory=TINY_PLAN, plots=False, **config)
    expected = (tmp_path / "memory" / "functions.parquet").read_bytes()
    assert (tmp_path / "disk" / "functions.parquet").read_bytes() == expected
    memory_manifest = json.loads((tmp_path / "memory" / "manifest.json").read_text())
    for entry in ("samples", "accepted", "distinct", "task", "config"):
        assert manifest[entry] == memory_manifest[entry], entry
    assert manifest["samples"] == 6000 and 0 < manifest["accepted"] < 6000
    assert manifest["task"]["train"]["size"] == 4 and manifest["task"]["target"]["spec"] == "majority"
    assert "test_error" in manifest["measures"]
    assert pq.read_table(tmp_path / "disk" / "functions.parquet").column("count").to_numpy().sum() == \
        manifest["accepted"]


@pytest.mark.slow
def test_crash_then_resume_gives_the_same_table(tmp_path, monkeypatch):
    """Crash a posterior run at five file-system steps spread over the run; each resume gives the same table."""
    monkeypatch.setattr(engine, "CHUNK_SIZE", 500)
    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 0)
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    config = dict(prior="uniform", n=5, samples=5000, seed=11, task="posterior", target="parity", train=2)
    with monkeypatch.context() as patch:
        counter = StepCounter(patch)
        pysimbias.sample_to_directory(tmp_path / "whole", memory=SMALL_PLAN, plots=False, **config)
    expected = (tmp_path / "whole" / "functions.parquet").read_bytes()
    assert counter.steps > 10  # a segment per chunk, then the merge
    for crash_at in np.linspace(0, counter.steps - 1, 5).astype(int).tolist():
        out = tmp_path / f"crash{crash_at}"
        with monkeypatch.context() as patch:
            StepCounter(patch, crash_at)
            with pytest.raises(Crash):
                pysimbias.sample_to_directory(out, memory=SMALL_PLAN, plots=False, **config)
        manifest = pysimbias.sample_to_directory(out, memory=SMALL_PLAN, plots=False, resume=True, **config)
        assert (out / "functions.parquet").read_bytes() == expected, f"crash at step {crash_at}"
        assert manifest["accepted"] == pysimbias.load_run(tmp_path / "whole").accepted


def test_no_accepted_draw_writes_an_empty_run_that_show_explains(tmp_path, capsys):
    config = dict(prior="uniform", n=6, samples=300, seed=1, task="posterior", target="parity", train=40)
    manifest = pysimbias.sample_to_directory(tmp_path / "run", **config)
    assert manifest["accepted"] == 0 and manifest["distinct"] == 0
    assert manifest["progress"]["notices"] == ["plots skipped: no draw was accepted, so the table is empty"]
    run = pysimbias.load_run(tmp_path / "run")
    assert run.accepted == 0 and list(run.to_frame().columns)[-1] == "test_error"
    summary = posterior_summary(run)
    assert not summary["enough"] and summary["mean_test_error"] is None and summary["pac_bayes_bound"] is None
    assert summary["p_u_interval"] == (0.0, pytest.approx(1 - 0.025 ** (1 / 300)))
    assert summary["samples_needed"] == math.ceil(MIN_ACCEPTED / summary["p_u_interval"][1])
    code, out, err = run_cli(capsys, "show", str(tmp_path / "run"))
    assert code == 0, err
    assert "too few accepted samples" in out and f"at least {summary['samples_needed']:,} samples" in out
    assert "mean test error" not in out and "PAC-Bayes" not in out



def test_cli_posterior_run_show_and_plots(tmp_path, capsys):
    out_dir = tmp_path / "r"
    code, out, err = run_cli(capsys, "posterior", "--prior", "perceptron", "--n", "5", "--samples", "2e4",
                          "--target", "x1", "--train", "6", "--train-seed", "1", "--out", str(out_dir))
    assert code == 0, err
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert f"{manifest['accepted']:,} accepted" in out and "20,000 samples drawn" in out
    for name in ("functions.parquet", "pf_vs_klz.png", "rank_frequency.png", "p_klz.png", "p_ones.png",
                 "test_error.png"):
        assert (out_dir / name).stat().st_size > 0
    run = pysimbias.load_run(out_dir)
    assert run.config.task == "posterior" and run.config.train == 6 and run.config.train_seed == 1
    summary = posterior_summary(run, delta=0.1)
    code, out, err = run_cli(capsys, "show", str(out_dir), "--delta", "0.1", "--top", "2")
    assert code == 0, err
    assert f"{summary['p_u']:.4g}" in out and f"{summary['mean_test_error']:.4f}" in out
    assert f"{summary['pac_bayes_bound']:.4f}" in out and "delta = 0.1" in out and "P(f|S)" in out
    assert f"{2.0 ** -6:.4g}" in out  # the counting measure's P(U)
    code, out, _ = run_cli(capsys, "posterior", "--help")
    assert code == 0 and all(name in out for name in ("parity", "majority", "random:SEED", "--train-seed",
                                                      "--resume", "--widths", "--scheduler"))


@pytest.mark.parametrize("args, flag", [
    ([], "--target"),
    (["--target", "x1"], "--train"),
    (["--target", "x9", "--train", "3"], "--target"),
    (["--target", "0101", "--train", "3"], "--target"),
    (["--target", "nonsense", "--train", "3"], "--target"),
    (["--target", "random:x", "--train", "3"], "--target"),
    (["--target", "file:/no/such/file", "--train", "3"], "--target"),
    (["--target", "x1", "--train", "32"], "--train"),
    (["--target", "x1", "--train", "0"], "--train"),
    (["--target", "x1", "--train", "file:/no/such/file"], "--train"),
    (["--target", "x1", "--train", "3", "--train-seed", "-1"], "--train-seed"),
    (["--target", "x1", "--train", "3", "--widths", "3"], "--widths"),
])
def test_bad_target_or_training_set_one_line_exit_2(tmp_path, capsys, args, flag):
    code, _, err = run_cli(capsys, "posterior", "--prior", "perceptron", "--n", "5", "--samples", "10",
                        "--out", str(tmp_path / "x"), *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("Error:") and flag in lines[0], err
    assert not (tmp_path / "x").exists()


def test_training_file_with_a_repeated_index_is_refused(tmp_path, capsys):
    (tmp_path / "s.txt").write_text("1 2 2")
    code, _, err = run_cli(capsys, "posterior", "--prior", "uniform", "--n", "3", "--samples", "10", "--target", "x1",
                        "--train", f"file:{tmp_path / 's.txt'}", "--out", str(tmp_path / "x"))
    assert code == 2 and "more than once" in err and len(err.strip().splitlines()) == 1


def test_show_delta_out_of_range_is_one_line(tmp_path, capsys):
    pysimbias.sample(prior="uniform", n=3, samples=100, **GIVEN).save(tmp_path / "r", plots=False)
    for delta in ("0", "1", "-0.5"):
        code, _, err = run_cli(capsys, "show", str(tmp_path / "r"), "--delta", delta)
        assert code == 2 and "--delta" in err and len(err.strip().splitlines()) == 1


def test_python_api_posterior_needs_a_target():
    with pytest.raises(InvalidParameterError) as info:
        pysimbias.sample(prior="uniform", n=3, samples=10, task="posterior", train=2)
    assert info.value.param == "target"


# ---- show's numbers against hand computations


def test_clopper_pearson_matches_scipy():
    for k, n in [(0, 10), (1, 10), (5, 10), (10, 10), (37, 100_000), (999, 1000)]:
        expected = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        assert clopper_pearson(k, n) == pytest.approx((expected.low, expected.high), rel=1e-9, abs=1e-15)


def test_pac_bayes_bound_at_known_values():
    # -ln(1 - e) = (10 ln 2 + ln(400)) / 9 = 1.4358818..., so e = 1 - exp(-1.4358818...) = 0.7620945...
    assert pac_bayes_bound(2.0 ** -10, 10, 0.05) == pytest.approx(0.7620945, abs=1e-7)
    # P(U) = 1: only the confidence term, ln(2 * 100 / 0.01) / 99 = 0.100034...
    assert pac_bayes_bound(1.0, 100, 0.01) == pytest.approx(1 - math.exp(-math.log(20_000) / 99), rel=1e-12)
    assert pac_bayes_bound(0.5, 1, 0.05) is None and pac_bayes_bound(0.0, 10, 0.05) is None


def _hand_run(m, train, target_bits, rows, counts, drawn):
    """A posterior Run built by hand from function bit rows."""
    from pysimbias.config import SampleConfig

    config = SampleConfig(prior="uniform", n=int(math.log2(m)), samples=drawn, task="posterior",
                          target="".join(map(str, target_bits)), train=f"file:{train}").validated()
    histogram = Histogram(pack_bits(np.array(rows, dtype=bool)), counts, m)
    indices = [int(i) for i in train.read_text().split()]
    manifest = {"task": {"train": {"size": len(indices), "indices": indices},
                         "target": {"spec": "bits", "function": "".join(map(str, target_bits))}}}
    return Run(config, histogram, manifest=manifest)


def test_posterior_summary_against_hand_computation(tmp_path):
    m, indices = 8, [0, 3]
    (tmp_path / "s.txt").write_text(" ".join(map(str, indices)))
    target = [1, 0, 0, 0, 1, 1, 0, 1]
    rows = [target, [1, 1, 0, 0, 1, 1, 0, 1], [1, 1, 1, 0, 0, 0, 1, 0]]  # test errors 0, 1/6, 1
    counts = [20, 15, 5]
    run = _hand_run(m, tmp_path / "s.txt", target, rows, counts, drawn=1000)
    summary = posterior_summary(run, delta=0.05)
    errors = np.array([0, 1 / 6, 1])
    mean = (20 * 0 + 15 / 6 + 5) / 40
    sd = math.sqrt(np.sum(np.array(counts) * (errors - mean) ** 2) / 40)
    assert summary["accepted"] == 40 and summary["drawn"] == 1000 and summary["test_size"] == 6
    assert summary["p_u"] == 0.04 and summary["p_u_interval"] == pytest.approx(clopper_pearson(40, 1000))
    assert summary["mean_test_error"] == pytest.approx(mean)
    assert summary["mean_test_error_interval"] == pytest.approx((mean - 1.959964 * sd / math.sqrt(40),
                                                                 mean + 1.959964 * sd / math.sqrt(40)))
    # the smallest error whose cumulative mass reaches q: F(0) = 0.5, F(1/6) = 0.875, F(1) = 1
    assert summary["test_error_quantiles"] == pytest.approx({0.05: 0, 0.25: 0, 0.5: 0, 0.75: 1 / 6, 0.95: 1})
    assert summary["test_error_histogram"]["mass"] == pytest.approx([0.5, 15 / 40] + [0] * 7 + [5 / 40])
    assert summary["pac_bayes_bound"] == pytest.approx(1 - math.exp(-(math.log(25) + math.log(80))))
    assert summary["counting"] == {"p_u": 0.25, "mean_test_error": 0.5, "pac_bayes_bound": pac_bayes_bound(0.25, 2)}
    assert any("PAC-Bayes" in line for line in summary_lines(run))


def test_summary_of_a_run_without_its_task_entry_rebuilds_it_from_the_config(tmp_path):
    run = pysimbias.posterior(prior="uniform", n=5, samples=20_000, seed=3, target="x2", train=4)
    bare = Run(run.config, run.histogram, _measures=run.measures)
    assert posterior_summary(bare) == posterior_summary(run)


def test_too_few_accepted_gives_the_samples_needed(tmp_path):
    (tmp_path / "s.txt").write_text("0 1")
    target = [0, 1, 1, 0]
    run = _hand_run(4, tmp_path / "s.txt", target, [target], [3], drawn=500)
    summary = posterior_summary(run)
    assert not summary["enough"] and summary["samples_needed"] == 5000
    assert summary["mean_test_error"] is None and summary["pac_bayes_bound"] is None
    text = "\n".join(summary_lines(run))
    assert "about 5,000 samples would give 30" in text and "mean test error" not in text


def test_posterior_summary_refuses_a_sample_run():
    with pytest.raises(InvalidParameterError):
        posterior_summary(pysimbias.sample(prior="uniform", n=3, samples=10))


def test_counting_measure_posterior_has_p_u_2_to_minus_s_and_test_error_one_half():
    """--prior uniform: P(U) = 2^-|S| and mean test error 1/2, within 4 standard errors."""
    drawn, train, m = 400_000, 7, 64
    run = pysimbias.sample(prior="uniform", n=6, samples=drawn, seed=5, task="posterior", target="random:3",
                           train=train)
    summary = posterior_summary(run)
    p = 2.0 ** -train
    assert abs(summary["p_u"] - p) < 4 * math.sqrt(p * (1 - p) / drawn)
    lo, hi = summary["p_u_interval"]
    assert lo < p < hi
    test_size = m - train
    assert abs(summary["mean_test_error"] - 0.5) < 4 * math.sqrt(0.25 / test_size / summary["accepted"])
    assert summary["counting"]["p_u"] == p


def test_posterior_shortcut_is_sample_with_the_posterior_task():
    config = dict(prior="uniform", n=4, samples=3000, seed=2, target="random:1", train=3)
    shortcut = pysimbias.posterior(**config)
    assert shortcut.config == pysimbias.sample(task="posterior", **config).config
    assert shortcut.to_frame().equals(pysimbias.sample(task="posterior", **config).to_frame())


def test_a_dask_run_equals_the_local_run(tmp_path):
    distributed = pytest.importorskip("distributed")
    config = dict(prior="mlp", widths=(6,), n=5, samples=20_000, seed=4, **GIVEN)
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0",
                                  silence_logs=40) as cluster:
        remote = pysimbias.sample_to_directory(tmp_path / "cluster", plots=False,
                                               scheduler=cluster.scheduler_address, **config)
    local = pysimbias.sample_to_directory(tmp_path / "local", plots=False, **config)
    assert (tmp_path / "cluster" / "functions.parquet").read_bytes() == \
        (tmp_path / "local" / "functions.parquet").read_bytes()
    assert remote["backend"]["name"] == "dask" and remote["accepted"] == local["accepted"] > 0
    assert remote["task"] == local["task"]
