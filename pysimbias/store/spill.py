"""Table files: (key, count) rows on disk, written atomically, read in blocks, checksummed.

Chunk files, segments and the runs of an external sort all use this format::

    b"PYSBTBL1"                        8 bytes, the magic
    header length                      uint64, little-endian
    header                             UTF-8 JSON object, with at least "n_words"
    rows x (W + 1) uint64              each row: the W key words, then the count
    row count                          uint64
    SHA-256 of everything above        32 bytes

A file is written under a temporary name and renamed into place when it is
complete, so a crash leaves either the whole file or none; the checksum
catches damage after that (a truncated copy, a flipped bit, an edit), and
readers raise :class:`DamagedFileError` naming the file.
"""

import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np

from ..errors import RunDirectoryError

__all__ = ["MAGIC", "DamagedFileError", "TableWriter", "TableReader", "write_table"]

MAGIC = b"PYSBTBL1"
_TRAILER = 8 + 32
_MAX_HEADER = 1 << 20


class DamagedFileError(RunDirectoryError):
    """A table file fails its checks.

    Parameters
    ----------
    path : path-like
        The file.
    reason : str
        What is wrong with it.
    """

    def __init__(self, path, reason):
        super().__init__(f"{path} is damaged ({reason})")
        self.path = Path(path)
        self.reason = reason


def _row_dtype(n_words):
    return np.dtype(("<u8", (int(n_words) + 1,)))


class TableWriter:
    """Write a table file row block by row block; it appears at ``path`` on :meth:`commit`.

    Parameters
    ----------
    path : path-like
        Final name of the file.
    n_words : int
        Words per key.
    header : dict
        JSON-serialisable facts stored with the rows (``n_words`` is added).
    durable : bool
        Flush the file to disk (``fsync``) before renaming it into place.

    Examples
    --------
    >>> with TableWriter(path, 2, {"kind": "segment"}) as writer:   # doctest: +SKIP
    ...     writer.write(keys, counts)
    """

    def __init__(self, path, n_words, header, durable=True):
        self.path = Path(path)
        self.n_words = int(n_words)
        self.rows = 0
        self._durable = durable
        self._tmp = self.path.with_name(f".{self.path.name}.tmp")
        self._hash = hashlib.sha256()
        head = json.dumps({**header, "n_words": self.n_words}, sort_keys=True).encode()
        self._fh = open(self._tmp, "wb")
        self._put(MAGIC + struct.pack("<Q", len(head)) + head)

    def _put(self, data):
        self._hash.update(data)
        self._fh.write(data)

    def write(self, keys, counts):
        """Append rows: ``keys`` (r, W) uint64 and ``counts`` (r,) int64."""
        keys = np.asarray(keys, dtype=np.uint64).reshape(-1, self.n_words)
        if not keys.shape[0]:
            return
        block = np.empty((keys.shape[0], self.n_words + 1), dtype="<u8")
        block[:, :-1] = keys
        block[:, -1] = np.asarray(counts, dtype=np.int64)
        self._put(memoryview(block).cast("B"))
        self.rows += keys.shape[0]

    def commit(self):
        """Finish the file and rename it into place; return its path."""
        self._put(struct.pack("<Q", self.rows))
        self._fh.write(self._hash.digest())
        self._fh.flush()
        if self._durable:
            os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self):
        """Drop the unfinished file."""
        self._fh.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.commit()
        else:
            self.abort()
        return False


def write_table(path, n_words, header, blocks, durable=True):
    """Write ``(keys, counts)`` blocks to a table file atomically; return the rows written."""
    with TableWriter(path, n_words, header, durable) as writer:
        for keys, counts in blocks:
            writer.write(keys, counts)
    return writer.rows


class TableReader:
    """Read a table file: its header at once, its rows block by block.

    Parameters
    ----------
    path : path-like

    Raises
    ------
    DamagedFileError
        If the magic, header or size is wrong.  The checksum is checked when
        the rows have been read (:meth:`blocks`, :meth:`verify`).
    """

    def __init__(self, path):
        self.path = Path(path)
        with open(self.path, "rb") as fh:
            start = fh.read(16)
            if len(start) < 16 or start[:8] != MAGIC:
                raise DamagedFileError(self.path, "not a pysimbias table file")
            (length,) = struct.unpack("<Q", start[8:])
            size = os.fstat(fh.fileno()).st_size
            if length > min(_MAX_HEADER, size - 16 - _TRAILER):
                raise DamagedFileError(self.path, "truncated header")
            self._head = start + fh.read(length)
        try:
            self.header = json.loads(self._head[16:].decode())
            self.n_words = int(self.header["n_words"])
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise DamagedFileError(self.path, "unreadable header") from None
        if not isinstance(self.header, dict) or self.n_words < 1:
            raise DamagedFileError(self.path, "unreadable header")
        payload = size - len(self._head) - _TRAILER
        self._dtype = _row_dtype(self.n_words)
        if payload % self._dtype.itemsize:
            raise DamagedFileError(self.path, "truncated")
        self.rows = payload // self._dtype.itemsize

    def blocks(self, block_rows):
        """Yield ``(keys, counts)`` blocks of at most ``block_rows`` rows, then check the checksum."""
        digest = hashlib.sha256(self._head)
        with open(self.path, "rb") as fh:
            fh.seek(len(self._head))
            remaining = self.rows
            while remaining:
                rows = min(int(block_rows), remaining)
                block = np.empty((rows, self.n_words + 1), dtype="<u8")
                if fh.readinto(memoryview(block).cast("B")) != block.nbytes:
                    raise DamagedFileError(self.path, "truncated")
                digest.update(block)
                remaining -= rows
                yield np.ascontiguousarray(block[:, :-1]), block[:, -1].astype(np.int64)
            trailer = fh.read(_TRAILER)
        if len(trailer) != _TRAILER or struct.unpack("<Q", trailer[:8])[0] != self.rows:
            raise DamagedFileError(self.path, "truncated")
        digest.update(trailer[:8])
        if digest.digest() != trailer[8:]:
            raise DamagedFileError(self.path, "checksum mismatch")

    def read(self):
        """All rows at once: ``(keys, counts)``, checksum checked."""
        parts = list(self.blocks(max(self.rows, 1)))
        if not parts:
            return np.zeros((0, self.n_words), dtype=np.uint64), np.zeros(0, dtype=np.int64)
        return parts[0]

    def verify(self, block_rows=1 << 16):
        """Read every row and check the checksum (raises :class:`DamagedFileError`)."""
        for _ in self.blocks(block_rows):
            pass
        return self.header
