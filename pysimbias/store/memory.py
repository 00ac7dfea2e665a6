"""Memory budgets: read ``--memory``, measure this process, plan bounded counting.

A run keeps its exact counting within a budget by holding at most
:attr:`MemoryPlan.table_rows` distinct functions in memory and spilling
sorted tables to disk beyond that (see :mod:`pysimbias.store.merge`).  The plan is
derived from the budget minus what the process already uses and what one
chunk and one batch of ``functions.parquet`` need; :func:`plan_memory`
refuses budgets too small for even that.
"""

import math
import numbers
import os
import re
import sys
from dataclasses import dataclass

try:
    import resource
except ImportError:  # Windows: no getrusage
    resource = None

from ..errors import InvalidParameterError

__all__ = [
    "DEFAULT_FRACTION",
    "MemoryPlan",
    "physical_memory",
    "default_memory",
    "parse_memory",
    "format_bytes",
    "current_rss",
    "peak_rss",
    "plan_memory",
]

#: Share of the machine's physical memory a run may use when no budget is given.
DEFAULT_FRACTION = 0.5

# Bytes held per row, as multiples of a table row (keys plus count), by each
# stage; measured with peak RSS (see the README) and rounded up.
TABLE_FACTOR = 2.5  # hash table slots, plus extracting and sorting its rows for a spill
CHUNK_FACTOR = 6  # one chunk's sampled keys and its own counting table
MERGE_FACTOR = 8  # blocks of every merged file, their sort keys, the merged output
SORT_FACTOR = 4  # rows buffered for one sorted run of the final order
# Writing functions.parquet: Arrow's and Parquet's own pools, plus per row of a
# batch about three copies of the text form and the key, count and measures.
WRITE_FIXED = 100 << 20
WRITE_ROW_BYTES = 200
WRITE_TEXT_COPIES = 3

MIN_BLOCK_ROWS = 256
MAX_BLOCK_ROWS = 1 << 16
MAX_FAN_IN = 64

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgt])(?:i?b)?|b)?\s*$", re.IGNORECASE)
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*$")


