"""Compiling a run's kernels before it starts: the notice, the worker processes, the manifest entry."""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import pysimbias
from pysimbias import warmup
from pysimbias.config import SampleConfig
from pysimbias.measures import MeasureContext
from pysimbias.run import prepare

SMALL = SampleConfig(prior="perceptron", n=4, samples=300, seed=3).validated()


def _context(sampler):
    return MeasureContext.for_encoding(sampler.encoding, sampler.graph)


def test_an_empty_cache_is_announced_before_compiling(monkeypatch):
    sampler = prepare(SMALL)
    monkeypatch.setattr(warmup, "cache_is_warm", lambda: False)
    notices = []
    warmed = warmup.warm_up(sampler, _context(sampler), notices.append, workers=1)
    assert notices == [warmup.EMPTY_CACHE_NOTICE]
    assert warmed.seconds > 0 and warmed.finish() == warmed.seconds


def test_a_filled_cache_that_loads_at_once_says_nothing(monkeypatch):
    sampler = prepare(SMALL)
    warmup.warm_up(sampler, _context(sampler), workers=1)  # compiled (or loaded) now, if not before
    monkeypatch.setattr(warmup, "cache_is_warm", lambda: True)
    notices = []
    warmup.warm_up(sampler, _context(sampler), notices.append, workers=1)
    assert notices == []


def test_a_filled_cache_that_is_slow_to_load_says_it_is_compiling(monkeypatch):
    sampler = prepare(SMALL)
    monkeypatch.setattr(warmup, "cache_is_warm", lambda: True)
    monkeypatch.setattr(warmup, "NOTICE_AFTER", 0.0)
    compile_part = warmup.compile_part

    def slow_part(*args):
        time.sleep(0.2)
        compile_part(*args)

    monkeypatch.setattr(warmup, "compile_part", slow_part)
    notices = []
    warmup.warm_up(sampler, _context(sampler), notices.append, workers=1)
    assert notices == [warmup.NOTICE]


def test_worker_processes_compile_every_part_of_a_config():
    # Spawned workers import pysimbias afresh; this fails if a part cannot be rebuilt from the config alone.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(warmup._compile_in_worker, SMALL.to_dict(), part) for part in warmup.PARTS]
        assert [future.exception() for future in futures] == [None] * len(warmup.PARTS)


def test_the_run_compiles_the_sampler_while_a_worker_compiles_the_rest_and_loads_the_measures_last(monkeypatch):
    sampler = prepare(SMALL)
    loaded_here = []
    compile_part = warmup.compile_part

    def recording_part(part, *args):
        loaded_here.append(part)
        compile_part(part, *args)

    monkeypatch.setattr(warmup, "compile_part", recording_part)
    monkeypatch.setattr(warmup, "cache_is_warm", lambda: False)
    notices = []
    with warmup.warm_up(sampler, _context(sampler), notices.append, workers=2) as warmed:
        assert notices == [warmup.EMPTY_CACHE_NOTICE]
        assert loaded_here == ["sampler", "counting"]  # what sampling needs; the worker may still compile the rest
        before = warmed.seconds
        assert warmed.finish() >= before
    assert loaded_here == list(warmup.PARTS)
    assert set(warmup.AFTER_SAMPLING) <= set(warmup.PARTS) and warmup.PARTS[0] not in warmup.AFTER_SAMPLING


def test_parts_the_worker_fails_are_compiled_by_the_run(monkeypatch):
    sampler = prepare(SMALL)
    monkeypatch.setattr(warmup, "cache_is_warm", lambda: False)
    monkeypatch.setattr(warmup, "_compile_in_worker", _failing_part)  # pickled by name: the worker imports it
    started = []
    start_workers = warmup._start_workers
    monkeypatch.setattr(warmup, "_start_workers", lambda *args: started.append(start_workers(*args)) or started[0])
    loaded_here = []
    compile_part = warmup.compile_part
    monkeypatch.setattr(warmup, "compile_part", lambda part, *args: loaded_here.append(part) or compile_part(part, *args))
    with warmup.warm_up(sampler, _context(sampler), workers=2) as warmed:
        warmed.finish()
    futures = started[0][1]
    assert sorted(futures) == ["counting", "measures"]
    assert all(isinstance(future.exception(), RuntimeError) for future in futures.values())
    assert loaded_here == list(warmup.PARTS)


def _failing_part(config_dict, part):
    raise RuntimeError(f"cannot compile {part}")


def test_cache_is_warm_is_a_bool():
    assert warmup.cache_is_warm() in (True, False)


def test_the_manifest_records_the_compile_time(tmp_path):
    manifest = pysimbias.sample_to_directory(tmp_path / "run", SMALL, plots=False)
    assert isinstance(manifest["compile_seconds"], float) and manifest["compile_seconds"] >= 0
    assert np.isfinite(manifest["compile_seconds"])
