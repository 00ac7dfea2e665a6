"""The train task: API, run directories, resume, tallies, command line and refusals."""

import json
import os

import numpy as np
import pytest

from clirun import run_cli
import pysimbias
from pysimbias import InvalidParameterError, engine
from pysimbias.inputs.encodings import make_encoding
from pysimbias.kernels.rng import chunk_key
from pysimbias.learning.training import TrainingPrior
from pysimbias.store.memory import MemoryPlan
from crashing import Crash, StepCounter

TARGET = "0011" * 8
# Few epochs, so that some runs fit and some do not.
SMALL = dict(n=5, widths=(6,), target=TARGET, train=16, train_seed=2, lr=0.5, max_epochs=4, seed=3)


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(engine, "CHUNK_SIZE", 60)
    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 0)


def _epochs(samples, **params):
    """Epochs to fit of every run, straight from the task prior, chunk by chunk."""
    config = pysimbias.SampleConfig(task="train", samples=samples, **{**SMALL, **params}).validated()
    prior = TrainingPrior(config, make_encoding(config.encoding, config.n),
                          pysimbias.prepare(config.replace(task="sample")).prior)
    return np.concatenate([prior.train_chunk(chunk_key(config.seed, k), count)[1]
                           for k, count in engine.chunk_plan(samples)])


def test_train_keeps_the_runs_that_fit_and_tallies_their_epochs():
    run = pysimbias.train(samples=300, **SMALL)
    epochs = _epochs(300)
    training = run.manifest["training"]
    fitted = int((epochs > 0).sum())
    assert 0 < fitted < 300
    assert run.histogram.samples == fitted == training["fitted"]
    assert training["runs"] == 300 and training["not_fitted"] == 300 - fitted
    assert training["fit_rate"] == pytest.approx(fitted / 300)
    counts = np.bincount(epochs[epochs > 0])[1:]
    assert training["epochs_to_fit"]["counts"] == counts.tolist()
    assert training["epochs_to_fit"]["mean"] == pytest.approx(epochs[epochs > 0].mean())
    assert training["epochs_to_fit"]["max"] == epochs.max()
    same = pysimbias.sample(task="train", samples=300, **SMALL)
    assert np.array_equal(same.histogram.keys, run.histogram.keys)
    assert np.array_equal(same.histogram.counts, run.histogram.counts)


def test_trained_functions_fit_the_training_set():
    run = pysimbias.train(samples=200, **{**SMALL, "max_epochs": 50})
    rows = run.manifest["task"]["train"]["indices"]
    for text in run.histogram.texts():
        assert all(text[i] == TARGET[i] for i in rows)


def test_a_run_starts_from_the_prior_draw_of_the_same_sample():
    """Sample 0 of the prior, as target with a negligible learning rate: run 0 fits at once and keeps it."""
    prior_run = pysimbias.sample(n=5, widths=(6,), samples=1, seed=9)
    function = prior_run.histogram.texts()[0]
    run = pysimbias.train(n=5, widths=(6,), samples=1, seed=9, target=function, train=16, lr=1e-300, max_epochs=1)
    assert run.histogram.texts() == [function]


