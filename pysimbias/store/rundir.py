"""The run directory, the data contract between a run and everything after it.

``DIR/functions.parquet``
    One row per distinct function, sorted by count (descending) then text:
    ``function`` (the '0'/'1' text), ``count`` (int64), one column per measure.
``DIR/manifest.json``
    The config, seed, sample and distinct counts (``samples`` is the number
    drawn; a task that keeps only some draws adds ``accepted`` and a ``task``
    entry, see :mod:`pysimbias.learning.posterior`), versions, timings, the
    SHA-256 of ``functions.parquet`` and the SHA-256 of the manifest itself
    (``manifest_sha256``, over its other fields), so an edited manifest is
    caught.  It is written last: a directory without it holds no finished run.
``DIR/aggregates.npz``
    Bounded summaries of the table (rank runs, (count, value) cells of every
    measure, the most frequent functions; see
    :mod:`pysimbias.store.aggregates`), written with the table; its SHA-256
    is in the manifest.  Runs written before it existed have none: readers
    rebuild it from the table, batch by batch.
``DIR/*.png``
    Plots (see :mod:`pysimbias.plots`).
``DIR/chunks/``
    Only while a run is unfinished: its progress (see
    :mod:`pysimbias.store.checkpoint`); removed once the manifest is written.

Every file is written to a temporary name and renamed into place, so a crash
never leaves a half-written file under a final name.
"""

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import RunDirectoryError
from .aggregates import AGGREGATES, aggregates_from_table, read_aggregates_file
from .background import InOrder
from ..histogram import Histogram
from ..kernels.bits import keys_to_text, pack_bits

__all__ = [
    "read_histogram",
    "MANIFEST",
    "FUNCTIONS",
    "PROGRESS",
    "FORMAT",
    "function_batch_rows",
    "prepare_directory",
    "write_functions",
    "write_function_batches",
    "write_manifest",
    "write_aggregates",
    "read_aggregates",
    "read_manifest",
    "read_functions",
    "text_column_bytes",
    "atomic_write_bytes",
    "file_sha256",
]

MANIFEST = "manifest.json"
FUNCTIONS = "functions.parquet"
FORMAT = "pysimbias-run"
PROGRESS = "chunks"
FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)
_ROW_BATCH = 1 << 18
_BATCH_TEXT_BYTES = 1 << 25
_SELF_SUM = "manifest_sha256"


