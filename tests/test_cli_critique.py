"""The command line's encoding, graph and prior flags: runs, manifests and one-line errors."""

import json
import re

import numpy as np
import pyarrow.parquet as pq
import pytest

from test_cli import run_cli


def test_help_lists_the_new_flags(capsys):
    code, out, _ = run_cli(capsys, "sample", "--help")
    assert code == 0
    out = re.sub(r"-\s+", "-", " ".join(out.split()))  # help text wraps, sometimes at a hyphen
    for text in ("--graph", "--kernel", "--length-scale", "--centres", "--depth", "--train-fraction",
                 "learner:NAME", "shuffled:RUN", "fixed-ones:RUN", "gaussian:D[:SEED]", "py:MODULE:FUNCTION"):
        assert text in out


def test_gp_on_gaussian_points_with_a_knn_graph(tmp_path, capsys):
    out_dir = tmp_path / "gp"
    code, _, err = run_cli(capsys, "sample", "--prior", "gp", "--kernel", "laplace", "--length-scale", "1.5",
                           "--encoding", "gaussian:3:2", "--graph", "knn:3", "--n", "4", "--samples", "2000",
                           "--out", str(out_dir), "--no-plots")
    assert code == 0, err
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["config"]["kernel"] == "laplace" and manifest["config"]["length_scale"] == 1.5
    assert manifest["graph"]["spec"] == "knn:3" and manifest["encoding"]["spec"] == "gaussian:3:2"
    assert manifest["prior"] == {"name": "gp", "kernel": "laplace", "length_scale": 1.5, "jitter": 1e-10}
    columns = pq.read_table(out_dir / "functions.parquet").column_names
    assert "boundary" in columns and "csr" in columns and "gc" not in columns


def test_null_from_a_reference_run(tmp_path, capsys):
    ref = tmp_path / "ref"
    code, _, err = run_cli(capsys, "sample", "--prior", "perceptron", "--n", "4", "--samples", "3000",
                           "--out", str(ref), "--no-plots")
    assert code == 0, err
    code, _, err = run_cli(capsys, "sample", "--prior", f"fixed-ones:{ref}", "--n", "4", "--samples", "3000",
                           "--out", str(tmp_path / "null"), "--no-plots")
    assert code == 0, err
    manifest = json.loads((tmp_path / "null" / "manifest.json").read_text())
    reference_manifest = json.loads((ref / "manifest.json").read_text())
    assert manifest["prior"]["reference"]["functions_sha256"] == reference_manifest["files"]["functions.parquet"]
    table = pq.read_table(tmp_path / "null" / "functions.parquet").to_pandas()
    assert table["count"].sum() == 3000 and {"gc", "walsh_degree"} <= set(table.columns)


def test_learner_run(tmp_path, capsys):
    code, out, err = run_cli(capsys, "sample", "--prior", "learner:tree", "--train-fraction", "0.5", "--n", "3",
                             "--samples", "200", "--out", str(tmp_path / "l"), "--no-plots")
    assert code == 0, err and "200 samples" in out


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--prior", "mlp", "--kernel", "rbf"], "--kernel"),
        (["--prior", "perceptron", "--centres", "4"], "--centres"),
        (["--prior", "gp", "--depth", "2"], "--depth"),
        (["--prior", "learner:nope"], "--prior"),
        (["--prior", "shuffled:/no/such/run"], "--prior"),
        (["--prior", "gp", "--length-scale", "wide"], "--length-scale"),
        (["--prior", "voronoi", "--centres", "0"], "--centres"),
        (["--prior", "learner:knn", "--train-fraction", "2"], "--train-fraction"),
        (["--prior", "tree", "--depth", "99"], "--depth"),
        (["--encoding", "file:/no/such/file.npy"], "--encoding"),
        (["--encoding", "gaussian:x"], "--encoding"),
        (["--graph", "radius:0.01"], "--graph"),
        (["--graph", "knn:zero"], "--graph"),
        (["--graph", "hypercube", "--encoding", "onehot"], "--graph"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path, capsys, args, flag):
    code, _, err = run_cli(capsys, "sample", "--n", "3", "--samples", "10", "--out", str(tmp_path / "x"), *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and flag in lines[0], err
    assert not (tmp_path / "x" / "manifest.json").exists()


def test_custom_matrix_from_the_cli(tmp_path, capsys):
    np.savetxt(tmp_path / "pts.csv", np.random.default_rng(0).normal(size=(12, 2)), delimiter=",")
    code, _, err = run_cli(capsys, "sample", "--prior", "voronoi", "--centres", "3", "--encoding",
                           f"file:{tmp_path / 'pts.csv'}", "--samples", "500", "--out", str(tmp_path / "v"),
                           "--no-plots")
    assert code == 0, err
    manifest = json.loads((tmp_path / "v" / "manifest.json").read_text())
    assert manifest["encoding"]["m"] == 12 and manifest["encoding"]["path"].endswith("pts.csv")
    np.savetxt(tmp_path / "bad.csv", [[1.0, float("nan")], [0.0, 1.0]], delimiter=",")
    code, _, err = run_cli(capsys, "sample", "--encoding", f"file:{tmp_path / 'bad.csv'}", "--samples", "10",
                           "--out", str(tmp_path / "b"))
    assert code == 2 and "finite" in err and len(err.strip().splitlines()) == 1
