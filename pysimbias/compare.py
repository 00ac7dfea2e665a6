"""Compare runs with each other and with the counting measure: a table and overlay plots.

For every run and every measure, :func:`compare_runs` reports the
probability-weighted mean and quantiles, the share of probability on
functions *simpler* than the counting measure's 1st percentile (strictly
below it, so the counting measure itself puts at most 1% there), and the
Kullback–Leibler divergence KL(P_run(measure) || P_counting(measure)) in
bits, with a 95% basic-bootstrap interval.

The counting measure's distribution of ``ones`` and ``entropy`` is known
exactly (t ~ Binomial(m, 1/2)).  For every other measure it comes from a
sample of uniform random functions on the same inputs and graph, with add-1/2
smoothing over the values either sample reaches; values the counting sample
never reaches are credited with about 1/(2N) probability, far more than
their true share, so those KL values err low (they are conservative).
"""

import math
import textwrap
from dataclasses import dataclass, field

import numpy as np

from .baseline import counting_measure_sample
from .measures import get_measure
from .measures.basic import binary_entropy

__all__ = ["Reference", "QUANTILES", "NO_SIMPLICITY", "compare_runs", "weighted_quantile",
           "kl_bits", "exact_reference", "sampled_reference", "terminal_table", "overlay_figure", "walsh_overlay_figure",
           "write_comparison", "compare_directories"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Measures with no "simpler" direction: no share-below-the-1st-percentile for them.
NO_SIMPLICITY = ("ones",)
# Measure values are compared after rounding to this many decimals, so that the
# same value computed in two places (last-ulp differences) is one value.
_DECIMALS = 9
_LOG2E = 1.0 / math.log(2.0)


def _key(values):
    return np.round(np.asarray(values, dtype=np.float64), _DECIMALS)


def _distribution(values, weights):
    """Distinct (rounded) values and the total weight on each."""
    support, inverse = np.unique(_key(values), return_inverse=True)
    return support, np.bincount(inverse.ravel(), weights=np.asarray(weights, dtype=np.float64),
                                minlength=support.shape[0])


@dataclass(frozen=True, eq=False)
class Reference:
    """The counting measure's distribution of one measure.

    Attributes
    ----------
    values : ndarray of float64
        Sorted distinct values.
    weights : ndarray of float64
        Exact probabilities (``exact``; they may underflow to 0 for large m)
        or sample counts.
    exact : bool
    context : str
        What it depends on, for legends (e.g. ``"m=128"``).
    log2p : ndarray of float64, optional
        Exact log2-probabilities (``exact`` only; they never underflow).
    """

    values: np.ndarray
    weights: np.ndarray
    exact: bool
    context: str = ""
    log2p: np.ndarray | None = None

    @property
    def samples(self):
        """Size of the counting sample (0 for an exact distribution)."""
        return 0 if self.exact else int(round(self.weights.sum()))

    def probabilities(self):
        """Probability of each value (the sample's frequencies for a sampled reference)."""
        return self.weights / self.weights.sum()

    def log2_probabilities_at(self, support, weights=None):
        """log2 P_counting at ``support`` (add-1/2 smoothed over the union for a sample).

        ``weights`` replaces the sample counts (a bootstrap replicate).
        """
        if self.exact:
            index = np.clip(np.searchsorted(self.values, support), 0, self.values.shape[0] - 1)
            if not np.allclose(self.values[index], support, rtol=0, atol=10.0 ** -_DECIMALS):
                raise ValueError("a run value is impossible under the counting measure")
            return self.log2p[index]
        counts = self.weights if weights is None else weights
        union = np.union1d(support, self.values)
        smoothed = np.zeros(union.shape[0])
        smoothed[np.searchsorted(union, self.values)] = counts
        smoothed = (smoothed + 0.5) / (counts.sum() + 0.5 * union.shape[0])
        return np.log2(smoothed[np.searchsorted(union, support)])

    def quantile(self, q):
        """The q-quantile (lower)."""
        return weighted_quantile(self.values, self.weights, [q])[0]

    def mean(self):
        """Mean value."""
        return float(np.dot(self.values, self.probabilities()))


def exact_reference(name, m):
    """Exact counting-measure distribution of ``ones`` or ``entropy`` on m inputs (else None)."""
    if name not in ("ones", "entropy"):
        return None
    t = np.arange(m + 1)
    log2_binomial = np.array([(math.lgamma(m + 1) - math.lgamma(k + 1) - math.lgamma(m - k + 1)) * _LOG2E - m
                              for k in t])
    values = t.astype(np.float64) if name == "ones" else binary_entropy(t, m)
    support, inverse = np.unique(_key(values), return_inverse=True)
    log2p = np.full(support.shape[0], -np.inf)
    np.logaddexp2.at(log2p, inverse, log2_binomial)
    return Reference(support, np.exp2(log2p), True, f"m={m}", log2p)


def sampled_reference(values, context=""):
    """Counting-measure distribution estimated from a sample of its values."""
    support, counts = _distribution(values, np.ones(np.shape(values)[0]))
    return Reference(support, counts, False, context)


def weighted_quantile(values, weights, qs):
    """Lower weighted quantiles: the smallest value whose cumulative weight share reaches q."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64)[order])
    cumulative /= cumulative[-1]
    index = np.searchsorted(cumulative, np.asarray(qs) - 1e-12, side="left")
    return values[order][np.clip(index, 0, values.shape[0] - 1)]


def kl_bits(support, mass, reference, reference_weights=None):
    """KL(P || counting) in bits for P given by ``mass`` on ``support``."""
    p = mass / mass.sum()
    keep = p > 0
    log2q = reference.log2_probabilities_at(support[keep], reference_weights)
    return float(np.sum(p[keep] * (np.log2(p[keep]) - log2q)))


def _bootstrap_kl(support, mass, reference, estimate, replicates, rng):
    """95% basic-bootstrap interval of KL, clipped at 0.

    Replicates resample the run (and a sampled counting reference) from
    their multinomials; the interval is ``[2 KL - q97.5, 2 KL - q2.5]`` of the
    replicates, which corrects for the upward bias of the plug-in KL.  Where
    that bias dominates (runs close to the counting measure) the interval
    lies below the plug-in estimate: the estimate is then mostly bias.
    """
    samples = int(round(mass.sum()))
    p = mass / mass.sum()
    values = np.empty(replicates)
    for b in range(replicates):
        resampled = rng.multinomial(samples, p).astype(np.float64)
        ref_weights = None
        if not reference.exact:
            ref_weights = rng.multinomial(reference.samples, reference.probabilities()).astype(np.float64)
        values[b] = kl_bits(support, resampled, reference, ref_weights)
    high, low = 2.0 * estimate - np.percentile(values, [2.5, 97.5])
    return max(low, 0.0), max(high, 0.0)


@dataclass
class RunEntry:
    """One run's data in a comparison: its label, measures, counts and references."""

    label: str
    run: object
    references: dict = field(default_factory=dict)


def _context_label(run):
    return f"m={run.histogram.m}, {run.graph.spec}"


def _references(run, names, baseline_size, cache):
    """Counting-measure references of each measure, for this run's inputs and graph."""
    encoding = run.encoding
    signature = (encoding.points_sha256(), run.graph.spec, baseline_size)
    if signature not in cache:
        context = run.measure_context()
        exact = {name: exact_reference(name, encoding.m) for name in names}
        values = counting_measure_sample(context, size=baseline_size,
                                         names=[name for name in names if exact[name] is None])
        cache[signature] = {name: exact[name] or sampled_reference(values[name], _context_label(run))
                            for name in names}
    return cache[signature]


def _constant_share(run):
    ones = run.measures["ones"]
    constant = (ones == 0) | (ones == run.histogram.m)
    return float(run.histogram.counts[constant].sum() / run.histogram.samples)


def _measure_row(values, counts, reference, name, bootstrap, rng):
    support, mass = _distribution(values, counts)
    quantiles = weighted_quantile(values, counts, QUANTILES)
    p01 = reference.quantile(0.01)
    row = {"mean": float(np.average(values, weights=counts))}
    row.update({f"q{round(q * 100):02d}": float(v) for q, v in zip(QUANTILES, quantiles)})
    estimate = kl_bits(support, mass, reference)
    row.update({
        "counting_mean": reference.mean(),
        "counting_p01": float(p01),
        "share_below_counting_p01": (math.nan if name in NO_SIMPLICITY
                                     else float(mass[support < _key(p01)].sum() / mass.sum())),
        "kl_bits": estimate,
    })
    low, high = (_bootstrap_kl(support, mass, reference, estimate, bootstrap, rng) if bootstrap
                 else (math.nan, math.nan))
    row.update({"kl_low": float(low), "kl_high": float(high), "counting_exact": reference.exact,
                "counting_samples": reference.samples})
    return row


def compare_runs(runs, labels=None, measures=None, baseline_size=100_000, bootstrap=200, seed=0):
    """Summarise runs against each other and the counting measure.

    Parameters
    ----------
    runs : sequence of Run
    labels : sequence of str, optional
        One per run (default: ``prior / encoding``).
    measures : sequence of str, optional
        Measures to compare (default: every measure any run has, in order).
    baseline_size : int
        Uniform random functions in each counting-measure sample.
    bootstrap : int
        Bootstrap replicates for the KL intervals (0: none).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    frame : pandas.DataFrame
        One row per (run, measure) that the run has.
    entries : list of RunEntry
        The runs with their counting-measure references (for plots).
    """
    import pandas as pd

    labels = list(labels) if labels is not None else [f"{r.config.prior} / {r.config.encoding}" for r in runs]
    if len(labels) != len(runs):
        raise ValueError(f"{len(labels)} labels for {len(runs)} runs")
    if measures is None:
        measures = list(dict.fromkeys(name for run in runs for name in run.measures))
    rng = np.random.default_rng(seed)
    cache, rows, entries = {}, [], []
    for label, run in zip(labels, runs):
        names = [name for name in measures if name in run.measures]
        entry = RunEntry(label, run, _references(run, names, baseline_size, cache))
        entries.append(entry)
        hist = run.histogram
        base = {"label": label, "prior": run.config.prior, "encoding": run.config.encoding,
                "graph": run.graph.spec, "m": hist.m, "samples": hist.samples, "distinct": hist.distinct,
                "p_constant": _constant_share(run)}
        for name in names:
            rows.append({**base, "measure": name,
                         **_measure_row(run.measures[name], hist.counts, entry.references[name], name,
                                        bootstrap, rng)})
    return pd.DataFrame(rows), entries


def _fmt(value, width=8):
    if isinstance(value, float) and math.isnan(value):
        return f"{'-':>{width}}"
    if isinstance(value, (int, np.integer)):
        return f"{value:>{width},}"
    return f"{value:>{width}.4g}"


def terminal_table(frame):
    """Readable text tables, one block per measure."""
    lines = []
    label_width = max([len("run")] + [len(str(x)) for x in frame["label"]])
    header = (f"{'run':<{label_width}}  {'samples':>9}  {'distinct':>9}  {'P(const)':>8}  {'mean':>8}  "
              f"{'q05':>8}  {'median':>8}  {'q95':>8}  {'<c.p01':>8}  {'KL bits':>8}  {'95% interval':>19}")
    for name, block in frame.groupby("measure", sort=False):
        first = block.iloc[0]
        kind = "exact" if first["counting_exact"] else f"{first['counting_samples']:,} uniform functions"
        lines += ["", f"{name}: {get_measure(name).description}",
                  f"  counting measure ({kind}): mean {first['counting_mean']:.4g}, "
                  f"1st percentile {first['counting_p01']:.4g}", header]
        for _, row in block.iterrows():
            interval = f"[{_fmt(row['kl_low'])}, {_fmt(row['kl_high'])}]"
            lines.append(
                f"{row['label']:<{label_width}}  {row['samples']:>9,}  {row['distinct']:>9,}  "
                f"{_fmt(row['p_constant'])}  {_fmt(row['mean'])}  {_fmt(row['q05'])}  {_fmt(row['q50'])}  "
                f"{_fmt(row['q95'])}  {_fmt(row['share_below_counting_p01'])}  {_fmt(row['kl_bits'])}  "
                f"{interval:>19}")
    lines += ["", "<c.p01: share of probability on functions below the counting measure's 1st percentile"]
    return lines


def _bins(all_values):
    """Plot bins: each distinct value when there are few, else 50 equal-width bins."""
    distinct = np.unique(_key(all_values))
    if distinct.shape[0] <= 80:
        return distinct, None
    edges = np.linspace(distinct[0], distinct[-1], 51)
    return 0.5 * (edges[1:] + edges[:-1]), edges


def _binned(values, weights, centres, edges):
    if edges is None:
        index = np.searchsorted(centres, _key(values))
        out = np.zeros(centres.shape[0])
        np.add.at(out, index, weights)
    else:
        out, _ = np.histogram(values, bins=edges, weights=weights)
    return out / out.sum()


def overlay_figure(name, entries, title="", ax=None):
    """P(measure) of every run on one axis, with the counting measure(s) dashed.

    Draws on ``ax`` when given (and returns its figure), else on a new figure.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    references = {}
    for entry in entries:
        if name in entry.references:
            ref = entry.references[name]
            signature = (ref.exact, ref.values.tobytes(), ref.weights.tobytes())
            references.setdefault(signature, ref)
    runs = [entry for entry in entries if name in entry.run.measures]
    pooled = np.concatenate([entry.run.measures[name] for entry in runs]
                            + [ref.values for ref in references.values()])
    centres, edges = _bins(pooled)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.8))
    fig = ax.figure
    styles = ["-", "--", "-.", ":"]
    for k, entry in enumerate(runs):
        p = _binned(entry.run.measures[name], entry.run.histogram.counts, centres, edges)
        ax.plot(centres, np.where(p > 0, p, np.nan), styles[(k // 10) % 4], marker="o", ms=2.5, lw=1.2,
                color=f"C{k % 10}", label=entry.label)
    for g, ref in enumerate(references.values()):
        p = _binned(ref.values, ref.weights, centres, edges)
        kind = "exact" if ref.exact else f"{ref.samples:,} uniform functions"
        where = f", {ref.context}" if len(references) > 1 else ""
        ax.plot(centres, np.where(p > 0, p, np.nan), color=str(0.2 + 0.15 * (g % 4)), ls=(0, (4, 2)), lw=2,
                label=f"counting measure ({kind}{where})")
    ax.set_yscale("log")
    ax.set_ylim(0.3 / max(entry.run.histogram.samples for entry in runs), 1.5)  # down to the runs' resolution
    ax.set_xlabel(textwrap.fill(f"{name}: {get_measure(name).description}", 80), fontsize=9)
    ax.set_ylabel("probability" + ("" if edges is None else " per bin"))
    ax.set_title(title or f"Distribution of {name}", fontsize=11)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def walsh_overlay_figure(entries, title=""):
    """Every run's Walsh spectrum by degree on one log axis, with the counting measure's dashed.

    Runs without a ``walsh_spectrum`` (not on bit vectors) are left out.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.8))
    counting = {}
    for k, entry in enumerate(entries):
        spectrum = entry.run.manifest.get("walsh_spectrum")
        if spectrum is None:
            continue
        prior = np.asarray(spectrum["prior"], dtype=np.float64)
        ax.plot(spectrum["degree"], np.where(prior > 0, prior, np.nan), "o-", color=f"C{k % 10}", label=entry.label)
        counting[len(spectrum["degree"]) - 1] = spectrum
    for n, spectrum in counting.items():
        ax.plot(spectrum["degree"], spectrum["counting"], color="0.4", ls=(0, (4, 2)), lw=2,
                label=f"counting measure, n = {n}: C(n, k) / 2^n")
    ax.set_yscale("log")
    ax.set_xlabel("degree k = |S|")
    ax.set_ylabel(r"$\sum_{|S|=k}\, E[\hat{f}(S)^2]$  (±1 outputs)")
    ax.set_title(title or "Walsh spectrum by degree", fontsize=11)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def write_comparison(frame, entries, out, plots=True, dpi=100):
    """Write ``compare.csv``, ``compare.txt`` and (with ``plots``) ``p_<measure>.png`` into ``out``.

    With ``plots``, runs on bit vectors also get ``walsh_spectrum.png``
    (:func:`walsh_overlay_figure`).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from pathlib import Path

    from .store.rundir import atomic_write_bytes

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "compare.csv", out / "compare.txt"]
    atomic_write_bytes(written[0], frame.to_csv(index=False).encode())
    atomic_write_bytes(written[1], ("\n".join(terminal_table(frame)) + "\n").encode())
    if plots:
        import matplotlib.pyplot as plt

        figures = {f"p_{name}.png": lambda name=name: overlay_figure(name, entries)
                   for name in dict.fromkeys(frame["measure"])}
        if any("walsh_spectrum" in entry.run.manifest for entry in entries):
            figures["walsh_spectrum.png"] = lambda: walsh_overlay_figure(entries)
        for filename, draw in figures.items():
            fig = draw()
            fig.tight_layout()
            path = out / filename
            tmp = path.with_name(f".{path.name}.tmp.png")
            fig.savefig(tmp, dpi=dpi)
            plt.close(fig)
            tmp.replace(path)
            written.append(path)
    return written


def _prepare_output(out, force):
    """Create the comparison folder; refuse a run directory, and a non-empty one without ``force``."""
    from pathlib import Path

    from .errors import RunDirectoryError
    from .store.rundir import MANIFEST

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunDirectoryError(f"{out} exists and is not a directory; choose another --out")
    if (out / MANIFEST).exists():
        raise RunDirectoryError(f"{out} holds a run; choose another --out for the comparison")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise RunDirectoryError(f"{out} already exists and is not empty; choose another --out or pass --force")
    out.mkdir(parents=True, exist_ok=True)
    return out


def compare_directories(run_dirs, out, labels=None, measures=None, baseline_size=100_000, bootstrap=200,
                        seed=0, force=False, plots=True):
    """Load run directories, compare them (:func:`compare_runs`) and write the comparison into ``out``.

    Labels default to the directories' names.  Raises
    :class:`~pysimbias.errors.InvalidParameterError` for a label count that
    does not match or a measure no run has, and
    :class:`~pysimbias.errors.RunDirectoryError` for an unreadable run or an
    unusable ``out``.

    Returns
    -------
    frame : pandas.DataFrame
    written : list of pathlib.Path
    """
    from pathlib import Path

    from .errors import InvalidParameterError
    from .run import load_run

    if not run_dirs:
        raise InvalidParameterError("run_dirs", "name at least one run directory")
    labels = [Path(d).resolve().name for d in run_dirs] if labels is None else list(labels)
    if len(labels) != len(run_dirs):
        raise InvalidParameterError("labels", f"give one label per run: {len(labels)} labels, "
                                              f"{len(run_dirs)} runs")
    runs = [load_run(d) for d in run_dirs]
    if measures is not None:
        measures = list(measures)
        for name in measures:
            get_measure(name)
            if not any(name in run.measures for run in runs):
                raise InvalidParameterError("measures", f"no run has measure {name!r}")
    out = _prepare_output(out, force)
    frame, entries = compare_runs(runs, labels, measures, baseline_size, bootstrap, seed)
    return frame, write_comparison(frame, entries, out, plots=plots)
