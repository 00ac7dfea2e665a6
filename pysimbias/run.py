"""The Python API: sample a prior, measure its functions, save and load runs."""

import os
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata

import numba

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
from .store.rundir import (FUNCTIONS, function_batch_rows, prepare_directory, read_histogram, write_functions,
                           write_manifest)

__all__ = ["Run", "Sampler", "sample", "prepare", "load_run", "validated_config", "check_callback",
           "check_sampler", "plan_run", "run_description", "package_versions"]

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


def run_description(config, encoding, graph, samples, distinct, measures, elapsed, extra):
    """The manifest entries of a run (everything but the file checksums).

    Parameters
    ----------
    config : SampleConfig
    encoding : Encoding
    graph : Graph
        The neighbour graph of the continuity-aware measures.
    samples, distinct : int
    measures : list of str
        Names of the measure columns.
    elapsed : float
        Seconds spent sampling and counting.
    extra : dict
        Further entries (versions, threads, memory, ...).
    """
    return {
        "config": config.to_dict(),
        "seed": config.seed,
        "samples": int(samples),
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

    def measure_context(self):
        """The :class:`~pysimbias.measures.MeasureContext` of this run's functions."""
        return MeasureContext.for_encoding(self.encoding, self.graph)

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
        with thread_limit(threads):
            histogram = count_functions(prior, config.samples, config.seed, progress, max_rows=plan.table_rows)
        elapsed = time.perf_counter() - clock
        extra = {"versions": package_versions(), "threads": threads,
                 "started": started.isoformat(timespec="seconds"),
                 "memory": {"budget_bytes": budget, "peak_rss_bytes": peak_rss()},
                 "prior": prior.describe()}
        if self.encoding.vertices is not None:
            extra["walsh_spectrum"] = walsh_spectrum(histogram.keys, histogram.counts, self.encoding.vertices,
                                                     self.encoding.n)
        return Run(config, histogram, elapsed, extra, _requested=requested, _encoding=self.encoding,
                   _graph=self.graph)


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
    extra = {k: v for k, v in manifest.items()
             if k in ("versions", "threads", "started", "memory", "prior", "walsh_spectrum")}
    return Run(config, histogram, float(elapsed), extra, measures)
