"""Runs on a Dask cluster: chunks counted on the workers and merged there, by function hash.

The client cuts the pending chunks into waves, and each wave into groups of
chunks.  Every group is sampled and counted on a worker (:func:`count_part`),
which splits its distinct functions into ``P`` parts (one per worker) by a
hash of the key; for each part one task (:func:`merge_parts`) adds up that
part of every group of the wave, on the workers.  Only the wave's merged table (never the sampled keys)
travels to the client, which counts it into a
:class:`~pysimbias.engine.SegmentWriter`, saved as a segment of the run's
progress every ``checkpoint_every`` seconds or when full, exactly as a
local run saves; a killed run loses at most the waves since the last save.  The segments are merged into
``functions.parquet`` exactly as in a local run, so the result does not
depend on the number of workers or on the backend.

Every worker needs the same pysimbias version as the client (checked when
the run starts).
"""

import contextlib
import functools
import json
import operator
import re
from collections import deque
from itertools import islice

import numpy as np

from ._version import __version__
from . import engine
from .config import SampleConfig
from .kernels.counting import hash_keys
from .inputs.encodings import make_encoding
from .errors import InvalidParameterError, RunDirectoryError
from .histogram import KeyCounter
from .learning import sampled_prior
from .kernels.rng import chunk_key

__all__ = ["check_scheduler", "cluster_client", "record_on_cluster", "count_part", "merge_parts"]

#: Seconds to wait for the scheduler, and for its first worker.
CONNECT_TIMEOUT = 30
#: Waves submitted ahead of the one being collected.
WAVES_IN_FLIGHT = 2
#: Chunks per wave, per worker thread (the memory plan may allow fewer).
CHUNKS_PER_THREAD = 4
#: Counting tasks per wave, per worker thread.
GROUPS_PER_THREAD = 2

_ADDRESS = re.compile(r"(?:[a-z][a-z0-9+.-]*://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?(?:/\S*)?")


def _distributed():
    try:
        import distributed
    except ImportError:
        raise InvalidParameterError(
            "scheduler", "needs the 'distributed' package; install it with pip install 'pysimbias[dask]'"
        ) from None
    return distributed


def check_scheduler(scheduler):
    """Check a scheduler address (``tcp://host:8786``, ``host:8786``) or accept a ``distributed.Client``."""
    if isinstance(scheduler, str):
        address = scheduler.strip()
        match = _ADDRESS.fullmatch(address)
        if not match or (match.group(1) and not 0 < int(match.group(1)) < 65536):
            raise InvalidParameterError(
                "scheduler", f"{scheduler!r} is not a scheduler address; write e.g. tcp://10.0.0.5:8786"
            )
        _distributed()
        return address
    if isinstance(scheduler, _distributed().Client):
        return scheduler
    raise InvalidParameterError(
        "scheduler", f"must be an address such as tcp://10.0.0.5:8786 or a distributed.Client, got {scheduler!r}"
    )


def _worker_version():
    return __version__


@contextlib.contextmanager
def cluster_client(scheduler):
    """A connected client with at least one worker that runs this pysimbias version.

    ``scheduler`` is an address (the client is closed afterwards) or a
    ``distributed.Client`` (left open).
    """
    distributed = _distributed()
    if isinstance(scheduler, distributed.Client):
        _check_workers(scheduler, str(scheduler.scheduler.address))
        yield scheduler
        return
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InvalidParameterError(
            "scheduler", f"cannot reach a Dask scheduler at {scheduler} ({exc}); start one with 'dask scheduler'"
        ) from None
    try:
        _check_workers(client, scheduler)
        yield client
    finally:
        client.close()


def _check_workers(client, address):
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except TimeoutError:
        raise InvalidParameterError(
            "scheduler", f"no worker joined the scheduler at {address} within {CONNECT_TIMEOUT} s; "
                         f"start workers with 'dask worker {address}'"
        ) from None
    try:
        versions = client.run(_worker_version)
    except Exception as exc:  # anything a worker raises while importing or running pysimbias
        raise InvalidParameterError(
            "scheduler", f"the workers of {address} cannot run pysimbias ({exc.__class__.__name__}: {exc}); "
                         f"install pysimbias {__version__} on every worker"
        ) from None
    wrong = sorted(worker for worker, version in versions.items() if version != __version__)
    if wrong:
        raise InvalidParameterError(
            "scheduler", f"workers {', '.join(wrong)} run another pysimbias version than this client's "
                         f"{__version__}; install the same version on every worker"
        )


