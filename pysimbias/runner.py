"""Sampling straight into a run directory: resumable, within a memory budget, local or on Dask.

:func:`sample_to_directory` is what ``pysimbias sample`` runs:

1. check every argument before the directory is touched, and refuse a
   memory budget that cannot hold one chunk;
2. open the directory: a new run, or (``resume``) the progress an
   interrupted run left in ``DIR/chunks/`` (see :mod:`pysimbias.store.checkpoint`);
3. count the chunks not done yet into that progress, locally
   (:func:`pysimbias.engine.record_chunks`) or on a Dask cluster
   (:func:`pysimbias.distributed.record_on_cluster`);
4. put the functions of the sorted segments and of the last counting table
   (kept in memory, not saved) in the table's order: in memory when they fit
   the budget's counting table, else by merging on disk
   (:mod:`pysimbias.store.merge`); write ``functions.parquet``, measuring
   one batch at a time;
   accumulating the bounded aggregates (:mod:`pysimbias.store.aggregates`)
   in the same pass;
5. draw the plots from the aggregates, write the manifest last, and delete
   the progress.

``functions.parquet`` is the same, byte for byte, as ``sample(...).save(...)``
writes for the same config, however often the run was interrupted, whatever
the budget and whichever backend counted it.
"""

import contextlib
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import engine
from .store.checkpoint import Progress, check_generator, discard_progress, has_progress, run_identity
from .distributed import check_scheduler, cluster_client, record_on_cluster
from .engine import check_samples, check_threads, pending_chunks, record_chunks, thread_limit
from .errors import InvalidParameterError, RunDirectoryError
from .measures import compute_measures, run_measures
from .measures.walsh import walsh_degree_totals, walsh_spectrum_entry
from .store.aggregates import AGGREGATES, AggregateBuilder, keys_texts
from .store.background import InOrder
from .store.memory import MemoryPlan, parse_memory, peak_rss
from .store.merge import count_in_memory, count_sorted, fits_in_memory, merge_files, rebatch, text_order
from .warmup import warm_up
from .run import (check_callback, check_sampler, measure_context, package_versions, plan_run, prepare, run_description,
                  task_description, validated_config)
from .store.rundir import (FUNCTIONS, MANIFEST, file_sha256, function_batch_rows, prepare_directory, read_manifest,
                           write_aggregates, write_function_batches, write_manifest)

__all__ = ["sample_to_directory"]


def _ignore(message):
    """Default ``notify``: notices still go to the manifest."""