@dataclass(frozen=True)
class MemoryPlan:
    """Sizes, in rows, that keep a run within its memory budget.

    Parameters
    ----------
    table_rows : int
        Most distinct functions held in the counting table before it is
        written to disk as a sorted segment.
    block_rows : int
        Rows read from each sorted file per step of a k-way merge.
    sort_rows : int
        Rows sorted in memory per spilled run of the final (count) order.
    fan_in : int
        Most files merged at once; more are merged in several passes.
    budget : int or None
        The budget in bytes the plan was made for (None: given explicitly).
    """

    table_rows: int
    block_rows: int
    sort_rows: int
    fan_in: int
    budget: int | None = None

    def __post_init__(self):
        for name in ("table_rows", "block_rows", "sort_rows", "fan_in"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise InvalidParameterError("memory", f"MemoryPlan.{name} must be a positive integer, got {value!r}")
        if self.fan_in < 2:
            raise InvalidParameterError("memory", f"MemoryPlan.fan_in must be at least 2, got {self.fan_in}")

    def describe(self):
        """Manifest entry."""
        return {"budget_bytes": self.budget, "table_rows": self.table_rows, "block_rows": self.block_rows,
                "sort_rows": self.sort_rows, "fan_in": self.fan_in}


def physical_memory():
    """Bytes of physical memory of this machine, or None where unknown."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * size if pages > 0 and size > 0 else None


def default_memory():
    """The default budget: :data:`DEFAULT_FRACTION` of physical memory (4 GiB where unknown)."""
    total = physical_memory()
    return int(total * DEFAULT_FRACTION) if total else 4 << 30


def format_bytes(size):
    """``1.5 GiB``-style text for a byte count."""
    size = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def parse_memory(value, param="memory"):
    """Read a memory budget in bytes.

    Parameters
    ----------
    value : int, str or None
        Bytes as an integer, or text such as ``"8G"``, ``"512M"``,
        ``"1.5GiB"``, ``"2000000000"`` or ``"50%"`` (of physical memory);
        None gives :func:`default_memory`.
    param : str
        Parameter name for error messages.

    Returns
    -------
    int
    """
    if value is None:
        return default_memory()
    total = physical_memory()
    if isinstance(value, str):
        percent = _PERCENT.match(value)
        size = _SIZE.match(value)
        if percent:
            share = float(percent.group(1))
            if not 0 < share <= 100:
                raise InvalidParameterError(param, f"a share of memory must be above 0% and at most 100%, got {value!r}")
            if total is None:
                raise InvalidParameterError(param, "this machine does not report its memory; give a size such as 8G")
            number = total * share / 100
        elif size:
            number = float(size.group(1)) * _UNITS[(size.group(2) or "").lower()]
        else:
            raise InvalidParameterError(param, f"{value!r} is not a size; write e.g. 8G, 512M, 1.5GiB or 50%")
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = value
    else:
        raise InvalidParameterError(param, f"must be a size such as 8G or a number of bytes, got {value!r}")
    if not math.isfinite(number) or number < 1 << 20:
        raise InvalidParameterError(param, f"must be at least 1M, got {value!r}")
    if total is not None and number > total:
        raise InvalidParameterError(
            param, f"{value!r} is more than this machine's {format_bytes(total)} of memory; give at most {format_bytes(total)}"
        )
    return int(number)


def current_rss():
    """Resident memory of this process now, in bytes (the peak where the OS does not say)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return peak_rss()


def peak_rss():
    """Peak resident memory of this process so far, in bytes.

    Linux's ``VmHWM`` where available: ``getrusage``'s ``ru_maxrss`` carries
    over the peak of the process that started this one (through ``exec``),
    so a run launched from a large process would report that process's size.
    Elsewhere ``resource.getrusage``.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if resource is None:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _row_bytes(n_words):
    return 8 * (int(n_words) + 1)


def plan_memory(budget, baseline, n_words, m, chunk_rows, batch_rows, sampler=0):
    """Plan table, merge and sort sizes that keep a run within ``budget``.

    Parameters
    ----------
    budget : int
        Bytes the whole process may use.
    baseline : int
        Bytes the process uses before the run (interpreter, libraries, kernels).
    n_words, m : int
        Words per key and bits per function.
    chunk_rows : int
        Samples in the largest chunk.
    batch_rows : int
        Rows per batch of ``functions.parquet``.
    sampler : int
        Working memory of the prior's sampler (the prior's ``working_bytes``).

    Returns
    -------
    MemoryPlan

    Raises
    ------
    InvalidParameterError
        If the budget cannot hold one chunk, one output batch and a table
        of one chunk's functions.
    """
    row = _row_bytes(n_words)
    writing = WRITE_FIXED + batch_rows * (WRITE_TEXT_COPIES * m + WRITE_ROW_BYTES)
    fixed = int(baseline + sampler + CHUNK_FACTOR * chunk_rows * row + writing)
    smallest_table = 1 << max(4, int(2 * chunk_rows - 1).bit_length())
    needed = fixed + int(TABLE_FACTOR * smallest_table * row)
    if budget < needed:
        sampling = f" (the sampler alone {format_bytes(sampler)})" if sampler else ""
        raise InvalidParameterError(
            "memory",
            f"{format_bytes(budget)} is too small for {m}-bit functions: this process already uses "
            f"{format_bytes(baseline)}, and sampling and counting a chunk{sampling} and writing the table need "
            f"{format_bytes(needed - baseline)} more; give at least {format_bytes(needed * 1.1)}",
        )
    available = budget - fixed
    table_slots = 1 << int(math.log2(available / (TABLE_FACTOR * row)))
    half = available // 2
    block = int(min(MAX_BLOCK_ROWS, max(MIN_BLOCK_ROWS, half // (MERGE_FACTOR * row * 16))))
    fan_in = int(min(MAX_FAN_IN, max(2, half // (MERGE_FACTOR * row * block))))
    sort_rows = int(max(block, half // (SORT_FACTOR * row)))
    return MemoryPlan(table_rows=table_slots // 2, block_rows=block, sort_rows=sort_rows, fan_in=fan_in,
                      budget=int(budget))

