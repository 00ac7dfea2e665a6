"""Compiling the kernels a run will use before it starts, in parallel on a fresh install.

A run compiles (or loads from Numba's cache) its kernels before it measures
its memory baseline, so that no compilation happens in its process halfway
through.  The kernels are those of three parts, each a function of the
config alone:

* ``sampler``: the prior's sampling kernels, on one sample;
* ``counting``: the counting and ordering kernels for the run's key width
  (:func:`pysimbias.histogram.compile_kernels`, for the run's size);
* ``measures``: the measure kernels of the run's encoding and graph, and
  those that the table's aggregates and the plots use (text forms, the
  Walsh spectrum, the counting-measure baseline).

On a warm cache loading them takes a second.  On an empty one (the first run
after installing) compiling them takes about a minute of one core, so the
run compiles the sampler itself while a worker process compiles the counting
kernels and then the measures into the cache.  The run loads the counting
kernels and starts sampling; the measures, which it needs only afterwards,
the worker compiles meanwhile, and the run loads them when sampling is done
(:meth:`WarmUp.finish`): loading compiled code from the cache takes little
memory, unlike compiling it.
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
from .measures.walsh import walsh_degree_totals

__all__ = ["AFTER_SAMPLING", "EMPTY_CACHE_NOTICE", "NOTICE", "PARTS", "WarmUp", "cache_is_warm", "warm_up"]

#: The parts of a run's kernels, in the order the run needs them: the run's own process compiles the first.
PARTS = ("sampler", "counting", "measures")
#: Parts a run needs only once sampling is done: on an empty cache a worker may still compile them meanwhile.
AFTER_SAMPLING = ("measures",)

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
            walsh_degree_totals(keys, np.ones(1, dtype=np.int64), context.vertices, context.n)
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


class WarmUp:
    """The kernels of a run, loaded in this process, but for parts a worker may still be compiling.

    Use it as a context manager; call :meth:`finish` before the run needs the
    parts of :data:`AFTER_SAMPLING`.

    Attributes
    ----------
    seconds : float
        How long the run has waited for its kernels so far.
    """

    def __init__(self, load, seconds, pool=None, pending=None):
        self._load = load
        self.seconds = seconds
        self._pool = pool
        self._pending = dict(pending or {})

    def finish(self):
        """Wait for the parts still compiling, load them here; return :attr:`seconds`, now with that wait."""
        start = time.perf_counter()
        for part, future in self._pending.items():
            future.exception()  # a part the worker failed to compile is compiled (and fails) here
            self._load(part)
        self._pending.clear()
        self.close()
        self.seconds += time.perf_counter() - start
        return self.seconds

    def close(self):
        """Stop the workers (a part one is compiling is finished in its process, then it exits)."""
        if self._pool is not None:
            self._pool.shutdown(wait=not self._pending, cancel_futures=True)
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def warm_up(sampler, context, notify=None, workers=None):
    """Compile (or load) every kernel the run of ``sampler`` uses; return a :class:`WarmUp`.

    On a filled cache every part is loaded here, and the notice
    :data:`NOTICE` comes only if that takes longer than :data:`NOTICE_AFTER`
    seconds (some kernel was not in the cache).  On an empty cache, after
    the notice :data:`EMPTY_CACHE_NOTICE`, this process compiles the first
    part while ``workers - 1`` worker processes (default: one per further
    core) compile the others into the cache; this process then loads the
    parts sampling needs, and the parts of :data:`AFTER_SAMPLING` when
    :meth:`WarmUp.finish` is called: a worker compiles them while the run
    samples.  A part a worker could not compile is compiled here.
    """
    start = time.perf_counter()
    notify = notify or (lambda message: None)
    workers = min(len(PARTS), os.cpu_count() or 1) if workers is None else int(workers)

    def load(part):
        compile_part(part, sampler.prior, context, sampler.config.samples)

    warm = cache_is_warm()
    if warm or workers < 2:
        timer = threading.Timer(NOTICE_AFTER, notify, (NOTICE,))
        if warm:
            timer.start()
        else:
            notify(EMPTY_CACHE_NOTICE)
        try:
            for part in PARTS:
                load(part)
        finally:
            timer.cancel()
        return WarmUp(load, time.perf_counter() - start)
    notify(EMPTY_CACHE_NOTICE)
    pool, futures = _start_workers(sampler.config, PARTS[1:], workers - 1)
    warmed = WarmUp(load, 0.0, pool, {part: futures[part] for part in AFTER_SAMPLING if part in futures})
    try:
        load(PARTS[0])
        for part in PARTS[1:]:
            if part not in warmed._pending:
                if part in futures:
                    futures[part].exception()  # wait for the worker; a part it failed is compiled here
                load(part)
    except BaseException:
        warmed.close()
        raise
    warmed.seconds = time.perf_counter() - start
    return warmed


def _start_workers(config, parts, workers):
    """Start compiling ``parts`` of ``config``'s run in ``workers`` processes, in order; return (pool, futures).

    The futures map each part to its compilation; parts no worker could be
    started for are missing from it (and the pool is None when none could).
    """
    try:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    except (OSError, ImportError):  # no processes or semaphores here (some sandboxes)
        return None, {}
    futures = {}
    for part in parts:
        try:
            futures[part] = pool.submit(_compile_in_worker, config.to_dict(), part)
        except (OSError, RuntimeError):
            break
    return pool, futures