def sample_to_directory(out, config=None, *, threads=None, progress=None, memory=None, resume=False, force=False,
                        scheduler=None, plots=True, notify=None, measures=(), checkpoint_every=None,
                        **params):
    """Sample a run into directory ``out``, resumably and within a memory budget.

    Parameters
    ----------
    out : path-like
        The run directory (see :mod:`pysimbias.store.rundir`).
    config : SampleConfig, optional
        A full configuration; keyword ``params`` override its fields.
    threads : int, optional
        Numba threads for local sampling (the result does not depend on it).
    progress : callable, optional
        Called with a number of samples finished, after every chunk (every
        wave on a cluster); on resume first with the samples already done.
    memory : int, str or MemoryPlan, optional
        Memory budget: bytes, or text such as ``"8G"``, ``"512M"``, ``"50%"``
        (default: half of physical memory); or an explicit
        :class:`~pysimbias.store.memory.MemoryPlan`.
    resume : bool
        Continue the interrupted run in ``out`` (start it if ``out`` is empty
        or missing); its config must be this one.  A finished run with this
        config is left as it is.
    force : bool
        Overwrite a non-empty ``out``.
    scheduler : str or distributed.Client, optional
        Count the chunks on this Dask cluster (e.g. ``"tcp://10.0.0.5:8786"``).
    plots : bool
        Draw the PNG plots, from the aggregates accumulated while the table
        is written (so within the budget at any size); the manifest lists
        them under ``plots``.
    notify : callable, optional
        Called with each notice (a damaged progress file recomputed, no
        plots for an empty table, ...); notices are also stored in the
        manifest.
    measures : sequence of str
        Measures to compute besides the default ones.
    checkpoint_every : float, optional
        Seconds between two saves of the progress (a sorted segment of the
        functions counted since the last one; default
        :data:`pysimbias.engine.CHECKPOINT_EVERY`, 60); a killed run loses at
        most this much work.  0 saves after every chunk.  The result does
        not depend on it.

    Returns
    -------
    dict
        The run's manifest.

    Raises
    ------
    InvalidParameterError
        A bad argument, or a budget too small for one chunk.
    RunDirectoryError
        ``out`` cannot be used (not empty, another run's progress, damaged,
        unwritable); the progress so far is kept.
    """
    config = validated_config(config, params)
    threads = check_threads(threads)
    check_samples(config.samples)
    checkpoint_every = engine.check_checkpoint_every(
        engine.CHECKPOINT_EVERY if checkpoint_every is None else checkpoint_every)
    if resume and force:
        raise InvalidParameterError("resume", "--resume continues a run and --force starts it over; pass only one")
    if not isinstance(out, (str, os.PathLike)) or str(out).strip() == "":
        raise InvalidParameterError("out", f"give the run directory to write as a path, got {out!r}")
    for name, value in (("resume", resume), ("force", force), ("plots", plots)):
        if not isinstance(value, (bool, np.bool_)):
            raise InvalidParameterError(name, f"must be True or False, got {value!r}")
    check_callback("progress", progress)
    check_callback("notify", notify)
    if scheduler is not None:
        scheduler = check_scheduler(scheduler)
    explicit = memory if isinstance(memory, MemoryPlan) else None
    budget = None if explicit else parse_memory(memory)
    sampler = prepare(config)
    encoding, prior = sampler.encoding, sampler.prior
    if explicit is None:
        check_sampler(config, encoding, prior, threads, budget)
    context = measure_context(config, encoding, sampler.graph)
    names = run_measures(context, measures)
    warmed = warm_up(sampler, context, notify)
    out = Path(out)
    notify = notify or _ignore
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(warmed)
            plan = explicit or plan_run(config, encoding, prior, threads, budget)
            client = None if scheduler is None else stack.enter_context(cluster_client(scheduler))
            opened = _open_directory(out, config, run_identity(config, engine.CHUNK_SIZE, prior.n_words, prior.m),
                                     resume, force)
            if isinstance(opened, dict):
                notify(f"{out} already holds this finished run; nothing to do")
                return opened
            stack.callback(opened.release)
            return _run(out, sampler, (context, names), opened, plan, threads, progress, client, plots, notify,
                        warmed, checkpoint_every)
    except OSError as exc:
        where = exc.filename or out
        raise RunDirectoryError(
            f"cannot use {where} ({exc.strerror or exc}); the progress so far is kept in {out}: "
            f"fix this and run the same command again with --resume"
        ) from None


def _open_directory(out, config, identity, resume, force):
    """The run's :class:`Progress`, or the manifest of an identical finished run (``resume``)."""
    n_chunks = engine.n_chunks(config.samples)
    if resume:
        if (out / MANIFEST).exists():
            finished = _finished_run(out, config)
            if finished is not None:
                return finished
        if has_progress(out):
            return Progress.resume(out, identity, n_chunks)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise RunDirectoryError(f"{out} is not empty and holds no interrupted pysimbias run; choose another --out")
    elif has_progress(out):
        if not force:
            raise RunDirectoryError(
                f"{out} holds an interrupted run; pass --resume to continue it or --force to start over"
            )
        discard_progress(out)
    prepare_directory(out, force=force)
    return Progress.start(out, identity, n_chunks)


def _finished_run(out, config):
    """Check a finished run met on resume: its manifest if it is this run and intact, None to merge again."""
    manifest = read_manifest(out)
    versions = manifest.get("versions")
    check_generator(out, versions.get("generator", 1) if isinstance(versions, dict) else 1, "a finished run")
    if manifest.get("config") != config.to_dict() or manifest.get("chunk_size") != engine.CHUNK_SIZE:
        raise RunDirectoryError(f"{out} holds a finished run with a different config; choose another --out, "
                                f"or pass --force to overwrite it")
    table, files = out / FUNCTIONS, manifest.get("files")
    if table.is_file() and isinstance(files, dict) and files.get(FUNCTIONS) == file_sha256(table):
        discard_progress(out)
        return manifest
    if not has_progress(out):
        raise RunDirectoryError(f"{table} does not match its checksum in {MANIFEST} and no progress is left to "
                                f"rebuild it from; pass --force to sample again")
    (out / MANIFEST).unlink()
    return None


