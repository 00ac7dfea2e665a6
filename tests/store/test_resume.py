"""Runs written through their progress: identical tables, crashes at any step, resume, damage."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import cli
import pysimbias
from pysimbias import InvalidParameterError, RunDirectoryError, engine, runner
from pysimbias.kernels.rng import GENERATOR_VERSION
from pysimbias.store.checkpoint import lock_progress
from pysimbias.store.rundir import read_manifest, write_manifest
from pysimbias.store import spill
from pysimbias.store.memory import MemoryPlan
from clirun import run_cli
from crashing import Crash, StepCounter

ROOT = Path(__file__).resolve().parents[2]
SMALL = dict(prior="mlp", widths=(6,), n=5, samples=5000, seed=13)
TINY_PLAN = MemoryPlan(table_rows=400, block_rows=9, sort_rows=60, fan_in=2)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 500 samples and a segment after each, so that small runs have many chunks, segments and merges."""
    monkeypatch.setattr(engine, "CHUNK_SIZE", 500)
    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 0)


def reference_table(tmp_path, **params):
    """functions.parquet of the in-memory path (sample, then save)."""
    pysimbias.sample(**params).save(tmp_path / "reference", plots=False)
    return (tmp_path / "reference" / "functions.parquet").read_bytes()


def table_of(out):
    return (Path(out) / "functions.parquet").read_bytes()


@pytest.mark.parametrize("plan, every", [(TINY_PLAN, None), (TINY_PLAN, 3600),
                                         (MemoryPlan(table_rows=2000, block_rows=100, sort_rows=5000, fan_in=8), None),
                                         (None, None), (None, 3600)])
def test_directory_run_writes_the_same_bytes_as_the_in_memory_path(tmp_path, small_chunks, plan, every):
    manifest = pysimbias.sample_to_directory(tmp_path / "run", memory=plan, plots=False, checkpoint_every=every,
                                             threads=1 if every else None, **SMALL)
    assert table_of(tmp_path / "run") == reference_table(tmp_path, **SMALL)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["aggregates.npz", "functions.parquet",
                                                                    "manifest.json"]
    aggregates = [(tmp_path / name / "aggregates.npz").read_bytes() for name in ("run", "reference")]
    assert aggregates[0] == aggregates[1]
    assert manifest["samples"] == SMALL["samples"] and manifest["memory"]["peak_rss_bytes"] > 0
    segments = manifest["progress"]["segments"]
    if every is None:  # a segment after every chunk
        assert segments == engine.n_chunks(SMALL["samples"])
    elif plan is TINY_PLAN:  # a segment whenever the table is full, the last one too (it does not fit with them)
        assert 1 < segments < engine.n_chunks(SMALL["samples"])
    else:  # one table, never saved: the final merge takes it from memory
        assert segments == 0
    assert set(manifest["phase_seconds"]) == {"sampling", "progress_io", "merge", "measures", "plots"}
    assert (manifest["progress"]["written_bytes"] > 0) == (segments > 0)


