"""Random flag combinations and malformed run directories thrown at the command line.

Whatever the input, the CLI must end either with a clean run (exit 0, a run
directory that loads) or with exactly one error line and exit status 2; never
with a traceback, and never with a manifest that presents a half-written
directory as a finished run.
"""

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cli
import pysimbias
from pysimbias import engine
from crashing import Crash, StepCounter

RUN_A = ["--prior", "perceptron", "--n", "3", "--samples", "300", "--seed", "5"]
PARAMS_A = dict(prior="perceptron", n=3, samples=300, seed=5)

VALUES = {
    "--prior": ["mlp", "perceptron", "uniform", "nope", ""],
    "--n": ["1", "3", "4", "0", "-2", "17", "x", "2.5"],
    "--widths": ["4", "3,2", "", "0", "4,,2", "a", "-1", "2,1000000000000"],
    "--activation": ["relu", "tanh", "linear", "gelu", "step", "softplus"],
    "--law": ["gaussian", "uniform", "cauchy"],
    "--sigma-w": ["1", "0.5", "0", "-1", "nan", "inf", "1e400", "x"],
    "--sigma-b": ["1", "0", "-0.5", "nan", "-inf"],
    "--encoding": ["binary", "pm1", "nope", "binary:extra", ""],
    "--samples": ["1", "50", "300", "1e3", "0", "-5", "1.5", "1e30", "abc", "10**2", "1e-3"],
    "--seed": ["0", "5", "-1", "99999999999999999999", "x"],
    "--threads": ["1", "2", "0", "999", "x"],
    "--memory": ["2G", "50%", "0", "1K", "abc", "101%", "1e30", "-1G", "0.5%", "3M"],
    "--scheduler": ["not an address", "tcp://", "tcp://host:99999"],
    "--checkpoint-every": ["0", "0.5", "60", "-1", "nan", "inf", "x"],
}
SWITCHES = ["--bias", "--no-bias", "--force", "--resume", "--bogus"]
STATES = ["missing", "empty", "file", "foreign", "garbage manifest", "empty manifest", "damaged run.json",
          "other progress", "interrupted A", "interrupted A, damaged segment", "finished A", "finished A, edited",
          "finished A, damaged table", "unknown file in progress"]


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """Run directories of run A (64-sample chunks): finished, and interrupted with segments."""
    root = tmp_path_factory.mktemp("templates")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "CHUNK_SIZE", 64)
        patch.setattr(engine, "CHECKPOINT_EVERY", 0)
        pysimbias.sample_to_directory(root / "finished", plots=False, **PARAMS_A)
        with pytest.MonkeyPatch.context() as crash:
            StepCounter(crash, crash_at=4)
            with pytest.raises(Crash):
                pysimbias.sample_to_directory(root / "interrupted", plots=False, **PARAMS_A)
    assert list((root / "interrupted" / "chunks").glob("segment-*.bin"))
    return root


def make_state(state, out, templates):
    """Put ``out`` into one of STATES."""
    if state == "missing":
        return
    if state.startswith("finished A") or state.startswith("interrupted A"):
        shutil.copytree(templates / state.split(",")[0].split()[0], out)
    else:
        out.parent.mkdir(exist_ok=True)
    if state == "file":
        out.write_text("not a directory")
        return
    out.mkdir(exist_ok=True)
    if state == "foreign":
        (out / "notes.txt").write_text("mine")
    elif state == "garbage manifest":
        (out / "manifest.json").write_bytes(b"\x00\xffgarbage{")
    elif state == "empty manifest":
        (out / "manifest.json").write_text("{}")
    elif state in ("damaged run.json", "other progress", "unknown file in progress"):
        (out / "chunks").mkdir()
        text = {"damaged run.json": '{"format": "pysimbias-prog',
                "other progress": '{"format": "pysimbias-progress", "version": 1, "config": {"n": 9}}',
                "unknown file in progress": "{}"}[state]
        (out / "chunks" / "run.json").write_text(text)
        if state == "unknown file in progress":
            (out / "chunks" / "stray.txt").write_text("?")
    elif state == "interrupted A, damaged segment":
        victim = sorted((out / "chunks").glob("segment-*.bin"))[0]
        victim.write_bytes(victim.read_bytes()[:-3])
    elif state == "finished A, edited":
        text = (out / "manifest.json").read_text()
        (out / "manifest.json").write_text(text.replace('"distinct": ', '"distinct": 1'))
    elif state == "finished A, damaged table":
        (out / "functions.parquet").write_bytes(b"PAR1 broken")


@st.composite
def sample_flags(draw):
    """Flags of a sample command: run A's (so directories of run A match) or random ones."""
    flags = list(RUN_A) if draw(st.booleans()) else []
    for flag in draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=4, unique=True)):
        flags += [flag, draw(st.sampled_from(VALUES[flag]))]
    flags += draw(st.lists(st.sampled_from(SWITCHES), max_size=2, unique=True))
    if "--samples" not in flags:
        flags += ["--samples", "100"]
    return flags + ["--no-plots"]


def run_cli(capsys, args):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    _, err = capsys.readouterr()
    return info.value.code, err


def check_outcome(code, err, out, before):
    assert "Traceback" not in err, err
    assert code in (0, 2), err
    if code == 2:
        errors = [line for line in err.strip().splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    manifest = out / "manifest.json"
    if code == 0:
        assert pysimbias.load_run(out).histogram.samples > 0
    elif manifest.is_file():
        assert manifest.read_bytes() == before, "a failed command changed the manifest"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flags=sample_flags(), state=st.sampled_from(STATES), command=st.sampled_from(["sample"] * 4 + ["show", "plot"]))
def test_cli_never_tracebacks_nor_presents_half_written_runs(capsys, monkeypatch, templates, flags, state, command):
    monkeypatch.setattr(engine, "CHUNK_SIZE", 64)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        make_state(state, out, templates)
        manifest = out / "manifest.json"
        before = manifest.read_bytes() if manifest.is_file() else None
        args = ["sample", *flags, "--out", str(out)] if command == "sample" else [command, str(out)]
        code, err = run_cli(capsys, args)
        check_outcome(code, err, out, before)
        from hypothesis import event; event(f"{command} {state} exit {code}"); event(err.strip().splitlines()[-1][:60] if err.strip() else "")
        if command == "sample" and code == 0:
            assert not (out / "chunks").exists()
