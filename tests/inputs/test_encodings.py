"""Encodings: points and order against direct constructions, custom matrices, validation."""

import json
import textwrap

import numpy as np
import pytest

import pysimbias
from pysimbias.inputs.encodings import MAX_ENTRIES, check_encoding_spec, cube_vertices, make_encoding
from pysimbias.errors import InvalidParameterError
from reference import binary_inputs


def gray_reference(i):
    """The reflected Gray code of i, by the mirror construction (not the XOR formula)."""
    codes = ["0", "1"]
    while len(codes) <= i:
        codes = ["0" + c for c in codes] + ["1" + c for c in reversed(codes)]
    return int(codes[i], 2)


@pytest.mark.parametrize("n", [1, 3, 5])
def test_binary_and_pm1_points(n):
    np.testing.assert_array_equal(make_encoding("binary", n).points, binary_inputs(n))
    np.testing.assert_array_equal(make_encoding("pm1", n).points, 2 * binary_inputs(n) - 1)
    for spec in ("binary", "pm1"):
        encoding = make_encoding(spec, n)
        assert encoding.n == n
        np.testing.assert_array_equal(encoding.vertices, np.arange(2 ** n))


@pytest.mark.parametrize("n", [1, 2, 4, 7])
def test_onehot_is_the_identity(n):
    encoding = make_encoding("onehot", n)
    np.testing.assert_array_equal(encoding.points, np.eye(2 ** n))
    assert encoding.m == encoding.dim == 2 ** n
    assert encoding.n is None and encoding.vertices is None


def test_onehot_too_large_is_refused():
    with pytest.raises(InvalidParameterError, match="onehot"):
        make_encoding("onehot", 13)


@pytest.mark.parametrize("n", [1, 3, 6])
def test_gray_order(n):
    encoding = make_encoding("gray", n)
    table = binary_inputs(n)
    for i in range(2 ** n):
        np.testing.assert_array_equal(encoding.points[i], table[gray_reference(i)])
        assert encoding.vertices[i] == gray_reference(i)
    # consecutive inputs differ in exactly one bit
    assert np.all(np.abs(np.diff(encoding.points, axis=0)).sum(axis=1) == 1)


def test_permuted_is_a_seeded_reordering_of_binary():
    a = make_encoding("permuted:5", 6)
    again = make_encoding("permuted:5", 6)
    other = make_encoding("permuted:6", 6)
    np.testing.assert_array_equal(a.points, again.points)
    assert not np.array_equal(a.points, other.points)
    order = np.random.Generator(np.random.PCG64(5)).permutation(64)
    np.testing.assert_array_equal(a.points, binary_inputs(6)[order])
    np.testing.assert_array_equal(a.vertices, order)
    assert sorted(map(tuple, a.points)) == sorted(map(tuple, binary_inputs(6)))
    np.testing.assert_array_equal(make_encoding("permuted", 4).points, make_encoding("permuted:0", 4).points)


def test_gaussian_points():
    encoding = make_encoding("gaussian:7", 5)
    expected = np.random.Generator(np.random.PCG64(0)).standard_normal((32, 7))
    np.testing.assert_array_equal(encoding.points, expected)
    assert encoding.n is None
    assert not np.array_equal(make_encoding("gaussian:7:1", 5).points, expected)


def test_grid_points():
    encoding = make_encoding("grid:2:3", 7)
    expected = [[x, y] for x in (-1.0, 0.0, 1.0) for y in (-1.0, 0.0, 1.0)]
    np.testing.assert_array_equal(encoding.points, expected)
    assert encoding.m == 9 and encoding.n is None
    # a 2-point grid is the {-1,+1} cube: Hamming measures apply
    cube = make_encoding("grid:3:2", 7)
    np.testing.assert_array_equal(cube.points, 2 * binary_inputs(3) - 1)
    assert cube.n == 3


def test_cube_vertices_recognises_cubes_only():
    table = binary_inputs(3)
    order = np.array([3, 0, 7, 1, 6, 2, 5, 4])
    np.testing.assert_array_equal(cube_vertices(table[order]), order)
    np.testing.assert_array_equal(cube_vertices(2 * table[order] - 1), order)
    assert cube_vertices(table[[0, 1, 2, 3, 4, 5, 6, 6]]) is None  # a repeated point
    assert cube_vertices(table[:4]) is None                        # not 2^d points
    assert cube_vertices(3 * table) is None                        # other values


