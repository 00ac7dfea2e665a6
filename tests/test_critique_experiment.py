"""The critique experiment runs from the command line and writes its report from the data."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_critique_writes_report_table_and_figures(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "experiments" / "critique.py"), "--quick", "--out",
                             str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "REPORT.md").read_text()
    for heading in ("### 1.", "### 2.", "### 3.", "### 4.", "## Table", "## Figures"):
        assert heading in report
    assert report.count("**Answer:") == 4
    frame = pd.read_csv(tmp_path / "compare.csv")
    assert frame["label"].nunique() == 44
    for name in ("simplicity_heatmap.png", "p_entropy_binary_onehot.png", "p_klz_reenumeration.png",
                 "p_boundary_binary_gaussian.png"):
        assert (tmp_path / name).stat().st_size > 0 and name in report
    # the same seed gives the same network on every re-enumeration: identical entropy shares
    shares = frame[frame["measure"] == "entropy"].set_index("label")["share_below_counting_p01"]
    assert shares["mlp__binary"] == shares["mlp__permuted"] == shares["mlp__gray"]