def _samples_done(samples, done):
    total = int(done.sum()) * engine.CHUNK_SIZE
    if done.shape[0] and done[-1]:
        total -= done.shape[0] * engine.CHUNK_SIZE - samples
    return total


def _run(out, sampler, measuring, progress_dir, plan, threads, progress, client, plots, notify, warmed,
         checkpoint_every):
    config, encoding, prior = sampler.config, sampler.encoding, sampler.prior
    started = datetime.now(timezone.utc)
    for notice in progress_dir.notices:
        notify(notice)
    resumed = _samples_done(config.samples, progress_dir.done)
    if progress is not None and resumed:
        progress(resumed)
    pending = pending_chunks(config.samples, progress_dir.done.copy())
    clock = time.perf_counter()
    with thread_limit(threads):
        if client is None:
            last = record_chunks(prior, config.seed, pending, progress_dir, plan, checkpoint_every, progress,
                                 expected_total=config.samples - resumed)
            backend = {"name": "local"}
        else:
            last = None
            backend = {"name": "dask", **record_on_cluster(client, config, pending, progress_dir, plan,
                                                           checkpoint_every, progress)}
    elapsed = time.perf_counter() - clock
    sampling_io = progress_dir.write_seconds
    done = progress_dir.done.copy()
    if last is not None:
        done[np.asarray(last.chunks, dtype=np.int64)] = True
    if not done.all():
        raise RunDirectoryError(f"{progress_dir.directory} lost track of some chunks; run again with --resume")
    segments = len(progress_dir.segments)
    notify(f"sampling done; merging {segments} segment{'s' * (segments != 1)}"
           f"{' and the last table' if last is not None and last.chunks else ''} into {FUNCTIONS} and measuring")
    compile_seconds = warmed.finish()
    clock = time.perf_counter()
    digest, aggregates, names, walsh, measure_seconds = _write_functions(out, progress_dir, last, plan, prior,
                                                                         *measuring)
    samples, distinct = aggregates.samples, aggregates.distinct
    tallies = [t for t in (progress_dir.tally(), None if last is None else last.tally) if t is not None]
    tally = np.sum(tallies, axis=0) if tallies else None
    kept = config.samples if tally is None else config.samples - int(tally[0])
    if tally is not None:
        wrong = samples != kept or int(tally.sum()) != config.samples
    else:
        # A task that keeps only some draws and keeps no tally (posterior) holds fewer, never more.
        wrong = samples > kept or (config.task == "sample" and samples != kept)
    if wrong:
        (out / FUNCTIONS).unlink()
        raise RunDirectoryError(f"the saved progress in {progress_dir.directory} holds {samples:,} samples, not "
                                f"{kept:,}; pass --force to sample again")
    notices, written = list(progress_dir.notices), []
    files = {FUNCTIONS: digest, AGGREGATES: write_aggregates(out, aggregates)}
    merge_io = progress_dir.write_seconds - sampling_io  # the last table saved, when it did not fit in memory
    merge_seconds = time.perf_counter() - clock - measure_seconds - merge_io
    clock = time.perf_counter()
    if plots:
        plot_notices, written = _plot(out, config, encoding, aggregates, notify, walsh)
        notices += plot_notices
    phases = {"sampling": elapsed - sampling_io, "progress_io": progress_dir.write_seconds,
              "merge": merge_seconds, "measures": measure_seconds, "plots": time.perf_counter() - clock}
    extra = {
        "versions": package_versions(),
        "threads": threads,
        "started": started.isoformat(timespec="seconds"),
        "compile_seconds": round(compile_seconds, 3),
        "backend": backend,
        "memory": {**plan.describe(), "peak_rss_bytes": peak_rss()},
        "progress": {"resumed_samples": resumed, "segments": len(progress_dir.segments),
                     "checkpoint_every": checkpoint_every,
                     "written_bytes": progress_dir.written_bytes, "notices": notices},
        "phase_seconds": {name: round(seconds, 3) for name, seconds in phases.items()},
        "prior": prior.describe(),
        **task_description(prior),
        **({} if tally is None else prior.summarize(tally)),
        **({} if walsh is None else {"walsh_spectrum": walsh}),
    }
    manifest = run_description(config, encoding, sampler.graph, samples, distinct, names, elapsed, extra)
    write_manifest(out, {**manifest, "files": files, "plots": [path.name for path in written]})
    progress_dir.discard()
    return read_manifest(out)