def test_directory_run_resumed_after_crashes_keeps_the_tally(tmp_path, small_chunks, monkeypatch):
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    params = dict(SMALL, samples=500)
    memory = pysimbias.train(**params)
    memory.save(tmp_path / "memory", plots=False)
    expected = (tmp_path / "memory" / "functions.parquet").read_bytes()
    plan = MemoryPlan(table_rows=150, block_rows=9, sort_rows=60, fan_in=2)
    with monkeypatch.context() as patch:  # how many file-system steps a whole run takes
        counter = StepCounter(patch)
        pysimbias.sample_to_directory(tmp_path / "whole", task="train", memory=plan, plots=False, **params)
    resumed = []
    for crash_at in (3, counter.steps // 2, counter.steps - 1):
        out = tmp_path / f"crash{crash_at}"
        with monkeypatch.context() as patch:
            StepCounter(patch, crash_at)
            with pytest.raises(Crash):
                pysimbias.sample_to_directory(out, task="train", memory=plan, plots=False, **params)
        manifest = pysimbias.sample_to_directory(out, task="train", memory=plan, plots=False, resume=True, **params)
        assert (out / "functions.parquet").read_bytes() == expected, crash_at
        assert manifest["training"] == memory.manifest["training"]
        assert manifest["samples"] == params["samples"] and manifest["accepted"] == memory.histogram.samples
        assert pysimbias.load_run(out).manifest["training"] == memory.manifest["training"]
        resumed.append(manifest["progress"]["resumed_samples"])
    assert max(resumed) > 0, resumed


@pytest.mark.parametrize("params,flag", [
    (dict(prior="perceptron"), "prior"),
    (dict(target=None), "target"),
    (dict(train=None), "train"),
    (dict(train=32), "train"),
    (dict(optimizer="rmsprop"), "optimizer"),
    (dict(loss="hinge"), "loss"),
    (dict(lr=0.0), "lr"),
    (dict(momentum=1.0), "momentum"),
    (dict(batch_size=0), "batch_size"),
    (dict(max_epochs=0), "max_epochs"),
    (dict(epochs_after_fit=-1), "epochs_after_fit"),
    (dict(activation="step"), "activation"),
])
def test_bad_settings_are_refused_naming_the_parameter(params, flag):
    with pytest.raises(InvalidParameterError) as info:
        pysimbias.train(samples=10, **{**SMALL, **params})
    assert info.value.param == flag



def test_cli_refuses_to_train_the_step_activation(tmp_path, capsys):
    code, out, err = run_cli(capsys, "train", "--n", "5", "--widths", "6", "--activation", "step", "--target", TARGET,
                             "--train", "16", "--runs", "10", "--out", str(tmp_path / "t"))
    assert code == 2
    assert err.startswith("Error: ") and "step" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("activation", ["gelu", "silu", "selu", "sigmoid", "sin", "gaussian", "erf"])
def test_every_smooth_activation_trains(activation):
    """Each trainable activation fits S in some runs and records functions that agree with the target on S."""
    run = pysimbias.train(samples=40, **{**SMALL, "activation": activation, "max_epochs": 200})
    assert run.manifest["training"]["fitted"] > 0
    rows = run.manifest["task"]["train"]["indices"]
    for text in run.histogram.texts():
        assert all(text[i] == TARGET[i] for i in rows)


def test_cli_train_writes_a_run_directory_that_show_reads(tmp_path, capsys):
    out_dir = tmp_path / "t"
    code, out, err = run_cli(capsys, "train", "--n", "5", "--widths", "6", "--target", TARGET, "--train", "16",
                             "--train-seed", "2", "--lr", "0.5", "--max-epochs", "4", "--runs", "300", "--seed", "3",
                             "--out", str(out_dir), "--no-plots")
    assert code == 0, err
    assert "300 runs" in out and "fit rate" in out
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["training"] == pysimbias.train(samples=300, **SMALL).manifest["training"]
    code, out, _ = run_cli(capsys, "show", str(out_dir))
    assert code == 0 and "fit rate" in out and "epochs to fit" in out
    assert f"target:            bits ({TARGET})" in out and "P(f|S)" in out and "samples:" not in out


@pytest.mark.parametrize("args,flag", [
    (("--prior", "gp"), "--prior"),
    (("--target", "01"), "--target"),
    (("--optimizer", "rmsprop"), "--optimizer"),
    (("--momentum", "1.5"), "--momentum"),
])
def test_cli_train_errors_are_one_line_with_exit_status_2(tmp_path, capsys, args, flag):
    base = ["train", "--n", "5", "--target", TARGET, "--train", "16", "--runs", "10",
            "--out", str(tmp_path / "x")]
    code, out, err = run_cli(capsys, *base, *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("Error:") and flag in err
