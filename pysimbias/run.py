"""The Python API: sample a prior, measure its functions, save and load runs."""

import os
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numba
import numpy as np

from ._version import __version__
from .config import SampleConfig
from .inputs.encodings import make_encoding
from . import engine
from .engine import check_samples, check_threads, count_functions, thread_limit
from .errors import InvalidParameterError, RunDirectoryError
from .inputs.graphs import make_graph
from .histogram import Histogram
from .kernels.bits import n_words, pack_bits
from .kernels.rng import GENERATOR_VERSION
from .measures import MeasureContext, compute_measures, run_measures
from .measures.walsh import walsh_spectrum
from .store.memory import current_rss, format_bytes, parse_memory, peak_rss, plan_memory
from .learning import sampled_prior
from .learning.posterior import learning_inputs
from .store.aggregates import AGGREGATES, AggregateBuilder, keys_texts
from .store.rundir import (FUNCTIONS, function_batch_rows, prepare_directory, read_aggregates, read_histogram,
                           read_manifest, text_column_bytes, write_aggregates, write_functions, write_manifest)

__all__ = ["Run", "StoredRun", "Sampler", "sample", "posterior", "train", "prepare", "load_run", "open_run",
           "validated_config",
           "check_callback", "check_sampler", "plan_run", "run_description", "task_description", "measure_context",
           "package_versions"]

_VERSIONED = ("numpy", "numba", "pyarrow", "matplotlib", "scikit-learn", "lempel-ziv-complexity", "click",
              "distributed")


