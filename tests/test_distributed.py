"""Runs on a real Dask LocalCluster (two worker processes) against local runs, byte for byte."""

import pyarrow.parquet as pq
import pytest

import pysimbias
from pysimbias import InvalidParameterError, RunDirectoryError, engine
from pysimbias import distributed as dask_runs
from pysimbias.store.memory import MemoryPlan
from crashing import Crash, StepCounter

distributed = pytest.importorskip("distributed")

CONFIG = dict(prior="mlp", widths=(6,), n=5, seed=21)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                                  silence_logs=40) as local:
        yield local


def test_cluster_run_equals_local_run(tmp_path, cluster):
    """The issue's check: same config and seed, same functions.parquet, locally and on the cluster."""
    params = dict(CONFIG, samples=150_000)
    local = pysimbias.sample_to_directory(tmp_path / "local", plots=False, **params)
    remote = pysimbias.sample_to_directory(tmp_path / "cluster", plots=False, scheduler=cluster.scheduler_address,
                                           **params)
    assert pq.read_table(tmp_path / "local" / "functions.parquet").equals(
        pq.read_table(tmp_path / "cluster" / "functions.parquet"))
    assert (tmp_path / "local" / "functions.parquet").read_bytes() == \
        (tmp_path / "cluster" / "functions.parquet").read_bytes()
    assert remote["backend"]["name"] == "dask" and remote["backend"]["workers"] == 2
    assert local["backend"] == {"name": "local"}
    assert remote["distinct"] == local["distinct"]


def test_many_waves_and_a_resumed_local_session_give_the_same_table(tmp_path, cluster, monkeypatch):
    """Small chunks, a small table, a segment after every wave; one session local, the next on the cluster."""
    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 0)
    monkeypatch.setattr(engine, "CHUNK_SIZE", 400)
    params = dict(CONFIG, samples=9_000)
    pysimbias.sample(**params).save(tmp_path / "memory", plots=False)
    plan = MemoryPlan(table_rows=1200, block_rows=50, sort_rows=300, fan_in=3)
    with monkeypatch.context() as patch:
        StepCounter(patch, crash_at=8)
        with pytest.raises(Crash):
            pysimbias.sample_to_directory(tmp_path / "cluster", memory=plan, plots=False, **params)
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        manifest = pysimbias.sample_to_directory(tmp_path / "cluster", memory=plan, plots=False, scheduler=client,
                                                 resume=True, **params)
    assert 0 < manifest["progress"]["resumed_samples"] < params["samples"]
    assert manifest["backend"]["waves"] > 3
    assert (tmp_path / "cluster" / "functions.parquet").read_bytes() == \
        (tmp_path / "memory" / "functions.parquet").read_bytes()


def test_scheduler_addresses_are_checked(tmp_path, monkeypatch):
    for bad in ("", "tcp://", "host name:8786", "tcp://host:99999", 42):
        with pytest.raises(InvalidParameterError) as info:
            pysimbias.sample_to_directory(tmp_path / "x", scheduler=bad, samples=10)
        assert info.value.param == "scheduler"
    monkeypatch.setattr(dask_runs, "CONNECT_TIMEOUT", 1)
    with pytest.raises(InvalidParameterError, match="cannot reach a Dask scheduler"):
        pysimbias.sample_to_directory(tmp_path / "x", scheduler="tcp://127.0.0.1:9", samples=10)
    assert not (tmp_path / "x").exists()


def test_task_failure_on_the_cluster_is_reported_and_progress_kept(tmp_path, cluster, monkeypatch):
    def failing_merge(n_words, *parts):
        raise MemoryError("worker ran out of memory")

    monkeypatch.setattr(dask_runs, "merge_parts", failing_merge)
    with pytest.raises(RunDirectoryError, match="--resume"):
        pysimbias.sample_to_directory(tmp_path / "run", plots=False, scheduler=cluster.scheduler_address,
                                      **dict(CONFIG, samples=1000))
    assert (tmp_path / "run" / "chunks" / "run.json").exists()
    assert not (tmp_path / "run" / "manifest.json").exists()


def test_worker_count_does_not_change_the_table(tmp_path):
    """Three workers in threads (other parts, other groups) against the in-memory path."""
    params = dict(CONFIG, samples=70_000)
    pysimbias.sample(**params).save(tmp_path / "memory", plots=False)
    with distributed.LocalCluster(n_workers=3, processes=False, threads_per_worker=1, dashboard_address=":0",
                                  silence_logs=40) as local:
        manifest = pysimbias.sample_to_directory(tmp_path / "cluster", plots=False, scheduler=local.scheduler_address,
                                                 **params)
    assert manifest["backend"]["workers"] == 3
    assert (tmp_path / "cluster" / "functions.parquet").read_bytes() == \
        (tmp_path / "memory" / "functions.parquet").read_bytes()


def test_train_task_on_the_cluster_equals_local_with_the_same_tally(tmp_path, cluster, monkeypatch):
    """Trained runs counted on the workers: the same table, and the chunks' tallies come back summed."""
    monkeypatch.setattr(engine, "CHUNK_SIZE", 50)
    params = dict(CONFIG, samples=400, task="train", target="0011" * 8, train=16, lr=0.5, max_epochs=4)
    local = pysimbias.sample_to_directory(tmp_path / "local", plots=False, **params)
    remote = pysimbias.sample_to_directory(tmp_path / "cluster", plots=False, scheduler=cluster.scheduler_address,
                                           **params)
    assert (tmp_path / "local" / "functions.parquet").read_bytes() == \
        (tmp_path / "cluster" / "functions.parquet").read_bytes()
    assert remote["backend"]["name"] == "dask"
    assert remote["training"] == local["training"]
    assert 0 < local["training"]["fitted"] < 400
