"""Compiling the kernels a run will use before it starts, in parallel on a fresh install.

A run compiles (or loads from Numba's cache) its kernels before it measures
its memory baseline, so that no compilation happens halfway through.  The
kernels are those of three parts, each a function of the config alone:

* ``sampler``: the prior's sampling kernels, on one sample;
* ``measures``: the measure kernels of the run's encoding and graph, and
  those that the table's aggregates and the plots use (text forms, the
  Walsh spectrum, the counting-measure baseline);
* ``counting``: the counting and ordering kernels for the run's key width
  (:func:`pysimbias.histogram.compile_kernels`, for the run's size).

On a warm cache loading them takes a second.  On an empty one (the first run
after installing) compiling them takes about a minute of one core, so the
run compiles the first part itself while worker processes (one per further
core) compile the others into the cache, every process taking the longest
part left whenever it is free; the run then loads the workers' parts from
the cache.
"""

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from .baseline import counting_measure_sample
from .config import SampleConfig
from .histogram import compile_kernels
from .kernels import counting, lz
from .kernels.bits import keys_to_text
from .kernels.rng import chunk_key
from .measures import MeasureContext, compute_measures
from .measures.walsh import walsh_degree_weights

__all__ = ["EMPTY_CACHE_NOTICE", "NOTICE", "PARTS", "cache_is_warm", "warm_up"]

#: The parts of a run's kernels, longest to compile first (an mlp's sampler, then the default measures).
PARTS = ("sampler", "measures", "counting")

#: Kernels every run uses: while their cache entries are missing, the cache is empty.
_PROBES = (counting.insert_grouped, lz.lz76)
#: Seconds of warming up after which a run that found the cache filled says that it is compiling.
NOTICE_AFTER = 2.0
#: The notice of a run that compiles kernels.
NOTICE = "compiling kernels for this machine (first run only)"
#: The notice of a run that found the cache empty.
EMPTY_CACHE_NOTICE = "compiling kernels for this machine (first run only; a minute or two)"


def compile_part(part, prior, context, samples):
    """Compile (or load) the kernels of one part of a run."""
    if part == "sampler":
        prior.sample_chunk(chunk_key(0, 0), 1)
    elif part == "counting":
        compile_kernels(prior.n_words, samples)
    else:  # the measures, and what the table's aggregates and the plots compute besides
        keys = np.zeros((1, prior.n_words), dtype=np.uint64)
        compute_measures(keys, context)
        keys_to_text(keys, prior.m)
        if context.vertices is not None:
            walsh_degree_weights(keys, context.vertices, context.n)
        counting_measure_sample(context, size=1)


def _compile_in_worker(config_dict, part):
    """Worker process: compile one part of the run of ``config_dict`` into Numba's cache."""
    from .run import prepare

    sampler = prepare(SampleConfig.from_dict(config_dict))
    compile_part(part, sampler.prior, MeasureContext.for_encoding(sampler.encoding, sampler.graph),
                 sampler.config.samples)


def cache_is_warm():
    """Whether Numba's cache holds kernels of this pysimbias version for this machine.

    Looks only at whether the cache index of kernels every run uses has
    entries that match their sources: after any run has filled the cache, a
    run with other kernels (another prior) compiles those on its own.
    """
    try:
        return all(probe._cache._cache_file._load_index() for probe in _PROBES)
    except (AttributeError, OSError, EOFError, ValueError):
        return False


def warm_up(sampler, context, notify=None, workers=None):
    """Compile (or load) every kernel the run of ``sampler`` uses; return the seconds it took.

    On an empty cache, after the notice :data:`EMPTY_CACHE_NOTICE`, this
    process and ``workers - 1`` worker processes compile the parts at the
    same time (``workers`` defaults to one process per core, at most one per
    part); whatever the workers leave undone is compiled here.  On a filled
    cache the notice comes only if loading takes longer than
    :data:`NOTICE_AFTER` seconds (some kernel was not in the cache).
    Either way the kernels are in this process when it returns.
    """
    start = time.perf_counter()
    notify = notify or (lambda message: None)
    workers = min(len(PARTS), os.cpu_count() or 1) if workers is None else int(workers)
    timer = threading.Timer(NOTICE_AFTER, notify, (NOTICE,))
    if cache_is_warm():
        timer.start()
    else:
        notify(EMPTY_CACHE_NOTICE)
        if workers > 1:
            _compile_with_workers(sampler, context, workers - 1)
    try:
        for part in PARTS:
            compile_part(part, sampler.prior, context, sampler.config.samples)
    finally:
        timer.cancel()
    return time.perf_counter() - start


def _compile_with_workers(sampler, context, workers):
    """Compile the parts of ``sampler``'s run here and in ``workers`` worker processes at the same time.

    This process starts with the first part; every process, whenever it is
    free, takes the first part nobody has taken (:data:`PARTS` is longest
    first).  On 2 cores the run's own process compiles the sampler while a
    worker compiles the measures, and whichever finishes first takes the
    counting.  A part a worker failed to compile is left to the caller,
    which compiles it itself (and raises whatever the worker met); so is
    every part that worker processes could not be started for.

    Returns
    -------
    list of str
        The parts the workers compiled.
    """
    left = list(PARTS)
    lock = threading.Lock()
    compiled_by_workers = []

    def take():
        with lock:
            return left.pop(0) if left else None

    def feed(pool):
        """Keep one worker busy with parts nobody has taken."""
        while (part := take()) is not None:
            try:
                future = pool.submit(_compile_in_worker, sampler.config.to_dict(), part)
            except (OSError, RuntimeError):  # no worker could be started: this process takes the part
                with lock:
                    left.insert(0, part)
                return
            if future.exception() is None:
                compiled_by_workers.append(part)

    part = take()
    try:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    except (OSError, ImportError):  # no processes or semaphores here (some sandboxes)
        return compiled_by_workers
    with pool:
        feeders = [threading.Thread(target=feed, args=(pool,), daemon=True) for _ in range(workers)]
        for feeder in feeders:
            feeder.start()
        try:
            while part is not None:
                compile_part(part, sampler.prior, context, sampler.config.samples)
                part = take()
        finally:
            with lock:
                left.clear()  # after a failure here, the workers take nothing more
            for feeder in feeders:
                feeder.join()
    return compiled_by_workers
