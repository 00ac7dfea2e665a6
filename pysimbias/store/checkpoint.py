"""Progress of an unfinished run, kept under ``DIR/chunks/`` so a killed run can resume.

``run.json``
    The run's identity: config, chunk size, key width.  A resume with
    anything else is refused.
``chunk-0000000012.bin``
    The partial histogram of chunk 12 (a :mod:`pysimbias.store.spill` table file in
    text order), written as soon as the chunk is counted; for priors that
    tally their draws (:mod:`pysimbias.learning.tasks`), its header holds
    the chunk's tally.
``segment-000003.bin``
    The merged histogram of a set of chunks (listed in its header as
    ``[start, stop)`` ranges, with the sum of their tallies).  Segments replace the chunk files they cover
    and are the sorted spills that the final merge reads.
``merge/``
    Scratch files of the final merge.
``lock``
    Locked (``flock``) by the process working on the run, so a second
    process on the same directory is refused; the lock dies with its process.

Every file carries the run's id and a checksum.  On resume each is read in
full; one that is damaged, foreign or superseded is reported (by file name)
and removed, and the chunks it held are computed again.  The directory is
deleted once the run's manifest is written.
"""

import hashlib
import json
import re
import shutil
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: runs on one directory are not guarded against each other
    fcntl = None

import numpy as np

from .._version import __version__
from ..errors import RunDirectoryError
from .rundir import PROGRESS, atomic_write_bytes
from .spill import DamagedFileError, TableReader, write_table

__all__ = ["RUN_FILE", "Progress", "run_identity", "has_progress", "discard_progress", "lock_progress"]

RUN_FILE = "run.json"
SCRATCH = "merge"
LOCK = "lock"
_FORMAT = "pysimbias-progress"
_VERSION = 1
_CHUNK = re.compile(r"chunk-(\d{10})\.bin")
_SEGMENT = re.compile(r"segment-(\d{6})\.bin")


def run_identity(config, chunk_size, n_words, m):
    """What a run's progress belongs to; two runs may share progress only if these are equal.

    The pysimbias version is part of it: another version may draw different
    functions for the same seed, and its chunks must not be mixed in.
    """
    return {"format": _FORMAT, "version": _VERSION, "config": config.to_dict(), "chunk_size": int(chunk_size),
            "n_words": int(n_words), "m": int(m), "pysimbias": __version__}


def has_progress(out):
    """Whether directory ``out`` holds an unfinished run's progress directory."""
    return (Path(out) / PROGRESS).is_dir()


def discard_progress(out):
    """Delete the progress directory of ``out`` (its run is finished or started over)."""
    lock_progress(out).close()
    shutil.rmtree(Path(out) / PROGRESS, ignore_errors=True)


def lock_progress(out):
    """Lock the progress directory of ``out`` for this process; return the open lock file.

    Raises
    ------
    RunDirectoryError
        If another process holds the lock.
    """
    directory = Path(out) / PROGRESS
    directory.mkdir(exist_ok=True)
    handle = open(directory / LOCK, "a+b")
    if fcntl is not None:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise RunDirectoryError(f"another process is working on the run in {out}; wait for it to finish "
                                    f"or stop it first") from None
    return handle


def _temporary(name):
    """Whether a file name is an unfinished atomic write's."""
    return name.startswith(".") and name.endswith(".tmp")


def _ranges(ids):
    """Sorted distinct chunk ids as ``[start, stop)`` ranges."""
    ids = np.unique(np.asarray(ids, dtype=np.int64))
    if not ids.shape[0]:
        return []
    breaks = np.flatnonzero(np.diff(ids) != 1)
    starts = np.concatenate([[ids[0]], ids[breaks + 1]])
    stops = np.concatenate([ids[breaks] + 1, [ids[-1] + 1]])
    return [[int(a), int(b)] for a, b in zip(starts, stops)]


def _ids(ranges, n_chunks):
    """Chunk ids of ``[start, stop)`` ranges, checked; None if they are malformed."""
    try:
        pairs = [(int(a), int(b)) for a, b in ranges]
    except (TypeError, ValueError):
        return None
    previous = 0
    for start, stop in pairs:
        if not previous <= start < stop <= n_chunks:
            return None
        previous = stop
    return np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in pairs]) if pairs else None