def _count_ordered(progress_dir, last, plan, n_words):
    """The run's functions in count order, as blocks: from the segments and the last table (or None).

    When their rows fit the plan's counting table, the segments are added
    to the last table in memory and sorted there; otherwise the last table
    is saved as a segment, and the segments are merged on disk.
    """
    scratch = progress_dir.scratch()
    counter = None if last is None else last.counter
    segments = [progress_dir.segments[seq] for seq in sorted(progress_dir.segments)]
    if fits_in_memory(segments, counter, plan):
        return count_in_memory(segments, counter, plan, n_words)
    if last is not None:
        last.save()
    segments = [progress_dir.segments[seq] for seq in sorted(progress_dir.segments)]
    merged = merge_files(segments, text_order, True, plan, scratch, n_words)
    return count_sorted(merged, plan, scratch, n_words)


def _write_functions(out, progress_dir, last, plan, prior, context, names):
    """Merge the segments and the last table into ``functions.parquet``, accumulating its aggregates in the same pass.

    Returns its digest, the :class:`~pysimbias.store.aggregates.Aggregates`,
    the measure names, the Walsh spectrum entry (None unless the encoding
    is a bit-vector one) and the seconds spent measuring.
    """
    return _write_ordered(out, _count_ordered(progress_dir, last, plan, prior.n_words), prior, context, names)


def _write_ordered(out, ordered, prior, context, names):
    """Write ``functions.parquet`` from the (keys, counts) blocks of ``ordered``; returns as :func:`_write_functions`."""
    totals = {"samples": 0, "names": [], "walsh": None, "dtypes": {}, "seconds": 0.0}
    builder = AggregateBuilder(prior.m)

    def batches():
        for keys, counts in rebatch(ordered, function_batch_rows(prior.m)):
            totals["samples"] += int(counts.sum())
            clock = time.perf_counter()
            measures = compute_measures(keys, context, names)
            totals["names"] = list(measures)
            totals["dtypes"] = {name: values.dtype for name, values in measures.items()}
            if context.vertices is not None:
                batch = walsh_degree_totals(keys, counts, context.vertices, context.n)  # exact integers
                totals["walsh"] = batch if totals["walsh"] is None else [a + b for a, b in zip(totals["walsh"], batch)]
            totals["seconds"] += time.perf_counter() - clock
            aggregating.submit(builder.add, counts, measures, keys_texts(keys, prior.m))
            yield keys, counts, measures
        if not totals["names"]:  # nothing kept (a posterior that accepted no draw): an empty table
            keys = np.zeros((0, prior.n_words), dtype=np.uint64)
            measures = compute_measures(keys, context)
            totals["names"] = list(measures)
            totals["dtypes"] = {name: values.dtype for name, values in measures.items()}
            yield keys, np.zeros(0, dtype=np.int64), measures

    # The aggregates accumulate on a thread of their own, as the table is written on another.
    with InOrder("aggregates") as aggregating:
        digest = write_function_batches(out, prior.m, batches())
    # No spectrum off the cube, nor of an empty table (a posterior that accepted nothing).
    walsh = (None if context.vertices is None or not totals["samples"]
             else walsh_spectrum_entry(totals["walsh"], totals["samples"], context.n))
    return digest, builder.finish(totals["dtypes"]), totals["names"], walsh, totals["seconds"]


def _plot(out, config, encoding, aggregates, notify, walsh):
    """Draw the plots from the run's aggregates; return the notices and the paths written."""
    from .plots import plot_aggregates

    if not aggregates.samples:
        notice = "plots skipped: no draw was accepted, so the table is empty"
        notify(notice)
        return [notice], []
    return [], plot_aggregates(config, encoding, aggregates, out, walsh=walsh)
