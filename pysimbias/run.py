"""The Python API: sample a prior, measure its functions, save and load runs."""

import platform
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata

import numpy as np

from . import __version__
from .config import SampleConfig
from .encodings import make_encoding
from .engine import CHUNK_SIZE, count_functions, thread_limit
from .errors import InvalidParameterError, RunDirectoryError
from .graphs import make_graph
from .histogram import Histogram
from .measures import MeasureContext, compute_measures
from .priors import make_prior
from .runio import (FUNCTIONS, prepare_directory, read_functions, read_manifest, write_functions,
                    write_manifest)

__all__ = ["Run", "Sampler", "sample", "prepare", "load_run"]

_VERSIONED = ("numpy", "numba", "pyarrow", "matplotlib", "scikit-learn", "lempel-ziv-complexity", "click")


def _versions():
    versions = {"pysimbias": __version__, "python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


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
        what the prior resolved its parameters to).
    """

    config: SampleConfig
    histogram: Histogram
    elapsed: float = 0.0
    manifest: dict = field(default_factory=dict)
    _measures: dict = field(default=None, repr=False)
    _encoding: object = field(default=None, repr=False)
    _graph: object = field(default=None, repr=False)

    @property
    def encoding(self):
        """The :class:`~pysimbias.encodings.Encoding` the run was sampled on."""
        if self._encoding is None:
            self._encoding = make_encoding(self.config.encoding, self.config.n)
        return self._encoding

    @property
    def graph(self):
        """The neighbour :class:`~pysimbias.graphs.Graph` of the continuity-aware measures."""
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
            self._measures = compute_measures(self.histogram.keys, self.measure_context())
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
        return {
            "config": self.config.to_dict(),
            "seed": self.config.seed,
            "samples": self.histogram.samples,
            "distinct": self.histogram.distinct,
            "chunk_size": CHUNK_SIZE,
            "encoding": self.encoding.describe(),
            "graph": self.graph.describe(),
            "measures": list(self.measures),
            "elapsed_seconds": round(self.elapsed, 3),
            **self.manifest,
        }

    def save(self, out, force=False, plots=True):
        """Write the run directory (functions table, plots, then the manifest)."""
        out = prepare_directory(out, force=force)
        digest = write_functions(out, self.histogram, self.measures)
        if plots:
            from .plots import plot_run

            plot_run(self, out)
        write_manifest(out, {**self.describe(), "files": {FUNCTIONS: digest}})
        return out


def sample(config=None, *, threads=None, progress=None, **params):
    """Sample random functions from a prior and count them.

    Parameters
    ----------
    config : SampleConfig, optional
        A full configuration; keyword ``params`` override its fields (see
        :class:`~pysimbias.config.SampleConfig` for names and defaults).
    threads : int, optional
        Numba threads to use (the result does not depend on it).
    progress : callable, optional
        Called with the number of samples done after each chunk.

    Returns
    -------
    Run

    Examples
    --------
    >>> run = sample(prior="perceptron", bias=False, n=5, samples=10_000, seed=1)
    >>> run.histogram.samples
    10000
    """
    if threads is not None and (isinstance(threads, bool) or not 1 <= int(threads) <= 1024):
        raise InvalidParameterError("threads", f"must be a positive integer, got {threads!r}")
    return prepare(config, **params).run(threads=threads, progress=progress)


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

    def run(self, threads=None, progress=None):
        """Sample and count; see :func:`sample`."""
        started = datetime.now(timezone.utc)
        clock = time.perf_counter()
        with thread_limit(threads):
            histogram = count_functions(self.prior, self.config.samples, self.config.seed, progress)
        elapsed = time.perf_counter() - clock
        extra = {"versions": _versions(), "threads": threads, "started": started.isoformat(timespec="seconds"),
                 "prior": self.prior.describe()}
        return Run(self.config, histogram, elapsed, extra, _encoding=self.encoding, _graph=self.graph)


def prepare(config=None, **params):
    """Check a configuration and build its encoding, graph and prior.

    Takes the same ``config`` and ``params`` as :func:`sample`; raises
    :class:`~pysimbias.errors.InvalidParameterError` for anything wrong.

    Returns
    -------
    Sampler
    """
    config = (config or SampleConfig())
    try:
        config = SampleConfig(**{**config.to_dict(), **params}).validated()
    except TypeError as exc:
        raise InvalidParameterError("params", str(exc)) from None
    encoding = make_encoding(config.encoding, config.n)
    graph = make_graph(config.graph, encoding)
    return Sampler(config, encoding, graph, make_prior(config, encoding))


def load_run(path):
    """Load a run directory written by :meth:`Run.save` (checks its checksum)."""
    manifest = read_manifest(path)
    try:
        config = SampleConfig.from_dict(manifest["config"]).validated()
    except (KeyError, TypeError, InvalidParameterError) as exc:
        raise RunDirectoryError(f"{path}/manifest.json has an invalid config ({exc})") from None
    keys, table = read_functions(path, manifest)
    histogram = Histogram(keys, table.column("count").to_numpy(), manifest["encoding"]["m"])
    measures = {name: table.column(name).to_numpy() for name in table.column_names[2:]}
    order_ok = np.array_equal(histogram.counts, table.column("count").to_numpy())
    if not order_ok:
        raise RunDirectoryError(f"{path}/{FUNCTIONS} is not in canonical order")
    extra = {k: v for k, v in manifest.items() if k in ("versions", "threads", "started", "prior")}
    return Run(config, histogram, manifest.get("elapsed_seconds", 0.0), extra, measures)
