"""Agreement with a target on packed keys (pysimbias.kernels.learning) against the plain-Python references."""

import numpy as np
import pytest

from pysimbias.kernels.bits import pack_bits
from pysimbias.kernels.learning import BLOCK_ROWS, count_disagreements, select_consistent
from reference import reference_consistent_rows, reference_disagreements, reference_unpack


def _case(m, rows, seed, train_share):
    """Random functions (some copies of the target on S), a target and a training set on m inputs."""
    rng = np.random.default_rng(seed)
    target = rng.random(m) < 0.5
    bits = rng.random((rows, m)) < 0.5
    inside = rng.random(m) < train_share
    bits[: rows // 2, inside] = target[inside]  # half the rows agree on S, so both outcomes occur
    bits = bits[rng.permutation(rows)]
    return bits, target, inside


@pytest.mark.parametrize("m", [1, 5, 64, 65, 100, 128, 129, 191, 192])
@pytest.mark.parametrize("seed", [0, 1])
def test_select_consistent_and_disagreements_match_the_references(m, seed):
    bits, target, inside = _case(m, 300, seed, 0.3)
    keys = pack_bits(bits)
    assert keys.shape[1] in (1, 2, 3)
    target_key, mask = pack_bits(target), pack_bits(inside)
    inputs = list(np.flatnonzero(inside))
    functions = [[int(b) for b in row] for row in bits]
    chosen = reference_consistent_rows(functions, [int(b) for b in target], inputs)
    selected = select_consistent(keys, target_key, mask)
    assert [reference_unpack(row, m) for row in selected] == [functions[r] for r in chosen]
    test_inputs = list(np.flatnonzero(~inside))
    assert count_disagreements(keys, target_key, pack_bits(~inside)).tolist() == reference_disagreements(
        functions, [int(b) for b in target], test_inputs)


@pytest.mark.parametrize("m", [3, 64, 130])
def test_empty_inputs_give_empty_outputs(m):
    words = (m + 63) // 64
    keys = np.zeros((0, words), dtype=np.uint64)
    target = np.zeros(words, dtype=np.uint64)
    assert select_consistent(keys, target, target).shape == (0, words)
    assert count_disagreements(keys, target, target).shape == (0,)


def test_an_empty_mask_keeps_every_row_and_a_full_one_only_the_target():
    rng = np.random.default_rng(3)
    bits = rng.random((50, 70)) < 0.5
    keys = pack_bits(bits)
    target = bits[7]
    none, every = pack_bits(np.zeros(70, dtype=bool)), pack_bits(np.ones(70, dtype=bool))
    assert np.array_equal(select_consistent(keys, pack_bits(target), none), keys)
    assert np.array_equal(select_consistent(keys, pack_bits(target), every), keys[[7]])
    assert count_disagreements(keys, pack_bits(target), every).tolist() == (bits != target).sum(axis=1).tolist()


def test_selection_across_blocks_with_none_all_and_some_rows_agreeing():
    m, block = 70, BLOCK_ROWS
    rng = np.random.default_rng(5)
    target = rng.random(m) < 0.5
    inside = np.zeros(m, dtype=bool)
    inside[[0, 5, 64, 69]] = True
    bits = rng.random((3 * block + 17, m)) < 0.5
    bits[:block, 0] = ~target[0]  # block 0: no row agrees
    bits[block:2 * block][:, inside] = target[inside]  # block 1: every row agrees
    functions = [[int(b) for b in row] for row in bits]
    chosen = reference_consistent_rows(functions, [int(b) for b in target], list(np.flatnonzero(inside)))
    selected = select_consistent(pack_bits(bits), pack_bits(target), pack_bits(inside))
    assert block < len(chosen) < 2 * block + 17 and chosen[0] == block
    assert np.array_equal(selected, pack_bits(bits[chosen]))
