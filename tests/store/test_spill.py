"""Table files: round trips, block reads, atomic writes and damage detection."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysimbias.store.spill import DamagedFileError, TableReader, TableWriter, write_table


def random_table(rng, rows, n_words):
    keys = rng.integers(0, 2**64, size=(rows, n_words), dtype=np.uint64)
    counts = rng.integers(1, 2**62, size=rows, dtype=np.int64)
    return keys, counts


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(0, 300), n_words=st.integers(1, 4), pieces=st.integers(1, 5), block=st.integers(1, 400),
       seed=st.integers(0, 2**32 - 1))
def test_roundtrip_in_any_blocks(tmp_path_factory, rows, n_words, pieces, block, seed):
    keys, counts = random_table(np.random.default_rng(seed), rows, n_words)
    path = tmp_path_factory.mktemp("t") / "table.bin"
    written = write_table(path, n_words, {"kind": "test", "chunks": [[0, 3]]},
                          zip(np.array_split(keys, pieces), np.array_split(counts, pieces)))
    reader = TableReader(path)
    assert written == rows == reader.rows
    assert reader.header == {"kind": "test", "chunks": [[0, 3]], "n_words": n_words}
    blocks = list(reader.blocks(block))
    assert all(b[0].shape[0] <= block for b in blocks)
    got_keys = np.concatenate([b[0] for b in blocks] + [np.zeros((0, n_words), np.uint64)])
    got_counts = np.concatenate([b[1] for b in blocks] + [np.zeros(0, np.int64)])
    np.testing.assert_array_equal(got_keys, keys)
    np.testing.assert_array_equal(got_counts, counts)
    assert got_counts.dtype == np.int64 and got_keys.dtype == np.uint64


def test_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "t.bin"
    with pytest.raises(RuntimeError):
        with TableWriter(path, 1, {}) as writer:
            writer.write(np.ones((3, 1), np.uint64), np.ones(3, np.int64))
            raise RuntimeError("crash in the middle")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda b: b[:-1], "truncated"),
        (lambda b: b[:len(b) - 24], "truncated"),
        (lambda b: b[:30], "truncated header"),
        (lambda b: b"garbage" + b[7:], "not a pysimbias table file"),
        (lambda b: b[:60] + bytes([b[60] ^ 1]) + b[61:], "checksum mismatch"),  # a payload bit
        (lambda b: b[:20] + bytes([b[20] ^ 4]) + b[21:], None),  # a header byte
        (lambda b: b[:-40] + bytes([b[-40] ^ 1]) + b[-39:], "truncated"),  # the row count
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "checksum mismatch"),  # the checksum itself
        (lambda b: b"", "not a pysimbias table file"),
    ],
)
def test_damage_is_detected_with_the_file_name(tmp_path, damage, reason):
    keys, counts = random_table(np.random.default_rng(0), 5, 2)
    path = tmp_path / "segment-000001.bin"
    write_table(path, 2, {"kind": "segment"}, [(keys, counts)])
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DamagedFileError) as info:
        TableReader(path).verify()
    assert "segment-000001.bin" in str(info.value)
    if reason is not None:
        assert info.value.reason == reason


def test_read_returns_everything(tmp_path):
    keys, counts = random_table(np.random.default_rng(1), 7, 3)
    write_table(tmp_path / "a.bin", 3, {}, [(keys[:2], counts[:2]), (keys[2:], counts[2:])])
    got_keys, got_counts = TableReader(tmp_path / "a.bin").read()
    np.testing.assert_array_equal(got_keys, keys)
    np.testing.assert_array_equal(got_counts, counts)
    write_table(tmp_path / "empty.bin", 3, {}, [])
    got_keys, got_counts = TableReader(tmp_path / "empty.bin").read()
    assert got_keys.shape == (0, 3) and got_counts.shape == (0,)