def _tally(value):
    """A header's tally as an int64 array (None if it has none)."""
    return None if value is None else np.asarray(value, dtype=np.int64)


def _differences(stored, identity):
    config_a, config_b = stored.get("config"), identity["config"]
    if isinstance(config_a, dict):
        fields = sorted(set(config_a) | set(config_b))
        diffs = [f"{k}: {config_a.get(k)!r} there, {config_b.get(k)!r} now" for k in fields
                 if config_a.get(k) != config_b.get(k)]
    else:
        diffs = ["config"]
    diffs += [f"{k}: {stored.get(k)!r} there, {identity[k]!r} now" for k in ("chunk_size", "n_words", "m", "pysimbias")
              if stored.get(k) != identity[k]]
    return diffs or [f"progress format version {stored.get('version')!r} there, {identity['version']} now"]


class Progress:
    """The chunk files and segments of one unfinished run.

    Build it with :meth:`start` or :meth:`resume`, not directly.

    Attributes
    ----------
    directory : Path
        ``DIR/chunks``.
    done : ndarray of bool, shape (n_chunks,)
        Chunks held by a segment or a chunk file.
    journal : dict of int to Path
        Chunk files not yet merged into a segment.
    segments : dict of int to Path
        Segment files by sequence number.
    notices : list of str
        What resuming found and repaired (damaged files, by name).
    chunk_tallies, segment_tallies : dict of int to ndarray
        The tallies of the chunk files and segments that have one.
    """

    def __init__(self, out, identity, n_chunks):
        self.out = Path(out)
        self.directory = self.out / PROGRESS
        self.identity = identity
        self.run_id = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]
        self.n_words = identity["n_words"]
        self.done = np.zeros(int(n_chunks), dtype=np.bool_)
        self.journal = {}
        self.segments = {}
        self.chunk_tallies = {}
        self.segment_tallies = {}
        self.notices = []
        self._lock = None

    @classmethod
    def start(cls, out, identity, n_chunks):
        """Begin the progress of a new run in directory ``out`` (which must exist)."""
        progress = cls(out, identity, n_chunks)
        progress._lock = lock_progress(out)
        atomic_write_bytes(progress.directory / RUN_FILE, json.dumps(identity, indent=2, sort_keys=True).encode())
        return progress

    @classmethod
    def resume(cls, out, identity, n_chunks):
        """Pick up the progress in ``out``: check its identity, verify every file, drop bad ones.

        Raises
        ------
        RunDirectoryError
            If the progress belongs to another config or its ``run.json`` is unreadable.
        """
        progress = cls(out, identity, n_chunks)
        progress._lock = lock_progress(out)
        try:
            return progress._pick_up()
        except BaseException:
            progress.release()
            raise

    def _pick_up(self):
        run_file = self.directory / RUN_FILE
        if not run_file.exists() and all(_temporary(p.name) or p.name == LOCK for p in self.directory.iterdir()):
            atomic_write_bytes(run_file, json.dumps(self.identity, indent=2, sort_keys=True).encode())
            return self  # the run was killed before it began
        try:
            stored = json.loads(run_file.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            raise RunDirectoryError(
                f"{run_file} is damaged, so the interrupted run in {self.out} cannot be identified; "
                f"pass --force to start over"
            ) from None
        if not isinstance(stored, dict) or stored.get("format") != _FORMAT:
            raise RunDirectoryError(f"{run_file} is not a pysimbias progress file; pass --force to start over")
        if stored != self.identity:
            diffs = _differences(stored, self.identity)
            raise RunDirectoryError(
                f"{self.out} holds an interrupted run with different settings ({'; '.join(diffs)}); "
                f"resume it with the same settings, or pass --force to start over"
            )
        self._scan()
        return self

    def _name(self, path):
        return f"{PROGRESS}/{path.name}"

    def _drop(self, path, reason, redo):
        self.notices.append(f"{self._name(path)} {reason}; {redo}")
        path.unlink(missing_ok=True)

    def _scan(self):
        chunk_files, candidates = {}, []
        for path in sorted(self.directory.iterdir()):
            name = path.name
            if name in (RUN_FILE, LOCK):
                continue
            if name == SCRATCH and path.is_dir():
                shutil.rmtree(path)
                continue
            if _temporary(name):
                path.unlink()
                continue
            chunk, segment = _CHUNK.fullmatch(name), _SEGMENT.fullmatch(name)
            if not (chunk or segment) or not path.is_file():
                self.notices.append(f"{self._name(path)} is not a pysimbias progress file; ignored (it goes when "
                                    f"{PROGRESS}/ is deleted at the end of the run)")
                continue
            redo = f"recomputing chunk {int(chunk.group(1))}" if chunk else "recomputing the chunks it held"
            try:
                header = TableReader(path).verify()
            except DamagedFileError as exc:
                self._drop(path, f"is damaged ({exc.reason})", redo)
                continue
            if header.get("run") != self.run_id or header.get("n_words") != self.n_words:
                self._drop(path, "belongs to another run", redo)
                continue
            ids = _ids(header.get("chunks", ()), self.done.shape[0])
            if ids is None or (chunk and not np.array_equal(ids, [int(chunk.group(1))])):
                self._drop(path, "lists chunks this run does not have", redo)
                continue
            tally = _tally(header.get("tally"))
            if chunk:
                chunk_files[int(chunk.group(1))] = path, tally
            else:
                candidates.append((-ids.shape[0], int(segment.group(1)), path, ids, tally))
        for _, seq, path, ids, tally in sorted(candidates, key=lambda c: c[:2]):
            if not self.done[ids].any():
                self.done[ids] = True
                self.segments[seq] = path
                self._keep_tally(self.segment_tallies, seq, tally)
            elif self.done[ids].all():
                path.unlink()  # an older snapshot that a larger segment replaced
            else:
                self._drop(path, "overlaps another segment", "recomputing the chunks only it held")
        for k, (path, tally) in chunk_files.items():
            if self.done[k]:
                path.unlink()  # already merged into a segment
            else:
                self.done[k] = True
                self.journal[k] = path
                self._keep_tally(self.chunk_tallies, k, tally)

    @staticmethod
    def _keep_tally(tallies, index, tally):
        if tally is not None:
            tallies[index] = tally

    def _header(self, kind, chunk_ids, tally):
        header = {"kind": kind, "run": self.run_id, "chunks": _ranges(chunk_ids)}
        if tally is not None:
            header["tally"] = [int(t) for t in tally]
        return header

    def write_chunk(self, k, keys, counts, tally=None):
        """Store chunk ``k``'s partial histogram (text order) and tally; return the file's size in bytes."""
        path = self.directory / f"chunk-{int(k):010d}.bin"
        write_table(path, self.n_words, self._header("chunk", [k], tally), [(keys, counts)])
        self.done[k] = True
        self.journal[int(k)] = path
        self._keep_tally(self.chunk_tallies, int(k), tally)
        return path.stat().st_size

    def read_chunk(self, k):
        """Chunk ``k``'s partial histogram from its file."""
        return TableReader(self.journal[k]).read()

    def write_segment(self, blocks, chunk_ids, tally=None):
        """Store the merged histogram (and summed tally) of ``chunk_ids`` from text-ordered ``blocks``.

        Returns the segment's number.
        """
        seq = max(self.segments, default=-1) + 1
        path = self.directory / f"segment-{seq:06d}.bin"
        write_table(path, self.n_words, self._header("segment", chunk_ids, tally), blocks)
        self.done[np.asarray(chunk_ids, dtype=np.int64)] = True
        self.segments[seq] = path
        self._keep_tally(self.segment_tallies, seq, tally)
        return seq

    def tally(self):
        """The sum of the segments' tallies (None when they have none)."""
        if not self.segment_tallies:
            return None
        return np.sum(list(self.segment_tallies.values()), axis=0)

    def drop_segment(self, seq):
        """Delete a segment that a newer one replaces."""
        self.segment_tallies.pop(seq, None)
        self.segments.pop(seq).unlink()

    def drop_chunks(self, ids):
        """Delete the chunk files of ``ids`` (merged into a segment)."""
        for k in ids:
            self.chunk_tallies.pop(int(k), None)
            path = self.journal.pop(int(k), None)
            if path is not None:
                path.unlink()

    def scratch(self):
        """An empty scratch directory for the final merge."""
        path = self.directory / SCRATCH
        if path.exists():
            shutil.rmtree(path)
        path.mkdir()
        return path

    def discard(self):
        """Delete the whole progress directory (the run is finished)."""
        self.release()
        discard_progress(self.out)

    def release(self):
        """Give up the lock (the process may go on to other things)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None