def package_versions():
    """Versions of Python, pysimbias, its normal generator and the packages a result may depend on."""
    versions = {"pysimbias": __version__, "generator": GENERATOR_VERSION, "python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def validated_config(config, params):
    """``config`` (default: :class:`SampleConfig`) with ``params`` overriding its fields, validated."""
    config = config or SampleConfig()
    if not isinstance(config, SampleConfig):
        raise InvalidParameterError("config", f"must be a SampleConfig, got {config!r}")
    return config.replace(**params).validated()


def measure_context(config, encoding, graph):
    """The :class:`~pysimbias.measures.MeasureContext` of a validated config's functions (its target, if any)."""
    target, training_set = learning_inputs(config, encoding)
    return MeasureContext.for_encoding(encoding, graph, target, training_set)


def check_callback(name, value):
    """Check that an argument is a callable or None."""
    if value is not None and not callable(value):
        raise InvalidParameterError(name, f"must be a callable or None, got {value!r}")
    return value


def check_sampler(config, encoding, prior, threads, budget):
    """Refuse a prior whose sampler alone would not fit the memory budget; return its working bytes."""
    working_bytes = getattr(prior, "working_bytes", None)
    sampler = 0 if working_bytes is None else working_bytes(threads or numba.get_num_threads())
    if sampler > budget:
        raise InvalidParameterError(
            "widths" if config.prior == "mlp" else "memory",
            f"the network's parameters and activations on all {encoding.m} inputs need {format_bytes(sampler)} "
            f"across the sampling threads, more than the {format_bytes(budget)} memory budget; use narrower layers",
        )
    return sampler


def plan_run(config, encoding, prior, threads, budget):
    """The :class:`~pysimbias.store.memory.MemoryPlan` of a run within ``budget`` bytes."""
    return plan_memory(budget, current_rss(), prior.n_words, prior.m, min(engine.CHUNK_SIZE, config.samples),
                       min(function_batch_rows(prior.m), config.samples),
                       check_sampler(config, encoding, prior, threads, budget))


def run_description(config, encoding, graph, kept, distinct, measures, elapsed, extra):
    """The manifest entries of a run (everything but the file checksums).

    ``samples`` is the number of functions drawn (``config.samples``); a run
    whose task keeps only some draws (``posterior``) also records how many it
    kept as ``accepted``.

    Parameters
    ----------
    config : SampleConfig
    encoding : Encoding
    graph : Graph
        The neighbour graph of the continuity-aware measures.
    kept : int
        Total count of the run's table (the draws its task kept).
    distinct : int
    measures : list of str
        Names of the measure columns.
    elapsed : float
        Seconds spent sampling and counting.
    extra : dict
        Further entries (versions, threads, memory, the task's description, ...).
    """
    counts = {"samples": int(config.samples)}
    if config.task != "sample":
        counts["accepted"] = int(kept)
    return {
        "config": config.to_dict(),
        "seed": config.seed,
        **counts,
        "distinct": int(distinct),
        "chunk_size": engine.CHUNK_SIZE,
        "encoding": encoding.describe(),
        "graph": graph.describe(),
        "measures": list(measures),
        "elapsed_seconds": round(elapsed, 3),
        **extra,
    }


@dataclass
class Run:
    """A finished run: its config, the histogram of functions, and their measures.

    Attributes
    ----------
    config : SampleConfig
    histogram : Histogram
    elapsed : float
        Seconds spent sampling and counting.
    manifest : dict
        Extra facts recorded with the run (versions, threads, timestamps,
        memory, what the prior resolved its parameters to, and for
        bit-vector encodings the Walsh spectrum by degree,
        ``walsh_spectrum``: see :func:`pysimbias.measures.walsh.walsh_spectrum`).
    """

    config: SampleConfig
    histogram: Histogram
    elapsed: float = 0.0
    manifest: dict = field(default_factory=dict)
    _measures: dict = field(default=None, repr=False)
    _requested: tuple = field(default=(), repr=False)
    _encoding: object = field(default=None, repr=False)
    _graph: object = field(default=None, repr=False)
    _aggregates: object = field(default=None, repr=False)

    @property
    def encoding(self):
        """The :class:`~pysimbias.inputs.encodings.Encoding` the run was sampled on."""
        if self._encoding is None:
            self._encoding = make_encoding(self.config.encoding, self.config.n)
        return self._encoding

    @property
    def graph(self):
        """The neighbour :class:`~pysimbias.inputs.graphs.Graph` of the continuity-aware measures."""
        if self._graph is None:
            self._graph = make_graph(self.config.graph, self.encoding)
        return self._graph

    @property
    def drawn(self):
        """Number of functions drawn from the prior (``config.samples``)."""
        return int(self.config.samples)

    @property
    def accepted(self):
        """Number of draws the run's task kept: the histogram's total (all of them for ``sample``)."""
        return self.histogram.samples

    def measure_context(self):
        """The :class:`~pysimbias.measures.MeasureContext` of this run's functions."""
        return measure_context(self.config, self.encoding, self.graph)

    @property
    def measures(self):
        """Measures of every distinct function, in histogram order (computed once)."""
        if self._measures is None:
            context = self.measure_context()
            self._measures = compute_measures(self.histogram.keys, context, run_measures(context, self._requested))
        return self._measures

    @property
    def aggregates(self):
        """The run's :class:`~pysimbias.store.aggregates.Aggregates` (computed once, as a run directory stores them)."""
        if self._aggregates is None:
            builder = AggregateBuilder(self.histogram.m)
            hist, step = self.histogram, function_batch_rows(self.histogram.m)
            for start in range(0, hist.distinct, step):
                rows = slice(start, start + step)
                builder.add(hist.counts[rows], {name: values[rows] for name, values in self.measures.items()},
                            keys_texts(hist.keys[rows], hist.m))
            self._aggregates = builder.finish({name: values.dtype for name, values in self.measures.items()})
        return self._aggregates

    def leading_rows(self, limit, names=()):
        """The ``limit`` most frequent functions: text forms (bytes), counts and the named measures, in table order."""
        rows = slice(0, limit)
        return (keys_texts(self.histogram.keys[rows], self.histogram.m)(limit), self.histogram.counts[rows],
                {name: self.measures[name][rows] for name in names})

    def leading_keys(self, limit):
        """Packed keys and counts of the ``limit`` most frequent functions, in table order."""
        return self.histogram.keys[:limit], self.histogram.counts[:limit]

    def to_frame(self, limit=None):
        """The functions table as a pandas DataFrame (``limit``: first rows only)."""
        import pandas as pd

        rows = slice(None, limit)
        data = {"function": self.histogram.texts(rows), "count": self.histogram.counts[rows]}
        data.update({name: values[rows] for name, values in self.measures.items()})
        return pd.DataFrame(data)

    def describe(self):
        """Manifest dictionary for this run."""
        return run_description(self.config, self.encoding, self.graph, self.histogram.samples,
                               self.histogram.distinct, list(self.measures), self.elapsed, self.manifest)

    def save(self, out, force=False, plots=True):
        """Write the run directory (functions table, plots, then the manifest)."""
        out = prepare_directory(out, force=force)
        files = {FUNCTIONS: write_functions(out, self.histogram, self.measures),
                 AGGREGATES: write_aggregates(out, self.aggregates)}
        written = []
        if plots:
            from .plots import plot_run

            written = plot_run(self, out)
        write_manifest(out, {**self.describe(), "files": files, "plots": [path.name for path in written]})
        return out


def sample(config=None, *, threads=None, progress=None, memory=None, measures=(), **params):
    """Sample random functions from a prior and count them, in memory.

    The whole histogram is held in memory; for runs whose distinct
    functions may not fit, use :func:`pysimbias.sample_to_directory`, which
    spills to disk and can resume after a crash.

    Parameters
    ----------
    config : SampleConfig, optional
        A full configuration; keyword ``params`` override its fields (see
        :class:`~pysimbias.config.SampleConfig` for names and defaults).
    threads : int, optional
        Numba threads to use (the result does not depend on it).
    progress : callable, optional
        Called with the number of samples done after each chunk.
    memory : int or str, optional
        Memory budget (bytes, or text such as ``"8G"`` or ``"50%"``; default
        half of physical memory).  A run whose table of distinct functions
        would outgrow it stops with InvalidParameterError.
    measures : sequence of str or str, optional
        Measures to compute besides the default ones (e.g. ``["sop"]``, or
        ``"sop"``); see :func:`pysimbias.measures.run_measures`.

    Returns
    -------
    Run

    Examples
    --------
    >>> run = sample(prior="perceptron", bias=False, n=5, samples=10_000, seed=1)
    >>> run.histogram.samples
    10000
    """
    return prepare(config, **params).run(threads=threads, progress=progress, memory=memory, measures=measures)


def posterior(config=None, *, threads=None, progress=None, memory=None, **params):
    """Sample the posterior P(f|S) of a prior exactly, in memory: :func:`sample` with ``task="posterior"``.

    Takes :func:`sample`'s arguments plus ``target`` (an m-character 0/1
    string or a name such as ``"parity"``), ``train`` (K, or
    ``"file:PATH"``) and ``train_seed``.  The run draws ``samples``
    functions and keeps those that agree with the target on the training
    set: exactly the rows of ``sample(...)`` with the same config and seed
    that agree on S.

    Examples
    --------
    >>> run = posterior(prior="perceptron", n=5, samples=10_000, seed=1, target="x1", train=6)
    >>> run.drawn, run.accepted > 0
    (10000, True)
    """
    return sample(config, threads=threads, progress=progress, memory=memory, **{**params, "task": "posterior"})


def train(config=None, *, threads=None, progress=None, memory=None, **params):
    """Train networks of the ``mlp`` prior on a training set and count the functions of those that fit.

    :func:`sample` with ``task="train"``: ``samples`` is the number of runs,
    and ``target``, ``train``, ``train_seed``, ``optimizer``, ``lr``,
    ``momentum``, ``batch_size``, ``loss``, ``max_epochs`` and
    ``epochs_after_fit`` are the task's parameters (see
    :mod:`pysimbias.learning.training`).  The run's manifest holds the fit
    rate and the epochs-to-fit distribution under ``training``.

    Examples
    --------
    >>> run = train(target="0011" * 32, train=32, samples=100, seed=1)   # doctest: +SKIP
    >>> run.manifest["training"]["fit_rate"]                            # doctest: +SKIP
    1.0
    """
    return sample(config, threads=threads, progress=progress, memory=memory, **{"task": "train", **params})


@dataclass
class Sampler:
    """A checked run, ready to sample: its config with the encoding, graph and prior built.

    Made by :func:`prepare`, so that every parameter (files, modules and
    reference runs included) is checked before any sampling starts.
    """

    config: SampleConfig
    encoding: object
    graph: object
    prior: object

    def run(self, threads=None, progress=None, memory=None, measures=()):
        """Sample and count in memory; see :func:`sample`."""
        threads = check_threads(threads)
        requested = tuple(run_measures(MeasureContext.for_encoding(self.encoding, self.graph), measures))
        check_callback("progress", progress)
        budget = parse_memory(memory)
        config, prior = self.config, self.prior
        plan = plan_run(config, self.encoding, prior, threads, budget)
        started = datetime.now(timezone.utc)
        clock = time.perf_counter()
        tallied = hasattr(prior, "sample_tallied")
        tally = np.zeros(prior.tally_length, dtype=np.int64) if tallied else None
        with thread_limit(threads):
            histogram = count_functions(prior, config.samples, config.seed, progress, max_rows=plan.table_rows,
                                        tally=tally)
        elapsed = time.perf_counter() - clock
        extra = {"versions": package_versions(), "threads": threads,
                 "started": started.isoformat(timespec="seconds"),
                 "memory": {"budget_bytes": budget, "peak_rss_bytes": peak_rss()},
                 "prior": prior.describe(), **task_description(prior),
                 **(prior.summarize(tally) if tallied else {})}
        if self.encoding.vertices is not None and histogram.samples:
            extra["walsh_spectrum"] = walsh_spectrum(histogram.keys, histogram.counts, self.encoding.vertices,
                                                     self.encoding.n)
        return Run(config, histogram, elapsed, extra, _requested=requested, _encoding=self.encoding,
                   _graph=self.graph)


def task_description(prior):
    """The manifest's ``task`` entry of a sampled prior whose task describes itself (else nothing)."""
    describe_task = getattr(prior, "describe_task", None)
    return {} if describe_task is None else {"task": describe_task()}


def prepare(config=None, **params):
    """Check a configuration and build its encoding, graph and prior.

    Takes the same ``config`` and ``params`` as :func:`sample`; raises
    :class:`~pysimbias.errors.InvalidParameterError` for anything wrong.

    Returns
    -------
    Sampler
    """
    config = validated_config(config, params)
    check_samples(config.samples)
    encoding = make_encoding(config.encoding, config.n)
    graph = make_graph(config.graph, encoding)
    return Sampler(config, encoding, graph, sampled_prior(config, encoding))


_KEPT_ENTRIES = ("versions", "threads", "started", "memory", "prior", "task", "training", "walsh_spectrum")


def _check_path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterError("path", f"must be a path to a run directory, got {path!r}")


def _config_and_elapsed(path, manifest):
    try:
        config = SampleConfig.from_dict(manifest["config"]).validated()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RunDirectoryError(f"{path}/manifest.json has an invalid config ({exc})") from None
    elapsed = manifest.get("elapsed_seconds", 0.0)
    if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)):
        raise RunDirectoryError(f"{path}/manifest.json has an invalid elapsed_seconds entry")
    return config, float(elapsed)