def crash_and_resume(tmp_path, monkeypatch, stride):
    """Crash a run at every ``stride``-th file-system step; each resume must give the same table."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # durability is not what is tested here; speed is welcome
    expected = reference_table(tmp_path, **SMALL)
    with monkeypatch.context() as patch:
        counter = StepCounter(patch)
        pysimbias.sample_to_directory(tmp_path / "whole", memory=TINY_PLAN, plots=False, **SMALL)
    total = counter.steps
    assert total > 30
    for crash_at in range(0, total, stride):
        out = tmp_path / f"crash{crash_at}"
        with monkeypatch.context() as patch:
            StepCounter(patch, crash_at)
            with pytest.raises(Crash):
                pysimbias.sample_to_directory(out, memory=TINY_PLAN, plots=False, **SMALL)
        if (out / "manifest.json").exists():
            assert pysimbias.load_run(out).histogram.samples == SMALL["samples"]
        manifest = pysimbias.sample_to_directory(out, memory=TINY_PLAN, plots=False, resume=True, **SMALL)
        assert table_of(out) == expected, f"crash at step {crash_at}"
        assert manifest["progress"]["notices"] == []
        assert not (out / "chunks").exists()


def test_crash_at_many_steps_then_resume_gives_the_same_table(tmp_path, small_chunks, monkeypatch):
    crash_and_resume(tmp_path, monkeypatch, stride=7)


@pytest.mark.slow
def test_crash_at_every_step_then_resume_gives_the_same_table(tmp_path, small_chunks, monkeypatch):
    crash_and_resume(tmp_path, monkeypatch, stride=1)


def interrupted_run(out, monkeypatch, crash_at):
    with monkeypatch.context() as patch:
        StepCounter(patch, crash_at)
        with pytest.raises(Crash):
            pysimbias.sample_to_directory(out, memory=TINY_PLAN, plots=False, **SMALL)


def test_damaged_segment_is_reported_and_only_its_chunks_recomputed(tmp_path, small_chunks, monkeypatch):
    out = tmp_path / "run"
    interrupted_run(out, monkeypatch, crash_at=14)
    victim = sorted((out / "chunks").glob("segment-*.bin"))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x10
    victim.write_bytes(bytes(data))
    notices = []
    recomputed = []
    manifest = pysimbias.sample_to_directory(out, memory=TINY_PLAN, plots=False, resume=True, notify=notices.append,
                                             progress=recomputed.append, **SMALL)
    assert table_of(out) == reference_table(tmp_path, **SMALL)
    damaged = [n for n in notices if victim.name in n]
    assert len(damaged) == 1 and "checksum mismatch" in damaged[0] and "recomputing" in damaged[0]
    assert damaged == [n for n in manifest["progress"]["notices"] if victim.name in n]
    assert 0 < recomputed[0] < SMALL["samples"]  # the samples kept from before the crash
    assert recomputed[0] + sum(recomputed[1:]) == SMALL["samples"]


def test_resume_refuses_a_different_config_and_plain_rerun_refuses_an_interrupted_directory(tmp_path, small_chunks,
                                                                                            monkeypatch):
    out = tmp_path / "run"
    interrupted_run(out, monkeypatch, crash_at=10)
    before = sorted(p.name for p in (out / "chunks").iterdir())
    with pytest.raises(RunDirectoryError, match=r"different settings \(samples: 5000 there, 6000 now\)"):
        pysimbias.sample_to_directory(out, resume=True, plots=False, **{**SMALL, "samples": 6000})
    with pytest.raises(RunDirectoryError, match="--resume"):
        pysimbias.sample_to_directory(out, plots=False, **SMALL)
    with pytest.raises(InvalidParameterError, match="only one"):
        pysimbias.sample_to_directory(out, plots=False, resume=True, force=True, **SMALL)
    assert sorted(p.name for p in (out / "chunks").iterdir()) == before
    pysimbias.sample_to_directory(out, plots=False, force=True, **{**SMALL, "seed": 2})
    assert pysimbias.load_run(out).config.seed == 2


def test_resume_refuses_progress_of_another_pysimbias_version(tmp_path, small_chunks, monkeypatch):
    # Another version may draw other functions for the same seed: its chunks
    # must not be mixed into this version's run.
    out = tmp_path / "run"
    interrupted_run(out, monkeypatch, crash_at=10)
    run_file = out / "chunks" / "run.json"
    stored = json.loads(run_file.read_text())
    stored["pysimbias"] = "0.1.0"
    run_file.write_text(json.dumps(stored))
    before = sorted(p.name for p in (out / "chunks").iterdir())
    with pytest.raises(RunDirectoryError, match=rf"pysimbias: '0.1.0' there, '{pysimbias.__version__}' now"):
        pysimbias.sample_to_directory(out, resume=True, plots=False, **SMALL)
    assert sorted(p.name for p in (out / "chunks").iterdir()) == before


@pytest.mark.parametrize("stored_version", [1, None])
def test_resume_refuses_progress_of_another_normal_generator_with_one_line(tmp_path, small_chunks, monkeypatch,
                                                                          capsys, stored_version):
    # Progress saved before the generator was versioned holds no "generator"
    # entry: it was drawn with version 1.
    assert GENERATOR_VERSION == 2
    out = tmp_path / "run"
    interrupted_run(out, monkeypatch, crash_at=10)
    run_file = out / "chunks" / "run.json"
    stored = json.loads(run_file.read_text())
    assert stored["generator"] == GENERATOR_VERSION
    if stored_version is None:
        del stored["generator"]
    else:
        stored["generator"] = stored_version
    run_file.write_text(json.dumps(stored))
    before = sorted(p.name for p in (out / "chunks").iterdir())
    with pytest.raises(RunDirectoryError, match="normal generator version 1, and this pysimbias draws with "
                                                "version 2") as info:
        pysimbias.sample_to_directory(out, resume=True, plots=False, **SMALL)
    assert "\n" not in str(info.value) and "--force" in str(info.value)
    status, _, err = run_cli(capsys, "sample", "--prior", "mlp", "--widths", "6", "--n", "5", "--samples", "5000",
                             "--seed", "13", "--out", str(out), "--resume", "--no-plots")
    assert status == 2 and err.count("\n") == 1 and err.startswith("Error: ") and "generator version 1" in err
    assert sorted(p.name for p in (out / "chunks").iterdir()) == before


def test_resume_refuses_a_finished_run_of_another_normal_generator(tmp_path, small_chunks, capsys):
    out = tmp_path / "run"
    manifest = pysimbias.sample_to_directory(out, plots=False, **SMALL)
    assert manifest["versions"]["generator"] == GENERATOR_VERSION
    edited = read_manifest(out)
    del edited["versions"]["generator"]  # a run written before the generator was versioned
    write_manifest(out, edited)
    with pytest.raises(RunDirectoryError, match="finished run drawn with normal generator version 1"):
        pysimbias.sample_to_directory(out, plots=False, resume=True, **SMALL)
    status, _, err = run_cli(capsys, "sample", "--prior", "mlp", "--widths", "6", "--n", "5", "--samples", "5000",
                             "--seed", "13", "--out", str(out), "--resume", "--no-plots")
    assert status == 2 and err.count("\n") == 1 and "generator version 1" in err


def test_resume_refuses_progress_in_an_older_format_with_one_line(tmp_path, small_chunks, monkeypatch):
    out = tmp_path / "run"
    interrupted_run(out, monkeypatch, crash_at=10)
    run_file = out / "chunks" / "run.json"
    stored = json.loads(run_file.read_text())
    stored["version"] = 1
    run_file.write_text(json.dumps(stored))
    with pytest.raises(RunDirectoryError, match=r"progress format version 1, which this pysimbias \(format 2\)") \
            as info:
        pysimbias.sample_to_directory(out, resume=True, plots=False, **SMALL)
    assert "\n" not in str(info.value) and "--force" in str(info.value)
    pysimbias.sample_to_directory(out, force=True, plots=False, **SMALL)
    assert table_of(out) == reference_table(tmp_path, **SMALL)


class _Stop(Exception):
    """Stands in for a kill between two chunks."""


def test_a_kill_loses_at_most_the_chunks_since_the_last_save(tmp_path, monkeypatch):
    """A clock that ticks 1 s a reading and a save every 3 s: killed after the 8th chunk, the first 6 are kept."""
    monkeypatch.setattr(engine, "CHUNK_SIZE", 500)
    ticks = iter(range(10**6))
    monkeypatch.setattr(engine, "monotonic", lambda: float(next(ticks)))
    done = []

    def kill_after_eight_chunks(count):
        done.append(count)
        if len(done) == 8:
            raise _Stop

    out = tmp_path / "run"
    with pytest.raises(_Stop):
        pysimbias.sample_to_directory(out, plots=False, checkpoint_every=3, progress=kill_after_eight_chunks, **SMALL)
    assert len(list((out / "chunks").glob("segment-*.bin"))) == 2
    monkeypatch.undo()
    monkeypatch.setattr(engine, "CHUNK_SIZE", 500)
    manifest = pysimbias.sample_to_directory(out, plots=False, resume=True, **SMALL)
    assert manifest["progress"]["resumed_samples"] == 6 * 500
    assert table_of(out) == reference_table(tmp_path, **SMALL)


def test_a_crash_while_writing_the_table_loses_only_the_chunks_of_the_last_table(tmp_path, monkeypatch):
    """The last table goes to the final merge from memory, unsaved: a crash there loses its chunks, no more."""
    monkeypatch.setattr(engine, "CHUNK_SIZE", 500)
    ticks = iter(range(10**6))
    monkeypatch.setattr(engine, "monotonic", lambda: float(next(ticks)))  # 1 s a reading: a segment every 3 chunks

    def killed(*args):
        raise Crash("killed while writing functions.parquet")

    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(runner, "write_function_batches", killed)
        with pytest.raises(Crash):
            pysimbias.sample_to_directory(out, plots=False, checkpoint_every=3, **SMALL)
    saved = engine.CHUNK_SIZE * sum(
        len(range(*span)) for path in (out / "chunks").glob("segment-*.bin")
        for span in spill.TableReader(path).header["chunks"])
    assert 0 < saved < SMALL["samples"]
    manifest = pysimbias.sample_to_directory(out, plots=False, checkpoint_every=3, resume=True, **SMALL)
    assert manifest["progress"]["resumed_samples"] == saved and manifest["progress"]["notices"] == []
    assert table_of(out) == reference_table(tmp_path, **SMALL)


def test_a_death_while_writing_a_segment_leaves_a_partial_file_that_resume_discards(tmp_path, small_chunks,
                                                                                    monkeypatch):
    """The process dies with the third segment half written (its temporary file left as a killed process leaves it)."""
    out = tmp_path / "run"
    written = []
    original = spill.TableWriter.write

    def dying_write(self, keys, counts):
        original(self, keys, counts)
        if self.path.name.startswith("segment-"):
            written.append(self.path.name)
            if len(written) == 3:
                raise Crash(f"killed while writing {self.path.name}")

    with monkeypatch.context() as patch:
        patch.setattr(spill.TableWriter, "write", dying_write)
        patch.setattr(spill.TableWriter, "abort", lambda self: self._fh.close())  # the dead clean nothing up
        with pytest.raises(Crash):
            pysimbias.sample_to_directory(out, plots=False, **SMALL)
    assert [p.name for p in (out / "chunks").glob(".segment-*.tmp")] == [".segment-000002.bin.tmp"]
    manifest = pysimbias.sample_to_directory(out, plots=False, resume=True, **SMALL)
    assert manifest["progress"]["resumed_samples"] == 2 * 500 and manifest["progress"]["notices"] == []
    assert table_of(out) == reference_table(tmp_path, **SMALL)


def test_ctrl_c_saves_what_was_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "CHUNK_SIZE", 500)
    done = []

    def interrupt_after_four_chunks(count):
        done.append(count)
        if len(done) == 4:
            raise KeyboardInterrupt

    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        pysimbias.sample_to_directory(out, plots=False, progress=interrupt_after_four_chunks, **SMALL)
    manifest = pysimbias.sample_to_directory(out, plots=False, resume=True, **SMALL)
    assert manifest["progress"]["resumed_samples"] == 4 * 500
    assert table_of(out) == reference_table(tmp_path, **SMALL)


def test_resume_of_a_finished_run_changes_nothing(tmp_path, small_chunks):
    out = tmp_path / "run"
    first = pysimbias.sample_to_directory(out, plots=False, **SMALL)
    stamp = (out / "manifest.json").stat().st_mtime_ns
    notices = []
    again = pysimbias.sample_to_directory(out, plots=False, resume=True, notify=notices.append, **SMALL)
    assert again == first and (out / "manifest.json").stat().st_mtime_ns == stamp
    assert any("nothing to do" in n for n in notices)
    with pytest.raises(RunDirectoryError, match="different config"):
        pysimbias.sample_to_directory(out, plots=False, resume=True, **{**SMALL, "seed": 99})
    (out / "functions.parquet").write_bytes(b"broken")
    with pytest.raises(RunDirectoryError, match="checksum"):
        pysimbias.sample_to_directory(out, plots=False, resume=True, **SMALL)


def test_resume_of_an_empty_or_missing_directory_starts_the_run(tmp_path, small_chunks):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "missing"):
        pysimbias.sample_to_directory(out, plots=False, resume=True, **SMALL)
        assert pysimbias.load_run(out).histogram.samples == SMALL["samples"]
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    with pytest.raises(RunDirectoryError, match="holds no interrupted pysimbias run"):
        pysimbias.sample_to_directory(tmp_path / "foreign", plots=False, resume=True, **SMALL)


def test_edited_manifest_is_detected(tmp_path):
    out = tmp_path / "run"
    pysimbias.sample_to_directory(out, plots=False, prior="perceptron", n=3, samples=300)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["samples"] = 301
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunDirectoryError, match="own checksum"):
        pysimbias.load_run(out)


def test_budget_too_small_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(InvalidParameterError, match="give at least") as info:
        pysimbias.sample_to_directory(tmp_path / "run", memory="2M", **SMALL)
    assert info.value.param == "memory"
    assert not (tmp_path / "run").exists()


def test_in_memory_sampling_stops_when_the_table_outgrows_its_budget():
    config = pysimbias.SampleConfig(prior="uniform", n=5, samples=200_000).validated()
    prior = pysimbias.priors.make_prior(config, pysimbias.inputs.encodings.make_encoding("binary", 5))
    with pytest.raises(InvalidParameterError, match="sample_to_directory") as info:
        engine.count_functions(prior, config.samples, 0, max_rows=100_000)
    assert info.value.param == "memory"


def _three_segments(out):
    return len(list((out / "chunks").glob("segment-*.bin"))) >= 3


def _merging(out):
    return (out / "chunks" / "merge").is_dir()


@pytest.mark.parametrize("when", [_three_segments, _merging])
def test_sigkill_partway_then_resume_matches_an_uninterrupted_run(tmp_path, capsys, when):
    """A real process killed with SIGKILL while counting or while merging, then resumed from the command line."""
    out = tmp_path / "killed"
    flags = ["sample", "--prior", "uniform", "--n", "5", "--samples", "2.6e6", "--seed", "7", "--no-plots",
             "--checkpoint-every", "0", "--out"]
    proc = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", *flags, str(out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not when(out) and time.monotonic() < deadline:
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "manifest.json").exists()
    with pytest.raises(SystemExit) as info:
        cli.main([*flags, str(out), "--resume"])
    assert info.value.code == 0, capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    if when is _merging:
        assert manifest["progress"]["resumed_samples"] == 2_600_000
    else:
        assert 0 < manifest["progress"]["resumed_samples"] < 2_600_000
    expected = reference_table(tmp_path, prior="uniform", n=5, samples=2_600_000, seed=7)
    assert table_of(out) == expected
    np.testing.assert_equal(sorted(p.name for p in out.iterdir()),
                            ["aggregates.npz", "functions.parquet", "manifest.json"])


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"out": None}, "out"),
        ({"out": 42}, "out"),
        ({"out": " "}, "out"),
        ({"resume": "yes"}, "resume"),
        ({"plots": 1}, "plots"),
        ({"progress": 5}, "progress"),
        ({"notify": "print"}, "notify"),
        ({"threads": 10_000}, "threads"),
        ({"threads": 1.5}, "threads"),
        ({"samples": 10**13}, "samples"),
        ({"memory": "lots"}, "memory"),
        ({"memory": -1}, "memory"),
        ({"sigma_w": float("inf")}, "sigma_w"),
        ({"scheduler": 3.5}, "scheduler"),
        ({"checkpoint_every": -1}, "checkpoint_every"),
        ({"checkpoint_every": float("nan")}, "checkpoint_every"),
        ({"checkpoint_every": "60"}, "checkpoint_every"),
        ({"widths": (2, 10**12)}, "widths"),
    ],
)
def test_arguments_are_checked_before_the_directory_is_touched(tmp_path, kwargs, param):
    kwargs = {"out": tmp_path / "run", "samples": 100, **kwargs}
    with pytest.raises(InvalidParameterError) as info:
        pysimbias.sample_to_directory(kwargs.pop("out"), **kwargs)
    assert info.value.param == param
    assert not (tmp_path / "run").exists()


def test_a_second_process_on_the_same_directory_is_refused(tmp_path, small_chunks, monkeypatch):
    out = tmp_path / "run"
    interrupted_run(out, monkeypatch, crash_at=10)
    held = lock_progress(out)  # as another process working on the run would hold it
    try:
        for kwargs in ({"resume": True}, {"force": True}):
            with pytest.raises(RunDirectoryError, match="another process"):
                pysimbias.sample_to_directory(out, plots=False, **kwargs, **SMALL)
    finally:
        held.close()
    pysimbias.sample_to_directory(out, memory=TINY_PLAN, plots=False, resume=True, **SMALL)
    assert table_of(out) == reference_table(tmp_path, **SMALL)


def test_plots_are_always_drawn_and_the_manifest_lists_them(tmp_path):
    manifest = pysimbias.sample_to_directory(tmp_path / "drawn", memory=TINY_PLAN, prior="perceptron", n=3,
                                             samples=300)
    drawn = sorted(path.name for path in (tmp_path / "drawn").glob("*.png"))
    assert len(drawn) == 5 and sorted(manifest["plots"]) == drawn   # the four plots and walsh_spectrum.png
    manifest = pysimbias.sample_to_directory(tmp_path / "none", plots=False, prior="perceptron", n=3, samples=300)
    assert manifest["plots"] == [] and not list((tmp_path / "none").glob("*.png"))
