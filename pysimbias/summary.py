"""Readable text summaries of runs (what ``pysimbias show`` prints)."""

import numpy as np

from .plots import _run_title

__all__ = ["summary_lines"]


def _constant_probability(run):
    ones = run.measures["ones"]
    constant = (ones == 0) | (ones == run.histogram.m)
    return run.histogram.counts[constant].sum() / max(run.histogram.samples, 1)


def _short(text, width=48):
    return text if len(text) <= width else f"{text[:width - 9]}…{text[-8:]}"


def _walsh_lines(spectrum):
    """The Walsh spectrum table (expected weight at each degree), run against the counting measure."""
    if spectrum is None:
        return []
    row = "  ".join(f"{k:>8}" for k in spectrum["degree"])
    return [f"Walsh weight, degree k: {row}",
            "  this run:             " + "  ".join(f"{w:>8.3g}" for w in spectrum["prior"]),
            "  counting measure:     " + "  ".join(f"{w:>8.3g}" for w in spectrum["counting"])]


def summary_lines(run, top=10):
    """Lines describing a run: sizes, P(constant), and its most frequent functions."""
    hist = run.histogram
    measures = run.measures
    lines = [
        f"run:               {_run_title(run.config)}",
        f"seed:              {run.config.seed}",
        f"samples:           {hist.samples:,}",
        f"distinct functions:{hist.distinct:>12,}",
        f"P(constant):       {_constant_probability(run):.6g}",
        f"mean K_LZ:         {np.average(measures['klz'], weights=hist.counts):.3f}",
        f"mean entropy:      {np.average(measures['entropy'], weights=hist.counts):.4f} bits",
    ]
    lines += _walsh_lines(run.manifest.get("walsh_spectrum"))
    if run.elapsed:
        lines.append(f"sampling time:     {run.elapsed:.2f} s ({hist.samples / run.elapsed:,.0f} samples/s)")
    shown = [name for name in measures if name in ("ones", "entropy", "lz76", "klz", "lz78")]
    header = f"{'rank':>4}  {'P(f)':>10}  {'count':>10}  " + "  ".join(f"{n:>7}" for n in shown) + "  function"
    lines += ["", f"top {min(top, hist.distinct)} functions:", header]
    texts = hist.texts(slice(0, top))
    for r in range(min(top, hist.distinct)):
        values = "  ".join(f"{measures[n][r]:>7.4g}" for n in shown)
        lines.append(f"{r + 1:>4}  {hist.counts[r] / hist.samples:>10.4g}  {hist.counts[r]:>10,}  {values}  "
                     f"{_short(texts[r])}")
    return lines
