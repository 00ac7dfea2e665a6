"""Bounded summaries of a run's functions table, accumulated while the table is written.

``DIR/aggregates.npz`` holds everything that ``plot``, ``show`` and
``compare`` draw from, in space that does not grow with the number of
distinct functions:

- the **rank runs**: the table is sorted by count, so its counts are a
  run-length list (count, number of functions with that count);
- for every measure, the **cells** of a 2-D histogram of (count, value):
  exact counts up to :data:`EXACT_COUNTS`, then :data:`BINS_PER_OCTAVE` log
  bins per doubling; each cell holds the number of functions and their
  total count (the probability mass, in samples).  Summed over counts they
  give the measure's weighted and unweighted distributions exactly (measure
  values are not binned: every measure takes few distinct values);
- the :data:`TOP` most frequent functions with their counts and measures.

The Walsh spectrum stays in the manifest.  :class:`AggregateBuilder` takes the
table's row batches in order; :func:`aggregates_from_table` rebuilds the
same aggregates from a table, batch by batch (older runs have no file).
"""

import io
import zipfile
from dataclasses import dataclass

import numpy as np

from ..errors import RunDirectoryError
from ..kernels.bits import keys_to_text

__all__ = ["AGGREGATES", "EXACT_COUNTS", "BINS_PER_OCTAVE", "TOP", "Aggregates", "AggregateBuilder",
           "count_cells", "keys_texts", "aggregates_from_table", "read_aggregates_file"]

AGGREGATES = "aggregates.npz"
#: counts up to this are cells of their own; larger ones share log bins
EXACT_COUNTS = 1024
#: log bins per doubling of the count above EXACT_COUNTS
BINS_PER_OCTAVE = 16
#: most frequent functions kept with their measures
TOP = 64
_VERSION = 1


def count_cells(counts):
    """The count cell of every count: the count itself up to :data:`EXACT_COUNTS`, else a log bin after them.

    Cells grow with the count, so a table sorted by count has its cells sorted too.
    """
    counts = np.asarray(counts, dtype=np.int64)
    cells = counts.copy()
    big = counts > EXACT_COUNTS
    cells[big] = EXACT_COUNTS + 1 + np.floor(np.log2(counts[big] / EXACT_COUNTS) * BINS_PER_OCTAVE).astype(np.int64)
    return cells


@dataclass(frozen=True, eq=False)
class Aggregates:
    """A run's bounded summaries (see the module docstring).

    Attributes
    ----------
    m : int
        Bits per function.
    names : list of str
        The measure columns, in table order.
    run_counts, run_functions : ndarray of int64
        The rank runs: distinct counts (descending) and how many functions have each.
    cells : dict of str to dict of ndarray
        Per measure: ``cell``, ``value``, ``functions``, ``mass`` (one entry per
        occupied (count cell, value) pair, sorted by cell then value).
    top_functions : ndarray of bytes
        The text forms of the most frequent functions, in table order.
    top_counts : ndarray of int64
    top_measures : dict of str to ndarray
    """

    m: int
    names: list
    run_counts: np.ndarray
    run_functions: np.ndarray
    cells: dict
    top_functions: np.ndarray
    top_counts: np.ndarray
    top_measures: dict

    @property
    def samples(self):
        """Total count of the table."""
        return int(np.dot(self.run_counts, self.run_functions))

    @property
    def distinct(self):
        """Number of rows of the table."""
        return int(self.run_functions.sum())

    def distribution(self, name):
        """A measure's distinct values with the mass (total count) and the number of functions at each.

        Returns
        -------
        values : ndarray (sorted), mass : ndarray of int64, functions : ndarray of int64
        """
        cells = self.cells[name]
        values, inverse = np.unique(cells["value"], return_inverse=True)
        mass = np.bincount(inverse, weights=cells["mass"], minlength=values.shape[0])
        functions = np.bincount(inverse, weights=cells["functions"], minlength=values.shape[0])
        return values, np.rint(mass).astype(np.int64), np.rint(functions).astype(np.int64)

    def count_value_cells(self, name):
        """The (value, count) cells of a measure: value, mean count of its functions, number of functions."""
        cells = self.cells[name]
        return cells["value"], cells["mass"] / cells["functions"], cells["functions"]

    def weighted_mean(self, name):
        """Probability-weighted mean of a measure (None for an empty table)."""
        values, mass, _ = self.distribution(name)
        return float(np.average(values, weights=mass)) if mass.sum() else None

    def to_bytes(self):
        """The ``aggregates.npz`` file's bytes."""
        arrays = {"version": np.array(_VERSION), "m": np.array(self.m), "names": np.array(self.names, dtype=str),
                  "run_counts": self.run_counts, "run_functions": self.run_functions,
                  "top_functions": self.top_functions, "top_counts": self.top_counts}
        for k, name in enumerate(self.names):
            arrays.update({f"cells{k}_{field}": self.cells[name][field] for field in ("cell", "value", "functions",
                                                                                     "mass")})
            arrays[f"top{k}"] = self.top_measures[name]
        buffer = io.BytesIO()
        # np.savez stamps each member with the time: a fixed stamp makes the file a function of its content
        with zipfile.ZipFile(buffer, "w") as archive:
            for key, array in arrays.items():
                with archive.open(zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0)), "w") as member:
                    np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data):
        """Read an ``aggregates.npz`` file's bytes (raises ValueError, KeyError or zipfile errors if damaged)."""
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            if int(npz["version"]) != _VERSION:
                raise ValueError(f"version {int(npz['version'])}, expected {_VERSION}")
            names = [str(name) for name in npz["names"]]
            cells = {name: {field: npz[f"cells{k}_{field}"] for field in ("cell", "value", "functions", "mass")}
                     for k, name in enumerate(names)}
            return cls(int(npz["m"]), names, npz["run_counts"], npz["run_functions"], cells, npz["top_functions"],
                       npz["top_counts"], {name: npz[f"top{k}"] for k, name in enumerate(names)})


