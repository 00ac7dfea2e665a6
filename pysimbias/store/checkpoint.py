"""Progress of an unfinished run, kept under ``DIR/chunks/`` so a killed run can resume.

``run.json``
    The run's identity: config, chunk size, key width, progress format
    version.  A resume with anything else is refused.
``segment-000003.bin``
    The histogram (a :mod:`pysimbias.store.spill` table file in text order)
    of the chunks counted since the previous segment, listed in its header
    as ``[start, stop)`` ranges; for priors that tally their draws
    (:mod:`pysimbias.learning.tasks`), the header holds the sum of their
    tallies.  A run writes one every ``checkpoint_every`` seconds, and
    whenever its counting table is full (see
    :class:`pysimbias.engine.SegmentWriter`); the segments are the sorted
    spills that the final merge reads.  No two segments share a chunk.
``merge/``
    Scratch files of the final merge.
``lock``
    Locked (``flock``) by the process working on the run, so a second
    process on the same directory is refused; the lock dies with its process.

Every file carries the run's id and a checksum.  On resume each is read in
full; one that is damaged, foreign or overlaps another is reported (by file
name) and removed, and the chunks it held are computed again: chunks are
seeded by their index, so the recomputed ones are exactly the lost ones.  A
killed run thus loses at most the chunks counted since its last segment.
The directory is deleted once the run's manifest is written.

Version 1 of this format (pysimbias 0.3.0 and earlier) also wrote one
``chunk-*.bin`` file per chunk; its progress is refused on resume with a
one-line explanation.
"""

import hashlib
import json
import re
import shutil
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: runs on one directory are not guarded against each other
    fcntl = None

import numpy as np

from .._version import __version__
from ..errors import RunDirectoryError
from ..kernels.rng import GENERATOR_VERSION
from .rundir import PROGRESS, atomic_write_bytes
from .spill import DamagedFileError, TableReader, write_table

__all__ = ["RUN_FILE", "Progress", "run_identity", "check_generator", "has_progress", "discard_progress",
           "lock_progress"]

RUN_FILE = "run.json"
SCRATCH = "merge"
LOCK = "lock"
_FORMAT = "pysimbias-progress"
_VERSION = 2
_SEGMENT = re.compile(r"segment-(\d{6})\.bin")


def run_identity(config, chunk_size, n_words, m):
    """What a run's progress belongs to; two runs may share progress only if these are equal.

    The pysimbias version and the normal generator's are part of it: another
    version may draw different functions for the same seed, and its chunks
    must not be mixed in.
    """
    return {"format": _FORMAT, "version": _VERSION, "config": config.to_dict(), "chunk_size": int(chunk_size),
            "n_words": int(n_words), "m": int(m), "pysimbias": __version__, "generator": GENERATOR_VERSION}


def check_generator(out, version, what):
    """Refuse to continue ``what`` in ``out`` drawn with normal generator ``version`` (absent: 1) if it is not ours.

    Raises
    ------
    RunDirectoryError
    """
    if version != GENERATOR_VERSION:
        raise RunDirectoryError(
            f"{out} holds {what} drawn with normal generator version {version!r}, and this pysimbias draws with "
            f"version {GENERATOR_VERSION}: its samples would not mix with new ones; finish it with the pysimbias "
            f"that began it, or pass --force to start over"
        )


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
    """The segments of one unfinished run.

    Build it with :meth:`start` or :meth:`resume`, not directly.

    Attributes
    ----------
    directory : Path
        ``DIR/chunks``.
    done : ndarray of bool, shape (n_chunks,)
        Chunks held by a segment.
    segments : dict of int to Path
        Segment files by sequence number.
    notices : list of str
        What resuming found and repaired (damaged files, by name).
    segment_tallies : dict of int to ndarray
        The tallies of the segments that have one.
    write_seconds, written_bytes : float, int
        Time spent writing segments (sorting the table included) and their
        size, in this session.
    """

    def __init__(self, out, identity, n_chunks):
        self.out = Path(out)
        self.directory = self.out / PROGRESS
        self.identity = identity
        self.run_id = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]
        self.n_words = identity["n_words"]
        self.done = np.zeros(int(n_chunks), dtype=np.bool_)
        self.segments = {}
        self.segment_tallies = {}
        self.write_seconds = 0.0
        self.written_bytes = 0
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
        if stored.get("version") != _VERSION:
            raise RunDirectoryError(
                f"{self.out} holds an interrupted run saved in progress format version {stored.get('version')!r}, "
                f"which this pysimbias (format {_VERSION}) does not read; finish it with the pysimbias that "
                f"began it, or pass --force to start over"
            )
        check_generator(self.out, stored.get("generator", 1), "an interrupted run")
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
        candidates = []
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
            segment = _SEGMENT.fullmatch(name)
            if not segment or not path.is_file():
                self.notices.append(f"{self._name(path)} is not a pysimbias progress file; ignored (it goes when "
                                    f"{PROGRESS}/ is deleted at the end of the run)")
                continue
            redo = "recomputing the chunks it held"
            try:
                header = TableReader(path).verify()
            except DamagedFileError as exc:
                self._drop(path, f"is damaged ({exc.reason})", redo)
                continue
            if header.get("run") != self.run_id or header.get("n_words") != self.n_words:
                self._drop(path, "belongs to another run", redo)
                continue
            ids = _ids(header.get("chunks", ()), self.done.shape[0])
            if ids is None:
                self._drop(path, "lists chunks this run does not have", redo)
                continue
            candidates.append((int(segment.group(1)), path, ids, _tally(header.get("tally"))))
        for seq, path, ids, tally in candidates:
            if self.done[ids].any():
                self._drop(path, "overlaps another segment", "recomputing the chunks only it held")
                continue
            self.done[ids] = True
            self.segments[seq] = path
            if tally is not None:
                self.segment_tallies[seq] = tally

    def write_segment(self, blocks, chunk_ids, tally=None):
        """Store the histogram (and summed tally) of ``chunk_ids`` from text-ordered ``blocks``.

        Returns the segment's number.
        """
        clock = time.perf_counter()
        seq = max(self.segments, default=-1) + 1
        path = self.directory / f"segment-{seq:06d}.bin"
        header = {"kind": "segment", "run": self.run_id, "chunks": _ranges(chunk_ids)}
        if tally is not None:
            header["tally"] = [int(t) for t in tally]
        write_table(path, self.n_words, header, blocks)
        self.done[np.asarray(chunk_ids, dtype=np.int64)] = True
        self.segments[seq] = path
        if tally is not None:
            self.segment_tallies[seq] = np.asarray(tally, dtype=np.int64)
        self.written_bytes += path.stat().st_size
        self.write_seconds += time.perf_counter() - clock
        return seq

    def tally(self):
        """The sum of the segments' tallies (None when they have none)."""
        if not self.segment_tallies:
            return None
        return np.sum(list(self.segment_tallies.values()), axis=0)

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
