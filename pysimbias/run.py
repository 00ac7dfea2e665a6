"""The Python API: sample a prior, measure its functions, save and load runs."""

import os
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata

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
from .measures import MeasureContext, compute_measures, run_measures
from .measures.walsh import walsh_spectrum
from .store.memory import current_rss, format_bytes, parse_memory, peak_rss, plan_memory
from .learning import sampled_prior
from .learning.posterior import learning_inputs
from .store.rundir import (FUNCTIONS, function_batch_rows, prepare_directory, read_histogram, write_functions,
                           write_manifest)

__all__ = ["Run", "Sampler", "sample", "posterior", "train", "prepare", "load_run", "validated_config",
           "check_callback", "check_sampler", "plan_run", "run_description", "task_description", "measure_context",
           "package_versions"]

_VERSIONED = ("numpy", "numba", "pyarrow", "matplotlib", "scikit-learn", "lempel-ziv-complexity", "click",
              "distributed")


def package_versions():
    """Versions of Python, pysimbias and the packages a result may depend on."""
    versions = {"pysimbias": __version__, "python": platform.python_version()}
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
        digest = write_functions(out, self.histogram, self.measures)
        if plots:
            from .plots import plot_run

            plot_run(self, out)
        write_manifest(out, {**self.describe(), "files": {FUNCTIONS: digest}})
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


def load_run(path):
    """Load a run directory written by :meth:`Run.save` (checks its checksum)."""
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterError("path", f"must be a path to a run directory, got {path!r}")
    manifest, histogram, table = read_histogram(path)
    try:
        config = SampleConfig.from_dict(manifest["config"]).validated()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RunDirectoryError(f"{path}/manifest.json has an invalid config ({exc})") from None
    elapsed = manifest.get("elapsed_seconds", 0.0)
    if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)):
        raise RunDirectoryError(f"{path}/manifest.json has an invalid elapsed_seconds entry")
    measures = {name: table.column(name).to_numpy() for name in table.column_names[2:]}
    extra = {k: v for k, v in manifest.items() if k in ("versions", "threads", "started", "memory", "prior", "task",
                                                         "training", "walsh_spectrum")}
    return Run(config, histogram, float(elapsed), extra, measures)
