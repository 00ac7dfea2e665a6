"""Writing ``functions.parquet``: the checksum comes with the file, and a failed write leaves nothing behind."""

import numpy as np
import pyarrow.parquet as pq
import pytest

from pysimbias.store.rundir import FUNCTIONS, file_sha256, write_function_batches


def _batches(rows, batch_rows=1000, seed=0):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 2**63, size=(rows, 2), dtype=np.uint64)
    counts = np.arange(rows, 0, -1, dtype=np.int64)
    ones = rng.integers(0, 129, rows).astype(np.int64)
    for start in range(0, rows, batch_rows):
        part = slice(start, start + batch_rows)
        yield keys[part], counts[part], {"ones": ones[part], "entropy": ones[part] / 128.0}


def test_checksum_is_the_written_files(tmp_path):
    digest = write_function_batches(tmp_path, 128, _batches(5_500))
    assert digest == file_sha256(tmp_path / FUNCTIONS)
    table = pq.read_table(tmp_path / FUNCTIONS)
    assert table.num_rows == 5_500 and table.column_names == ["function", "count", "ones", "entropy"]
    assert [p.name for p in tmp_path.iterdir()] == [FUNCTIONS]


def test_no_batch_is_refused_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="at least one batch"):
        write_function_batches(tmp_path, 128, iter([]))
    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_writing_leaves_no_file(tmp_path):
    def failing():
        yield from _batches(2_000)
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_function_batches(tmp_path, 128, failing())
    assert list(tmp_path.iterdir()) == []