def test_file_encodings(tmp_path):
    points = np.random.default_rng(0).normal(size=(10, 3))
    np.save(tmp_path / "x.npy", points)
    np.savetxt(tmp_path / "x.csv", points, delimiter=",")
    from_npy = make_encoding(f"file:{tmp_path / 'x.npy'}", 7)
    from_csv = make_encoding(f"file:{tmp_path / 'x.csv'}", 7)
    np.testing.assert_array_equal(from_npy.points, points)
    np.testing.assert_allclose(from_csv.points, points, rtol=1e-15)
    assert from_npy.m == 10 and from_npy.dim == 3
    description = from_npy.describe()
    assert description["path"] == str((tmp_path / "x.npy").resolve())
    assert len(description["points_sha256"]) == 64
    np.save(tmp_path / "cube.npy", binary_inputs(4)[::-1])
    assert make_encoding(f"file:{tmp_path / 'cube.npy'}", 7).n == 4


def test_python_encoding(tmp_path, monkeypatch):
    (tmp_path / "myenc.py").write_text(textwrap.dedent("""
        import numpy as np

        def circle(n):
            angles = np.linspace(0, 2 * np.pi, 2 ** n, endpoint=False)
            return np.stack([np.cos(angles), np.sin(angles)], axis=1)

        def broken(n):
            raise RuntimeError("no points today")

        def flat(n):
            return np.zeros(2 ** n)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    encoding = make_encoding("py:myenc:circle", 4)
    assert encoding.points.shape == (16, 2)
    assert encoding.describe()["function"] == "circle"
    by_path = make_encoding(f"py:{tmp_path / 'myenc.py'}:circle", 4)
    np.testing.assert_array_equal(by_path.points, encoding.points)
    with pytest.raises(InvalidParameterError, match="no points today"):
        make_encoding("py:myenc:broken", 3)
    with pytest.raises(InvalidParameterError, match="2-d"):
        make_encoding("py:myenc:flat", 3)
    with pytest.raises(InvalidParameterError, match="no function"):
        make_encoding("py:myenc:missing", 3)
    with pytest.raises(InvalidParameterError, match="cannot import"):
        make_encoding("py:no_such_module_here:f", 3)


@pytest.mark.parametrize(
    "content, message",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "finite"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), "finite"),
        (np.zeros((1, 3)), "2 to"),
        (np.zeros(5), "2-d"),
        (np.zeros((4, 0)), "at least one column"),
        (np.array([["a", "b"], ["c", "d"]]), "real numbers"),
        (np.ones((3, 2)) * (1 + 1j), "real numbers"),
    ],
)
def test_bad_matrices_are_refused(tmp_path, content, message):
    np.save(tmp_path / "bad.npy", content)
    with pytest.raises(InvalidParameterError, match=message) as info:
        make_encoding(f"file:{tmp_path / 'bad.npy'}", 3)
    assert info.value.param == "encoding"


def test_bad_files_are_refused(tmp_path):
    (tmp_path / "words.csv").write_text("x,y\n1,2\n")
    (tmp_path / "ragged.csv").write_text("1,2\n3\n")
    (tmp_path / "data.txt").write_text("1,2\n3,4\n")
    (tmp_path / "fake.npy").write_text("not numpy")
    for name, message in (("words.csv", "cannot read"), ("ragged.csv", "cannot read"), ("data.txt", ".npy or .csv"),
                          ("fake.npy", "cannot read"), ("missing.npy", "no such file")):
        with pytest.raises(InvalidParameterError, match=message):
            make_encoding(f"file:{tmp_path / name}", 3)
    big = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float32,
                                    shape=(2, MAX_ENTRIES // 2 + 1))
    del big
    with pytest.raises(InvalidParameterError, match="entries"):
        make_encoding(f"file:{tmp_path / 'big.npy'}", 3)


@pytest.mark.parametrize("spec", ["nope", "permuted:x", "permuted:1:2", "gaussian", "gaussian:0", "grid:2",
                                  "grid:2:1", "grid:5:20", "file:", "py:only", "binary:3", "onehot:2"])
def test_bad_specs(spec):
    with pytest.raises(InvalidParameterError) as info:
        check_encoding_spec(spec)
    assert info.value.param == "encoding"


def test_manifest_records_the_encoding(tmp_path):
    np.save(tmp_path / "pts.npy", np.random.default_rng(1).normal(size=(20, 2)))
    spec = f"file:{tmp_path / 'pts.npy'}"
    run = pysimbias.sample(prior="perceptron", encoding=spec, samples=500, seed=0)
    run.save(tmp_path / "run", plots=False)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["encoding"]["spec"] == spec
    assert manifest["encoding"]["path"] == str((tmp_path / "pts.npy").resolve())
    assert manifest["encoding"]["points_sha256"] == run.encoding.points_sha256()
    assert manifest["encoding"]["m"] == 20
    assert run.histogram.m == 20