def function_batch_rows(m):
    """Rows per record batch of ``functions.parquet`` for ``m``-bit functions.

    2**18 rows, fewer for long functions so that a batch's text column stays
    within 32 MiB (and its 32-bit string offsets never overflow).
    """
    return int(min(_ROW_BATCH, max(1, _BATCH_TEXT_BYTES // int(m))))


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def file_sha256(path):
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare_directory(out, force=False):
    """Create ``out``, refusing a non-empty one unless ``force``.

    With ``force`` the old manifest and any unfinished run's progress are
    removed first, so the directory never claims to hold a finished run
    while its files are being replaced.
    """
    out = Path(out)
    try:
        if out.exists() and not out.is_dir():
            raise RunDirectoryError(f"{out} exists and is not a directory; choose another --out")
        if out.is_dir() and any(out.iterdir()):
            if not force:
                raise RunDirectoryError(
                    f"{out} already exists and is not empty; choose another --out or pass --force to overwrite"
                )
            (out / MANIFEST).unlink(missing_ok=True)
            if (out / PROGRESS).is_dir():
                shutil.rmtree(out / PROGRESS)
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirectoryError(f"cannot prepare {out}: {exc.strerror or exc}; choose another --out") from None
    return out


def write_functions(out, histogram, measures):
    """Write ``functions.parquet`` (in row batches, to bound memory); return its SHA-256."""
    step = function_batch_rows(histogram.m)

    def batches():
        for start in range(0, max(histogram.distinct, 1), step):
            rows = slice(start, start + step)
            yield histogram.keys[rows], histogram.counts[rows], {k: np.asarray(v)[rows] for k, v in measures.items()}

    return write_function_batches(out, histogram.m, batches())


class _HashedFile:
    """A new binary file that keeps the SHA-256 of the bytes written to it, for a pyarrow writer.

    The checksum is ready when the file is, without reading the file again.
    """

    def __init__(self, path):
        self._file = open(path, "wb")
        self._digest = hashlib.sha256()
        self._written = 0

    def write(self, data):
        view = memoryview(data).cast("B")
        self._digest.update(view)
        self._written += view.nbytes
        return self._file.write(view)

    def tell(self):
        return self._written

    def flush(self):
        self._file.flush()

    def close(self):
        self._file.close()

    @property
    def closed(self):
        return self._file.closed

    def hexdigest(self):
        """Hex SHA-256 of everything written."""
        return self._digest.hexdigest()


def write_function_batches(out, m, batches):
    """Write ``functions.parquet`` from a stream of row batches; return its SHA-256.

    Parameters
    ----------
    out : path-like
        The run directory.
    m : int
        Bits per function.
    batches : iterable of (keys, counts, measures)
        Rows in the table's order, ``function_batch_rows(m)`` per batch (the
        last may be shorter); ``measures`` maps column names to arrays.  The
        first batch fixes the columns; there must be at least one batch.
    """
    path = Path(out) / FUNCTIONS
    tmp = path.with_name(f".{path.name}.tmp")
    writer = None
    sink = _HashedFile(tmp)
    try:
        # The text column and the Parquet encoding of a batch run on a thread
        # of their own while the caller computes the next batch.
        with InOrder("parquet") as background:
            for keys, counts, measures in batches:
                if writer is None:
                    names = list(measures)
                    schema = pa.schema(
                        [("function", pa.string()), ("count", pa.int64())]
                        + [(name, pa.from_numpy_dtype(np.asarray(measures[name]).dtype)) for name in names]
                    )
                    # lz4: 1.6x zstd's write speed at 1.8x its size (benchmarks/bench_write.py, docs/performance.md).
                    # The function column holds distinct m-character strings: a dictionary would never pay off,
                    # and its min/max statistics would only be compared strings; 7% faster without either.
                    small = _numeric_columns(schema)
                    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="lz4",
                                              use_dictionary=small, write_statistics=small)
                background.submit(_write_batch, writer, schema, m, keys, counts, [measures[name] for name in names])
    except BaseException:
        if writer is not None:
            writer.close()
        sink.close()
        tmp.unlink(missing_ok=True)
        raise
    if writer is None:
        sink.close()
        tmp.unlink(missing_ok=True)
        raise ValueError("write_function_batches needs at least one batch")
    writer.close()
    sink.close()
    os.replace(tmp, path)
    return sink.hexdigest()


def _numeric_columns(schema):
    """The columns of ``functions.parquet`` other than ``function``: the count and the measures."""
    return [name for name in schema.names if name != "function"]


def _write_batch(writer, schema, m, keys, counts, measures):
    """Write one record batch of ``functions.parquet``: the text column, the counts, the measure columns."""
    columns = [_text_column(keys, m), pa.array(np.asarray(counts, dtype=np.int64))]
    columns += [pa.array(np.asarray(values)) for values in measures]
    writer.write_batch(pa.record_batch(columns, schema=schema))


def write_aggregates(out, aggregates):
    """Write ``aggregates.npz`` (an :class:`~pysimbias.store.aggregates.Aggregates`); return its SHA-256."""
    path = Path(out) / AGGREGATES
    atomic_write_bytes(path, aggregates.to_bytes())
    return file_sha256(path)


def read_aggregates(out, manifest):
    """A finished run's :class:`~pysimbias.store.aggregates.Aggregates`, without loading its table.

    Checks ``functions.parquet`` against its checksum first (a stream: a
    run with a damaged table is never presented as intact), then reads
    ``aggregates.npz`` when the manifest holds its checksum and the file
    matches it; otherwise (a run written before the file existed, or a
    missing or damaged file) rebuilds the aggregates from the table one
    batch of rows at a time.

    Returns
    -------
    aggregates : Aggregates
    rebuilt : bool
        Whether they were rebuilt from the table.
    """
    out = Path(out)
    table, m = _checked_table(out, manifest)
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    path = out / AGGREGATES
    try:
        stored = files.get(AGGREGATES) is not None and path.is_file() and file_sha256(path) == files[AGGREGATES]
    except OSError:
        stored = False
    if stored:
        return read_aggregates_file(path), False
    try:
        return aggregates_from_table(table, m, function_batch_rows(m)), True
    except (pa.ArrowException, OSError) as exc:
        raise RunDirectoryError(f"{table} cannot be read: {exc}") from None


def _self_sum(manifest):
    body = {k: v for k, v in manifest.items() if k != _SELF_SUM}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def write_manifest(out, manifest):
    """Write ``manifest.json`` last, atomically, with its own checksum."""
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, **manifest}
    manifest[_SELF_SUM] = _self_sum(manifest)
    atomic_write_bytes(Path(out) / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())


def read_manifest(out):
    """Read and check a run directory's manifest."""
    out = Path(out)
    if not out.is_dir():
        raise RunDirectoryError(f"{out} is not a directory")
    path = out / MANIFEST
    if not path.exists():
        if (out / PROGRESS).is_dir():
            raise RunDirectoryError(f"{out} holds an unfinished run (no {MANIFEST} yet); continue it with "
                                    f"'pysimbias sample ... --out {out} --resume' and the same settings")
        raise RunDirectoryError(f"{out} holds no finished run (no {MANIFEST}); run 'pysimbias sample --out {out}' first")
    try:
        manifest = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirectoryError(f"{path} is damaged ({exc.__class__.__name__}: {exc}); rerun the sample") from None
    except OSError as exc:
        raise RunDirectoryError(f"{path} cannot be read ({exc.strerror or exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RunDirectoryError(f"{path} is not a pysimbias run manifest")
    version = manifest.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version not in _READABLE_VERSIONS:
        raise RunDirectoryError(f"{path} has format version {version!r}; "
                                f"this pysimbias reads versions {', '.join(map(str, _READABLE_VERSIONS))}")
    if manifest["format_version"] >= 2 and manifest.get(_SELF_SUM) != _self_sum(manifest):
        raise RunDirectoryError(f"{path} does not match its own checksum ({_SELF_SUM}): it was edited or damaged")
    return manifest


def read_functions(out, manifest):
    """Read ``functions.parquet`` after checking it against the manifest's checksum.

    Returns
    -------
    keys : ndarray of uint64, shape (D, W)
    table : pyarrow.Table
    """
    path, m = _checked_table(out, manifest)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise RunDirectoryError(f"{path} cannot be read: {exc}") from None
    if table.column_names[:2] != ["function", "count"]:
        raise RunDirectoryError(f"{path} does not start with the columns 'function' and 'count'")
    keys = _keys_from_text_column(table.column("function"), m, path)
    return keys, table


def _checked_table(out, manifest):
    """The path of ``functions.parquet`` once it matches the manifest's checksum, and m."""
    path = Path(out) / FUNCTIONS
    if not path.is_file():
        raise RunDirectoryError(f"{path} is missing")
    files = manifest.get("files")
    try:
        m = int(manifest["encoding"]["m"])
        actual = file_sha256(path)
    except (KeyError, TypeError, ValueError):
        raise RunDirectoryError(f"{Path(out) / MANIFEST} has no valid encoding entry") from None
    except OSError as exc:
        raise RunDirectoryError(f"{path} cannot be read ({exc.strerror or exc})") from None
    if not isinstance(files, dict) or files.get(FUNCTIONS) != actual:
        raise RunDirectoryError(f"{path} does not match its checksum in {MANIFEST} (damaged or edited)")
    return path, m


def read_histogram(out):
    """Read a finished run: its manifest, histogram and functions table, checksums checked.

    Returns
    -------
    manifest : dict
    histogram : Histogram
    table : pyarrow.Table
        ``functions.parquet`` (rows in the histogram's order).
    """
    manifest = read_manifest(out)
    keys, table = read_functions(out, manifest)
    counts = table.column("count").to_numpy()
    histogram = Histogram(keys, counts, manifest["encoding"]["m"])
    if not np.array_equal(histogram.counts, counts):
        raise RunDirectoryError(f"{Path(out) / FUNCTIONS} is not in canonical order")
    return manifest, histogram, table


def _text_column(keys, m):
    """Arrow string array of the functions' text forms, built without Python objects."""
    texts = keys_to_text(keys, m)
    offsets = np.arange(texts.shape[0] + 1, dtype=np.int32) * np.int32(m)
    # keys_to_text returns a contiguous array, whose buffer Arrow takes without a copy
    return pa.StringArray.from_buffers(texts.shape[0], pa.py_buffer(offsets), pa.py_buffer(texts))


def text_column_bytes(column, m, path=FUNCTIONS):
    """A (chunked) Arrow column of m-character strings as an array of ``S{m}`` bytes, without Python objects."""
    return _text_chars(column, m, path).view(f"S{int(m)}").ravel()


def _text_chars(column, m, path):
    """The characters of a column of m-character strings, shape (rows, m)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    blocks = [np.zeros((0, m), dtype=np.uint8)]
    for chunk in chunks:
        chunk = chunk.cast(pa.string())
        if chunk.null_count:
            raise RunDirectoryError(f"{path} has empty function entries")
        _, off_buf, data_buf = chunk.buffers()
        offsets = np.frombuffer(off_buf, dtype=np.int32)[chunk.offset:chunk.offset + len(chunk) + 1]
        if np.any(np.diff(offsets) != m):
            raise RunDirectoryError(f"{path} has functions that are not {m} characters long")
        data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0]:offsets[-1]]
        blocks.append(data.reshape(-1, m))
    return np.ascontiguousarray(np.concatenate(blocks))


def _keys_from_text_column(column, m, path):
    """Pack a column of m-character '0'/'1' strings back into keys."""
    chars = _text_chars(column, m, path)
    if not np.all((chars == ord("0")) | (chars == ord("1"))):
        raise RunDirectoryError(f"{path} has functions with characters other than '0' and '1'")
    return pack_bits(chars == ord("1"))