def load_run(path):
    """Load a run directory written by :meth:`Run.save` (checks its checksum); holds the whole table in memory.

    :func:`open_run` reads what ``plot``, ``show`` and ``compare`` need without the table.
    """
    _check_path(path)
    manifest, histogram, table = read_histogram(path)
    config, elapsed = _config_and_elapsed(path, manifest)
    measures = {name: table.column(name).to_numpy() for name in table.column_names[2:]}
    extra = {k: v for k, v in manifest.items() if k in _KEPT_ENTRIES}
    return Run(config, histogram, elapsed, extra, measures)


@dataclass
class StoredRun:
    """A finished run in a directory, read without its table: config, manifest and aggregates.

    Stands in for :class:`Run` wherever only the run's summaries are
    needed (plots, ``show``, ``compare``); memory does not grow with the
    number of distinct functions.

    Attributes
    ----------
    path : pathlib.Path
    config : SampleConfig
    manifest : dict
    aggregates : Aggregates
    elapsed : float
    rebuilt : bool
        Whether the aggregates were rebuilt from the table (no or a damaged ``aggregates.npz``).
    """

    path: object
    config: SampleConfig
    manifest: dict
    aggregates: object
    elapsed: float = 0.0
    rebuilt: bool = False
    _encoding: object = field(default=None, repr=False)
    _graph: object = field(default=None, repr=False)

    encoding = Run.encoding
    graph = Run.graph
    drawn = Run.drawn
    measure_context = Run.measure_context

    @property
    def accepted(self):
        """Number of draws the run's task kept (the table's total count)."""
        return self.aggregates.samples

    def leading_rows(self, limit, names=()):
        """The ``limit`` most frequent functions: text forms (bytes), counts and the named measures, in table order.

        Read from the table one row batch at a time, only the columns asked for.
        """
        import pyarrow.parquet as pq

        m, kept, names = self.aggregates.m, 0, list(names)
        blocks = {"function": [np.zeros(0, dtype=f"S{m}")], "count": [np.zeros(0, dtype=np.int64)]}
        blocks.update({name: [self.aggregates.top_measures[name][:0]] for name in names})
        source = pq.ParquetFile(self.path / FUNCTIONS)
        for batch in source.iter_batches(batch_size=max(1, min(limit, function_batch_rows(m))),
                                         columns=["function", "count", *names]):
            if kept >= limit:
                break
            take = min(limit - kept, batch.num_rows)
            blocks["function"].append(text_column_bytes(batch.column(0).slice(0, take), m))
            for name in ["count", *names]:
                blocks[name].append(batch.column(name).to_numpy()[:take])
            kept += take
        columns = {name: np.concatenate(parts) for name, parts in blocks.items()}
        return columns.pop("function"), columns.pop("count"), columns

    def leading_keys(self, limit):
        """Packed keys and counts of the ``limit`` most frequent functions, read and packed one row batch at a time."""
        import pyarrow.parquet as pq

        m, kept = self.aggregates.m, 0
        keys, counts = [np.zeros((0, n_words(m)), dtype=np.uint64)], [np.zeros(0, dtype=np.int64)]
        source = pq.ParquetFile(self.path / FUNCTIONS)
        for batch in source.iter_batches(batch_size=max(1, min(limit, function_batch_rows(m))),
                                         columns=["function", "count"]):
            if kept >= limit:
                break
            take = min(limit - kept, batch.num_rows)
            keys.append(pack_bits(text_column_bytes(batch.column(0).slice(0, take), m).view(np.uint8)
                                  .reshape(take, m) == ord("1")))
            counts.append(batch.column(1).to_numpy()[:take])
            kept += take
        return np.concatenate(keys), np.concatenate(counts)


def open_run(path):
    """Open a run directory for summaries, plots and comparisons without loading its table.

    Checks the manifest's own checksum and the table's (reading it as a
    stream) and reads ``aggregates.npz`` (rebuilding it from the table,
    batch by batch, for runs written without one or with a damaged one).

    Returns
    -------
    StoredRun
    """
    _check_path(path)
    path = Path(path)
    manifest = read_manifest(path)
    config, elapsed = _config_and_elapsed(path, manifest)
    aggregates, rebuilt = read_aggregates(path, manifest)
    return StoredRun(path, config, {k: v for k, v in manifest.items() if k in _KEPT_ENTRIES}, aggregates, elapsed,
                     rebuilt)