class AggregateBuilder:
    """Accumulates :class:`Aggregates` from a table's row batches, given in table order.

    Parameters
    ----------
    m : int
        Bits per function.
    """

    def __init__(self, m):
        self.m = int(m)
        self.names = None
        self._runs = []
        self._cells = {}
        self._top = []
        self._top_measures = {}

    def add(self, counts, measures, texts):
        """Add the next batch: counts (non-increasing), measure columns, and a callable giving its first texts.

        ``texts(k)`` returns the text forms (bytes) of the batch's first k
        rows; it is called only while the top functions are not complete.
        """
        counts = np.asarray(counts, dtype=np.int64)
        if self.names is None:
            self.names = list(measures)
            self._cells = {name: {} for name in self.names}
            self._top_measures = {name: [] for name in self.names}
        if not counts.shape[0]:
            return
        kept = sum(len(counts) for _, counts in self._top)
        if kept < TOP:
            wanted = min(TOP - kept, counts.shape[0])
            self._top.append((np.asarray(texts(wanted)), counts[:wanted]))
            for name in self.names:
                self._top_measures[name].append(np.asarray(measures[name])[:wanted])
        self._add_runs(counts)
        cells = count_cells(counts)
        bounds = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1], True])
        for name in self.names:
            table = self._cells[name]
            values = np.asarray(measures[name])
            for start, stop in zip(bounds[:-1], bounds[1:]):
                cell = int(cells[start])
                if cell <= EXACT_COUNTS:  # one count in the cell: a value's mass is its functions times it
                    distinct, functions = np.unique(values[start:stop], return_counts=True)
                    mass = functions * counts[start]
                else:
                    distinct, inverse = np.unique(values[start:stop], return_inverse=True)
                    functions = np.bincount(inverse, minlength=distinct.shape[0])
                    mass = np.bincount(inverse, weights=counts[start:stop], minlength=distinct.shape[0])
                for value, f, w in zip(distinct.tolist(), functions.tolist(), mass.tolist()):
                    entry = table.setdefault((cell, value), [0, 0])
                    entry[0] += f
                    entry[1] += int(round(w))

    def _add_runs(self, counts):
        starts = np.flatnonzero(np.r_[True, counts[1:] != counts[:-1]])
        lengths = np.diff(np.r_[starts, counts.shape[0]])
        for count, length in zip(counts[starts].tolist(), lengths.tolist()):
            if self._runs and self._runs[-1][0] == count:
                self._runs[-1][1] += length
            else:
                self._runs.append([count, length])

    def finish(self, dtypes):
        """The :class:`Aggregates` (``dtypes``: each measure's dtype, for an empty table's columns)."""
        names = self.names if self.names is not None else list(dtypes)
        runs = np.array(self._runs, dtype=np.int64).reshape(-1, 2)
        cells = {}
        for name in names:
            items = sorted(self._cells.get(name, {}).items())
            cells[name] = {
                "cell": np.array([key[0] for key, _ in items], dtype=np.int64),
                "value": np.array([key[1] for key, _ in items], dtype=dtypes[name]),
                "functions": np.array([entry[0] for _, entry in items], dtype=np.int64),
                "mass": np.array([entry[1] for _, entry in items], dtype=np.int64),
            }
        tops = self._top or [(np.zeros(0, dtype=f"S{self.m}"), np.zeros(0, dtype=np.int64))]
        top_measures = {name: np.concatenate(self._top_measures[name]) if self._top else np.zeros(0, dtypes[name])
                        for name in names}
        return Aggregates(self.m, names, runs[:, 0].copy(), runs[:, 1].copy(), cells,
                          np.concatenate([texts for texts, _ in tops]).astype(f"S{self.m}"),
                          np.concatenate([counts for _, counts in tops]), top_measures)


def keys_texts(keys, m):
    """A callable for :meth:`AggregateBuilder.add`: the text forms of the first k of ``keys``."""
    return lambda k: keys_to_text(keys[:k], m)


def aggregates_from_table(path, m, batch_rows):
    """Rebuild a run's :class:`Aggregates` from its ``functions.parquet``, one batch of rows at a time.

    Only the ``count`` and measure columns are read, and the ``function``
    column of the first rows.
    """
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    schema = source.schema_arrow
    names = schema.names[2:]
    builder = AggregateBuilder(m)
    start = 0
    for batch in source.iter_batches(batch_size=batch_rows, columns=["count", *names]):
        columns = {name: batch.column(name).to_numpy() for name in names}
        builder.add(batch.column("count").to_numpy(), columns,
                    lambda k, start=start: _texts_at(source, start, k, m))
        start += batch.num_rows
    return builder.finish({name: schema.field(name).type.to_pandas_dtype() for name in names})


def _texts_at(source, start, k, m):
    """The text forms of rows start to start + k of the table (rows among the first :data:`TOP`)."""
    batch = next(source.iter_batches(batch_size=start + k, columns=["function"]))
    return np.array(batch.column(0).slice(start, k).to_pylist(), dtype=f"S{m}")


def read_aggregates_file(path):
    """Read ``aggregates.npz``; RunDirectoryError if it cannot be read."""
    try:
        return Aggregates.from_bytes(path.read_bytes())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise RunDirectoryError(f"{path} cannot be read ({exc.__class__.__name__}: {exc})") from None
