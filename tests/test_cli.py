"""The command line: runs, outputs, and one-line errors with exit status 2."""

import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats

from clirun import run_cli



def test_version(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and "pysimbias" in out


def test_help_explains_commands(capsys):
    code, out, _ = run_cli(capsys, "sample", "--help")
    assert code == 0
    for flag in ("--prior", "--n", "--widths", "--samples", "--seed", "--threads", "--out", "--force"):
        assert flag in out


def test_sample_show_plot(tmp_path, capsys):
    out_dir = tmp_path / "r"
    code, out, _ = run_cli(capsys, "sample", "--prior", "mlp", "--widths", "8,8", "--n", "5",
                           "--samples", "2e4", "--seed", "3", "--out", str(out_dir))
    assert code == 0, out
    assert "distinct functions" in out
    for name in ("functions.parquet", "manifest.json", "pf_vs_klz.png", "rank_frequency.png", "p_klz.png",
                 "p_ones.png"):
        assert (out_dir / name).stat().st_size > 0
    code, out, _ = run_cli(capsys, "show", str(out_dir), "--top", "3")
    assert code == 0
    assert "P(constant)" in out and "20,000" in out
    (out_dir / "p_ones.png").unlink()
    code, out, _ = run_cli(capsys, "plot", str(out_dir))
    assert code == 0 and (out_dir / "p_ones.png").exists()


def test_bias_free_perceptron_cli_gives_uniform_p_t(tmp_path, capsys):
    """The issue's check: --prior perceptron --no-bias --n 7 --samples 1e6 --seed 1."""
    out_dir = tmp_path / "r"
    code, _, err = run_cli(capsys, "sample", "--prior", "perceptron", "--no-bias", "--n", "7", "--samples",
                           "1e6", "--seed", "1", "--out", str(out_dir), "--no-plots")
    assert code == 0, err
    table = pq.read_table(out_dir / "functions.parquet").to_pandas()
    p_t = np.bincount(table["ones"], weights=table["count"], minlength=129)
    assert p_t.sum() == 10**6
    assert p_t[128] == 0
    assert stats.chisquare(p_t[:128]).pvalue > 1e-4


def test_threads_do_not_change_the_table(tmp_path, capsys):
    tables = []
    for threads in ("1", "2"):
        out_dir = tmp_path / f"t{threads}"
        code, _, err = run_cli(capsys, "sample", "--widths", "10,10", "--samples", "1.5e5", "--seed", "4",
                               "--threads", threads, "--out", str(out_dir), "--no-plots")
        assert code == 0, err
        tables.append(pq.read_table(out_dir / "functions.parquet"))
    assert tables[0].equals(tables[1])


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--n", "0"], "--n"),
        (["--samples", "-5"], "--samples"),
        (["--widths", "40,,x"], "--widths"),
        (["--sigma-w", "nan"], "--sigma-w"),
        (["--prior", "unknown"], "--prior"),
        (["--encoding", "nope"], "--encoding"),
        (["--prior", "perceptron", "--widths", "3"], "--widths"),
        (["--threads", "0"], "--threads"),
        (["--bogus"], "--bogus"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path, capsys, args, flag):
    code, out, err = run_cli(capsys, "sample", "--samples", "10", "--out", str(tmp_path / "x"), *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), err
    assert flag in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "x" / "manifest.json").exists()


def test_existing_directory_is_not_overwritten(tmp_path, capsys):
    (tmp_path / "precious.txt").write_text("keep")
    code, _, err = run_cli(capsys, "sample", "--samples", "10", "--out", str(tmp_path))
    assert code == 2 and "--force" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "precious.txt").read_text() == "keep"


def test_show_on_missing_or_damaged_run(tmp_path, capsys):
    code, _, err = run_cli(capsys, "show", str(tmp_path))
    assert code == 2 and len(err.strip().splitlines()) == 1
    (tmp_path / "manifest.json").write_text("garbage")
    code, _, err = run_cli(capsys, "show", str(tmp_path))
    assert code == 2 and "damaged" in err


def test_console_script_runs_as_subprocess(tmp_path):
    result = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "sample", "--n", "0"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