@functools.lru_cache(maxsize=4)
def _prior(config_json):
    config = SampleConfig.from_dict(json.loads(config_json)).validated()
    return sampled_prior(config, make_encoding(config.encoding, config.n)), config.seed


def count_part(config_json, chunks, parts):
    """Worker task: count a group of chunks and split its functions into ``parts`` parts by key hash.

    Parameters
    ----------
    config_json : str
        The run's config, as JSON.
    chunks : list of (int, int)
        ``(chunk index, samples in chunk)`` pairs.
    parts : int

    Returns
    -------
    tuple
        ``parts`` pairs (keys, counts), part p holding the functions whose
        hash is p modulo ``parts``, then the group's summed tally (None for
        priors without one, see :func:`pysimbias.engine.draw_chunk`).
    """
    prior, seed = _prior(config_json)
    counter = KeyCounter(prior.n_words)
    tally = None
    for k, count in chunks:
        keys, chunk_tally = engine.draw_chunk(prior, chunk_key(seed, k), count)
        counter.add(keys)
        if chunk_tally is not None:
            tally = chunk_tally if tally is None else tally + chunk_tally
    keys, counts = counter.items()
    slot = hash_keys(keys) % np.uint64(parts)
    return (*((keys[slot == p], counts[slot == p]) for p in range(parts)), tally)


def merge_parts(n_words, *parts):
    """Worker task: add up one part of several chunks; return its keys and counts."""
    counter = KeyCounter(n_words)
    for keys, counts in parts:
        counter.add(keys, counts)
    return counter.items()


def _sum_tallies(tallies):
    """The sum of the groups' tallies (None when the prior keeps none)."""
    tallies = [t for t in tallies if t is not None]
    return np.sum(tallies, axis=0) if tallies else None


def record_on_cluster(client, config, chunks, progress, plan, checkpoint_every=engine.CHECKPOINT_EVERY,
                      on_chunk=None):
    """Count chunks on a Dask cluster into a run's progress, saved by time or when the table is full.

    Parameters
    ----------
    client : distributed.Client
    config : SampleConfig
    chunks : iterable of (int, int)
        ``(chunk index, samples in chunk)`` pairs to compute.
    progress : pysimbias.store.checkpoint.Progress
    plan : pysimbias.store.memory.MemoryPlan
        A wave's merged table (at most its number of samples) must fit
        ``plan.table_rows``.
    checkpoint_every : float
        Seconds between two segments (0: one segment per wave).
    on_chunk : callable, optional
        Called with the number of samples of each finished wave.

    Returns
    -------
    dict
        The backend's manifest entry (scheduler, workers, threads, waves).
    """
    nthreads = client.nthreads()
    threads, parts = max(1, sum(nthreads.values())), max(1, len(nthreads))
    wave_chunks = max(1, min(plan.table_rows // engine.CHUNK_SIZE, CHUNKS_PER_THREAD * threads))
    config_json = json.dumps(config.to_dict(), sort_keys=True)
    chunks, in_flight, waves = iter(chunks), deque(), 0
    table = engine.SegmentWriter(progress, progress.n_words, plan, checkpoint_every)

    def submit(items):
        groups = min(len(items), GROUPS_PER_THREAD * threads)
        counted = [client.submit(count_part, config_json, items[g::groups], parts) for g in range(groups)]
        merged = []
        for p in range(parts):
            pieces = [client.submit(operator.getitem, future, p) for future in counted]
            merged.append(client.submit(merge_parts, progress.n_words, *pieces))
        tallies = [client.submit(operator.getitem, future, parts) for future in counted]
        return items, merged, tallies

    while True:
        while len(in_flight) < WAVES_IN_FLIGHT:
            items = list(islice(chunks, wave_chunks))
            if not items:
                break
            in_flight.append(submit(items))
        if not in_flight:
            break
        items, merged, tallies = in_flight.popleft()
        try:
            tables = client.gather(merged)
            tally = _sum_tallies(client.gather(tallies))
        except Exception as exc:  # a task's own error, or a lost worker, re-raised by distributed
            table.save()
            raise RunDirectoryError(
                f"a task failed on the cluster ({exc.__class__.__name__}: {exc}); the finished waves are saved: "
                f"run the same command again with --resume"
            ) from None
        # The parts hold disjoint functions (split by hash), so together they are the wave's table.
        table.add([k for k, _ in items], np.concatenate([keys for keys, _ in tables]),
                  np.concatenate([counts for _, counts in tables]), tally)
        waves += 1
        if on_chunk is not None:
            on_chunk(sum(count for _, count in items))
    table.save()
    return {"scheduler": str(client.scheduler.address), "workers": parts, "threads": threads, "waves": waves}
