"""Memory budgets: parsing, plans, refusals, and peak memory of a spilling run."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pysimbias import InvalidParameterError
from pysimbias.store.memory import MemoryPlan, current_rss, parse_memory, peak_rss, physical_memory, plan_memory

ROOT = Path(__file__).resolve().parents[2]
GIB = 1 << 30


@pytest.mark.parametrize(
    "text, expected",
    [("2G", 2 * GIB), ("2GiB", 2 * GIB), ("2gb", 2 * GIB), ("512M", 512 << 20), ("1.5G", 3 * GIB // 2),
     (" 64 m ", 64 << 20), ("3000000", 3_000_000), ("1T", None), (5 * GIB, 5 * GIB)],
)
def test_parse_memory_sizes(text, expected):
    total = physical_memory()
    if expected is None or expected > total:
        with pytest.raises(InvalidParameterError, match="more than this machine"):
            parse_memory(text)
    else:
        assert parse_memory(text) == expected


def test_parse_memory_shares_and_default():
    total = physical_memory()
    assert parse_memory("50%") == int(total * 0.5)
    assert parse_memory(None) == int(total * 0.5)
    assert parse_memory("100%") == total


@pytest.mark.parametrize("value", ["0", "-1G", "abc", "", "1K", "101%", "0%", "nan", "1e30", "2 G B", True, None.__class__,
                                   float("inf")])
def test_parse_memory_refuses_with_the_parameter_named(value):
    with pytest.raises(InvalidParameterError) as info:
        parse_memory(value)
    assert info.value.param == "memory"


def test_plan_grows_with_the_budget_and_refuses_too_little():
    baseline = 200 << 20
    small = plan_memory(700 << 20, baseline, 2, 128, 1 << 16, 1 << 18)
    large = plan_memory(8 * GIB, baseline, 2, 128, 1 << 16, 1 << 18)
    assert small.table_rows >= 1 << 16 and large.table_rows > 8 * small.table_rows
    assert large.fan_in >= small.fan_in >= 2 and large.sort_rows > small.sort_rows
    with pytest.raises(InvalidParameterError, match="give at least") as info:
        plan_memory(400 << 20, baseline, 2, 128, 1 << 16, 1 << 18)
    assert "400.0 MiB" in info.value.message
    # 16-bit inputs: 8 KiB per function, so one chunk alone needs gigabytes
    with pytest.raises(InvalidParameterError, match="65536-bit functions"):
        plan_memory(2 * GIB, baseline, 1024, 65536, 1 << 16, 512)


def test_explicit_plans_are_checked():
    with pytest.raises(InvalidParameterError, match="fan_in"):
        MemoryPlan(table_rows=10, block_rows=10, sort_rows=10, fan_in=1)
    with pytest.raises(InvalidParameterError, match="table_rows"):
        MemoryPlan(table_rows=0, block_rows=10, sort_rows=10, fan_in=2)


def test_rss_readings_are_plausible():
    assert current_rss() > 10 << 20 and peak_rss() > 10 << 20


@pytest.mark.slow
def test_spilling_run_stays_within_its_budget(tmp_path):
    """Two million distinct functions under a budget just above the smallest accepted: spilled, merged, within it.

    The smallest budget depends on what the interpreter, its libraries and
    the kernels occupy on this machine, so it is read from the error a tiny
    budget gives, asked twice: the first process may compile the kernels
    (and cache them), which takes more memory than loading them.
    """
    command = [sys.executable, "-c", "import cli; cli.main()", "sample", "--prior", "uniform", "--n", "6",
               "--samples", "2e6", "--no-plots"]
    for _ in range(2):
        refused = subprocess.run([*command, "--memory", "100M", "--out", str(tmp_path / "refused")], cwd=ROOT,
                                 capture_output=True, text=True)
    assert refused.returncode == 2
    minimum = float(re.search(r"give at least ([0-9.]+) MiB", refused.stderr).group(1))
    budget = int(minimum) + 60
    out = tmp_path / "run"
    result = subprocess.run([*command, "--memory", f"{budget}M", "--out", str(out)], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["distinct"] > 1_900_000
    assert manifest["progress"]["segments"] >= 2
    assert manifest["memory"]["peak_rss_bytes"] <= budget << 20
