"""Targets and training sets: names, strings, files, and every refusal."""

import numpy as np
import pytest

from pysimbias.errors import InvalidParameterError
from pysimbias.inputs.encodings import make_encoding
from pysimbias.kernels.bits import unpack_bits
from pysimbias.learning.targets import input_bits, make_target, make_training_set


def _bits(i, n):
    return [(i >> (n - 1 - k)) & 1 for k in range(n)]


@pytest.mark.parametrize("n", [1, 3, 7])
def test_named_targets_on_binary_match_their_definitions(n):
    encoding = make_encoding("binary", n)
    m = 1 << n
    expected = {
        "const0": [0] * m,
        "const1": [1] * m,
        "parity": [sum(_bits(i, n)) % 2 for i in range(m)],
        "majority": [int(2 * sum(_bits(i, n)) > n) for i in range(m)],
        "and": [int(all(_bits(i, n))) for i in range(m)],
        "or": [int(any(_bits(i, n))) for i in range(m)],
        "x1": [_bits(i, n)[0] for i in range(m)],
        f"x{n}": [i & 1 for i in range(m)],
    }
    for name, values in expected.items():
        target = make_target(name, encoding, n)
        assert target.text == "".join(map(str, values)), name
        assert np.array_equal(unpack_bits(target.key[None, :], m)[0], np.array(values, dtype=bool))


def test_target_string_round_trips_and_x1_of_input_1_is_0():
    encoding = make_encoding("binary", 7)
    text = "0011" * 32
    assert make_target(text, encoding, 7).text == text
    assert make_target("x1", encoding, 7).text[1] == "0"
    assert make_target("x7", encoding, 7).text[1] == "1"


def test_named_targets_follow_the_points_of_a_permuted_encoding():
    permuted = make_encoding("permuted:3", 5)
    target = make_target("parity", permuted, 5)
    vertices = permuted.vertices
    assert target.text == "".join(str(bin(int(v)).count("1") % 2) for v in vertices)


def test_onehot_targets_use_the_index_bits():
    assert make_target("x1", make_encoding("onehot", 3), 3).text == "00001111"
    assert input_bits(make_encoding("gaussian:4", 3), 3).shape == (8, 3)


def test_random_and_file_targets(tmp_path):
    encoding = make_encoding("binary", 5)
    a, b = make_target("random:4", encoding, 5), make_target("random:4", encoding, 5)
    assert a.text == b.text and make_target("random:5", encoding, 5).text != a.text
    path = tmp_path / "t.txt"
    path.write_text(a.text + "\n")
    assert make_target(f"file:{path}", encoding, 5).text == a.text


@pytest.mark.parametrize("spec, fragment", [
    ("0101", "has 4 characters"),
    ("01" * 15 + "2x", "unknown target"),
    ("0" * 31 + "2", "unknown target"),
    ("banana", "unknown target"),
    ("x0", "coordinate 0"),
    ("x6", "coordinate 6"),
    ("random:abc", "malformed"),
    ("file:/nonexistent/target.txt", "cannot read"),
])
def test_bad_targets_are_one_line_errors(spec, fragment):
    with pytest.raises(InvalidParameterError) as info:
        make_target(spec, make_encoding("binary", 5), 5)
    assert info.value.param == "target" and fragment in info.value.message and "\n" not in info.value.message


def test_named_target_needs_bits(tmp_path):
    points = tmp_path / "p.npy"
    np.save(points, np.random.default_rng(0).normal(size=(10, 2)))
    with pytest.raises(InvalidParameterError, match="have none"):
        make_target("parity", make_encoding(f"file:{points}", 3), 3)


def test_training_set_draws_k_distinct_inputs_and_masks_them():
    train = make_training_set(32, 128, seed=5)
    assert train.size == 32 and train.test_size == 96
    assert np.unique(train.indices).shape[0] == 32 and np.all(np.diff(train.indices) > 0)
    inside = unpack_bits(train.mask[None, :], 128)[0].astype(bool)
    assert np.array_equal(np.flatnonzero(inside), train.indices)
    assert np.array_equal(unpack_bits(train.test_mask[None, :], 128)[0], ~inside)
    assert np.array_equal(make_training_set("32", 128, seed=5).indices, train.indices)
    assert not np.array_equal(make_training_set(32, 128, seed=6).indices, train.indices)


def test_test_mask_has_no_bits_beyond_m():
    train = make_training_set(3, 8, seed=0)
    assert int(train.test_mask[0]) >> 8 == 0


def test_training_set_from_file(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("5, 1\n3")
    assert make_training_set(f"file:{path}", 8).indices.tolist() == [1, 3, 5]


@pytest.mark.parametrize("content, fragment", [
    ("1 1 2", "more than once"),
    ("1 9", "outside 0 to 7"),
    ("-1", "outside 0 to 7"),
    ("", "lists 0 inputs"),
    ("0 1 2 3 4 5 6 7", "lists 8 inputs"),
    ("1 two", "must list input indices"),
])
def test_bad_training_files(tmp_path, content, fragment):
    path = tmp_path / "s.txt"
    path.write_text(content)
    with pytest.raises(InvalidParameterError) as info:
        make_training_set(f"file:{path}", 8)
    assert info.value.param == "train" and fragment in info.value.message


@pytest.mark.parametrize("spec", [0, 8, 100, -1, "abc", 2.5, True])
def test_bad_training_sizes(spec):
    with pytest.raises(InvalidParameterError) as info:
        make_training_set(spec, 8)
    assert info.value.param == "train"
