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

Runs that condition on a training set S, ``posterior`` runs (the Bayesian
P_B(f|S)) and ``train`` runs (the functions of trained networks,
P_SGD(f|S)), compare only with each other and only on the same target and
training set (:func:`check_posterior_runs`).  Their reference is the counting
measure's posterior (uniform on the functions that agree with the target on
S, sampled for every measure), and :func:`compare_posteriors` adds each run's
P(U) (posterior) or fit rate and epochs to fit (train), the mean test error,
the PAC-Bayes bound (posterior), and how its P(f|S) agrees with the first
run's on the functions both found (:func:`probability_agreement`, reusable
for any two histograms).
"""

import math
import textwrap
from dataclasses import dataclass, field

import numpy as np

from .baseline import counting_measure_sample
from .errors import InvalidParameterError
from .measures import get_measure
from .measures.basic import binary_entropy
from .kernels.bits import n_words
from .summary import (MIN_ACCEPTED, check_delta, conditions_on_training_set, constant_probability, pac_bayes_bound,
                      posterior_summary, summarize_test_error, task_entry, weighted_quantile)

__all__ = ["Reference", "QUANTILES", "NO_SIMPLICITY", "compare_runs", "weighted_quantile",
           "kl_bits", "exact_reference", "sampled_reference", "terminal_table", "overlay_figure",
           "walsh_overlay_figure",
           "write_comparison", "compare_directories", "check_posterior_runs", "compare_posteriors",
           "posterior_table", "shared_probabilities", "log_probability_correlation", "probability_agreement",
           "probability_scatter_figure", "test_error_overlay", "leading_shared_probabilities", "join_rows",
           "JOIN_ROWS", "JOIN_BYTES"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Measures with no "simpler" direction: no share-below-the-1st-percentile for them.
NO_SIMPLICITY = ("ones",)
# Measure values are compared after rounding to this many decimals, so that the
# same value computed in two places (last-ulp differences) is one value.
_DECIMALS = 9
_LOG2E = 1.0 / math.log(2.0)
#: Most functions of each run matched across runs (its most frequent ones) ...
JOIN_ROWS = 1 << 21
#: ... and fewer when their packed keys would take more bytes than this.
JOIN_BYTES = 1 << 26


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
    return f"m={run.aggregates.m}, {run.graph.spec}"


def _references(run, names, baseline_size, cache):
    """Counting-measure references of each measure, for this run's inputs and graph.

    For a run conditioned on S (posterior or train) the reference is the
    counting measure's posterior (uniform on the functions that agree with
    the target on S), sampled for every measure.
    """
    encoding = run.encoding
    posterior = conditions_on_training_set(run.config)
    signature = (encoding.points_sha256(), run.graph.spec, baseline_size, posterior)
    if signature not in cache:
        context = run.measure_context()
        exact = {name: None if posterior else exact_reference(name, encoding.m) for name in names}
        values = counting_measure_sample(context, size=baseline_size, posterior=posterior,
                                         names=[name for name in names if exact[name] is None])
        cache[signature] = {name: exact[name] or sampled_reference(values[name], _context_label(run))
                            for name in names}
    return cache[signature]


def _measure_row(values, counts, reference, name, bootstrap, rng):
    """The row of one measure: ``values`` with their ``counts`` (per function, or per distinct value)."""
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

    Raises :class:`~pysimbias.errors.InvalidParameterError` for posterior
    or train runs mixed with sample runs or of different targets or training
    sets (:func:`check_posterior_runs`).

    Every number comes from the runs' aggregates (each measure's
    distribution over its distinct values), never from their whole tables.

    Parameters
    ----------
    runs : sequence of Run or StoredRun
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
        One row per (run, measure) that the run has (none for a run with no function: an empty posterior).
    entries : list of RunEntry
        The runs with their counting-measure references (for plots).
    """
    import pandas as pd

    labels = list(labels) if labels is not None else [f"{r.config.prior} / {r.config.encoding}" for r in runs]
    if len(labels) != len(runs):
        raise ValueError(f"{len(labels)} labels for {len(runs)} runs")
    check_posterior_runs(runs, labels)
    if measures is None:
        measures = list(dict.fromkeys(name for run in runs for name in run.aggregates.names))
    rng = np.random.default_rng(seed)
    cache, rows, entries = {}, [], []
    for label, run in zip(labels, runs):
        # A posterior that accepted no draw has no distribution of any measure: it gets no rows.
        aggregates = run.aggregates
        names = [name for name in measures if name in aggregates.names] if aggregates.samples else []
        entry = RunEntry(label, run, _references(run, names, baseline_size, cache))
        entries.append(entry)
        base = {"label": label, "task": run.config.task, "prior": run.config.prior, "encoding": run.config.encoding,
                "graph": run.graph.spec, "m": aggregates.m, "samples": aggregates.samples,
                "distinct": aggregates.distinct,
                "p_constant": constant_probability(aggregates) if aggregates.samples else math.nan}
        for name in names:
            values, mass, _ = aggregates.distribution(name)
            rows.append({**base, "measure": name,
                         **_measure_row(values, mass, entry.references[name], name, bootstrap, rng)})
    return pd.DataFrame(rows, columns=None if rows else ["label", "measure"]), entries


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
        if first["task"] != "sample":
            kind += " that agree with the target on S"
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
    runs = [entry for entry in entries if name in entry.run.aggregates.names and entry.run.aggregates.samples]
    distributions = [entry.run.aggregates.distribution(name) for entry in runs]
    pooled = np.concatenate([values for values, _, _ in distributions] + [ref.values for ref in references.values()])
    centres, edges = _bins(pooled)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.8))
    fig = ax.figure
    styles = ["-", "--", "-.", ":"]
    for k, (entry, (values, mass, _)) in enumerate(zip(runs, distributions)):
        p = _binned(values, mass, centres, edges)
        ax.plot(centres, np.where(p > 0, p, np.nan), styles[(k // 10) % 4], marker="o", ms=2.5, lw=1.2,
                color=f"C{k % 10}", label=entry.label)
    posterior = any(conditions_on_training_set(entry.run.config) for entry in runs)
    baseline = "counting-measure posterior" if posterior else "counting measure"
    for g, ref in enumerate(references.values()):
        p = _binned(ref.values, ref.weights, centres, edges)
        kind = "exact" if ref.exact else f"{ref.samples:,} uniform functions"
        where = f", {ref.context}" if len(references) > 1 else ""
        ax.plot(centres, np.where(p > 0, p, np.nan), color=str(0.2 + 0.15 * (g % 4)), ls=(0, (4, 2)), lw=2,
                label=f"{baseline} ({kind}{where})")
    ax.set_yscale("log")
    ax.set_ylim(0.3 / max(entry.run.aggregates.samples for entry in runs), 1.5)  # down to the runs' resolution
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


def _save(fig, path, dpi):
    import matplotlib.pyplot as plt

    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=dpi)
    plt.close(fig)
    tmp.replace(path)
    return path


def write_comparison(frame, entries, out, plots=True, dpi=100, posterior=None):
    """Write ``compare.csv``, ``compare.txt`` and (with ``plots``) ``p_<measure>.png`` into ``out``.

    With ``posterior`` (a :func:`compare_posteriors` frame, of posterior
    and train runs) also ``posterior.csv``, its :func:`posterior_table` at
    the end of ``compare.txt`` and (with ``plots``) ``test_error.png`` (the
    test-error distributions overlaid) and, for two runs or more,
    ``pfs_scatter.png`` (P(f|S) of every run against the first's, log-log).

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
    lines = terminal_table(frame) + ([] if posterior is None else posterior_table(posterior))
    atomic_write_bytes(written[0], frame.to_csv(index=False).encode())
    atomic_write_bytes(written[1], ("\n".join(lines) + "\n").encode())
    if posterior is not None:
        written.append(out / "posterior.csv")
        atomic_write_bytes(written[-1], posterior.to_csv(index=False).encode())
    if plots:
        for name in dict.fromkeys(frame["measure"]):
            written.append(_save(overlay_figure(name, entries), out / f"p_{name}.png", dpi))
        if posterior is not None and any(entry.run.accepted for entry in entries):
            written.append(_save(test_error_overlay(entries), out / "test_error.png", dpi))
        if posterior is not None and len(entries) > 1:
            written.append(_save(_pfs_scatter(entries), out / "pfs_scatter.png", dpi))
        if any("walsh_spectrum" in entry.run.manifest for entry in entries):
            written.append(_save(walsh_overlay_figure(entries), out / "walsh_spectrum.png", dpi))
    return written


def _target_text(entry):
    function = entry["target"]["function"]
    shown = function if len(function) <= 20 else f"{function[:16]}…"
    return f"{entry['target']['spec']!r} = {shown} ({len(function)} inputs)"


def _train_text(entry):
    indices = entry["train"]["indices"]
    shown = ", ".join(map(str, indices[:6])) + (", …" if len(indices) > 6 else "")
    return f"{entry['train']['spec']!r} = {{{shown}}} (|S| = {entry['train']['size']})"


def check_posterior_runs(runs, labels):
    """Whether the runs to compare condition on a training set; refuse a mix, and different tasks.

    Posterior and train runs compare with each other (P_B(f|S) against
    P_SGD(f|S), or either against its own kind), never with sample runs,
    and only on the same target (its full bit string, so ``x1`` and its bit
    string are one target) and the same training-set indices, as their
    manifests' task entries (:func:`~pysimbias.summary.task_entry`) record.

    Returns
    -------
    bool
        True for posterior and train runs, False for sample runs.

    Raises
    ------
    InvalidParameterError
        Naming the first run that differs from the first run, and how.
    """
    first, conditioned = labels[0], conditions_on_training_set(runs[0].config)
    reference = task_entry(runs[0]) if conditioned else None
    rule = "posterior and train runs compare only with each other, on the same target and training set"
    for label, run in zip(labels[1:], runs[1:]):
        if conditions_on_training_set(run.config) != conditioned:
            raise InvalidParameterError(
                "runs", f"{label} is a {run.config.task} run but {first} is a {runs[0].config.task} run; {rule}")
        if not conditioned:
            continue
        entry = task_entry(run)
        if entry["target"]["function"] != reference["target"]["function"]:
            raise InvalidParameterError(
                "runs", f"{label}'s target {_target_text(entry)} differs from {first}'s {_target_text(reference)}; "
                        f"{rule}")
        if entry["train"]["indices"] != reference["train"]["indices"]:
            raise InvalidParameterError(
                "runs", f"{label}'s training set {_train_text(entry)} differs from {first}'s "
                        f"{_train_text(reference)}; {rule}")
    return conditioned


def shared_probabilities(hist_a, hist_b):
    """Probabilities of the functions that two histograms both hold, matched function by function.

    Parameters
    ----------
    hist_a, hist_b : Histogram
        On the same number of inputs (e.g. a posterior P_B(f|S) and the
        functions SGD finds, P_SGD(f|S)).

    Returns
    -------
    p_a, p_b : ndarray of float64
        ``hist_a``'s and ``hist_b``'s probability (count / total) of each
        shared function, in ``hist_a``'s row order.
    """
    if hist_a.m != hist_b.m:
        raise InvalidParameterError("runs", f"functions on {hist_a.m} and on {hist_b.m} inputs cannot be matched")
    rows_a, rows_b = _shared_rows(hist_a.keys, hist_b.keys)
    return hist_a.probabilities[rows_a], hist_b.probabilities[rows_b]


def _shared_rows(keys_a, keys_b):
    """Rows of the keys that both arrays hold (each without repeats), in ``keys_a``'s order."""
    row = np.dtype((np.void, 8 * keys_a.shape[1]))
    _, rows_a, rows_b = np.intersect1d(np.ascontiguousarray(keys_a).view(row).ravel(),
                                       np.ascontiguousarray(keys_b).view(row).ravel(),
                                       assume_unique=True, return_indices=True)
    order = np.argsort(rows_a)
    return rows_a[order], rows_b[order]


def join_rows(m):
    """How many of each run's most frequent functions a comparison matches (their keys take at most 64 MiB)."""
    return int(min(JOIN_ROWS, max(1, JOIN_BYTES // (8 * n_words(m)))))


def leading_shared_probabilities(run_a, run_b):
    """:func:`shared_probabilities` of two runs, within bounded memory.

    Only each run's :func:`join_rows` most frequent functions are matched
    (all of them for runs with no more distinct functions than that).

    Returns
    -------
    p_a, p_b : ndarray of float64
        Each run's probability of every function found in both leading sets.
    limit : int or None
        The number of leading functions matched, or None when both runs were matched whole.
    """
    m_a, m_b = run_a.aggregates.m, run_b.aggregates.m
    if m_a != m_b:
        raise InvalidParameterError("runs", f"functions on {m_a} and on {m_b} inputs cannot be matched")
    limit = join_rows(m_a)
    keys_a, counts_a = run_a.leading_keys(limit)
    keys_b, counts_b = run_b.leading_keys(limit)
    rows_a, rows_b = _shared_rows(keys_a, keys_b)
    whole = max(run_a.aggregates.distinct, run_b.aggregates.distinct) <= limit
    return (counts_a[rows_a] / max(run_a.aggregates.samples, 1), counts_b[rows_b] / max(run_b.aggregates.samples, 1),
            None if whole else limit)


def log_probability_correlation(p_a, p_b, level=0.95):
    """Pearson correlation of log10 p_a and log10 p_b, with its Fisher-z interval.

    The interval, tanh(atanh(r) ± z_(1+level)/2 / sqrt(N - 3)), assumes the
    pairs of log probabilities are roughly bivariate normal.

    Returns
    -------
    r, low, high : float
        NaN with fewer than 4 pairs or when either side is constant.
    """
    from scipy.stats import norm

    x, y = np.log10(np.asarray(p_a, dtype=np.float64)), np.log10(np.asarray(p_b, dtype=np.float64))
    if x.shape[0] < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan, math.nan, math.nan
    r = float(np.clip(np.corrcoef(x, y)[0, 1], -1.0, 1.0))
    half = norm.ppf(0.5 + level / 2) / math.sqrt(x.shape[0] - 3)
    with np.errstate(divide="ignore"):
        z = np.arctanh(r)
    return r, float(np.tanh(z - half)), float(np.tanh(z + half))


def probability_agreement(hist_a, hist_b, level=0.95):
    """How two distributions over functions agree on the functions both found.

    Returns
    -------
    dict
        ``shared`` (functions in both), ``mass_a`` and ``mass_b`` (each
        distribution's probability on them), ``log10_ratio_mean`` and
        ``log10_ratio_median`` (of log10 P_a(f) / P_b(f) over the shared
        functions; NaN when none), and ``correlation`` with
        ``correlation_low`` and ``correlation_high``
        (:func:`log_probability_correlation` at ``level``).
    """
    return _agreement(*shared_probabilities(hist_a, hist_b), level)


def _agreement(p_a, p_b, level=0.95):
    """:func:`probability_agreement` from the probabilities of the shared functions."""
    ratio = np.log10(p_a) - np.log10(p_b)
    r, low, high = log_probability_correlation(p_a, p_b, level)
    return {"shared": int(p_a.shape[0]), "mass_a": float(p_a.sum()), "mass_b": float(p_b.sum()),
            "log10_ratio_mean": float(ratio.mean()) if ratio.size else math.nan,
            "log10_ratio_median": float(np.median(ratio)) if ratio.size else math.nan,
            "correlation": r, "correlation_low": low, "correlation_high": high}


def probability_scatter_figure(p_a, p_b, label_a, label_b, title="", ax=None):
    """P_a(f) against P_b(f) of shared functions on log-log axes, with the identity line.

    Draws on ``ax`` when given (and returns its figure), else on a new figure.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    fig = ax.figure
    r, low, high = log_probability_correlation(p_a, p_b)
    correlation = "" if math.isnan(r) else f", r(log P) = {r:.3f} [{low:.3f}, {high:.3f}]"
    ax.scatter(p_b, p_a, s=10, alpha=0.4, lw=0, color="C0", label=f"{len(p_a):,} shared functions{correlation}")
    if len(p_a):
        low_end = 0.5 * min(p_a.min(), p_b.min())
        high_end = 2 * max(p_a.max(), p_b.max())
        ax.plot([low_end, high_end], [low_end, high_end], "--", color="0.45", lw=1, label="identity: equal P(f|S)")
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        ax.text(0.5, 0.5, "no function found by both", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel(f"P(f|S) in {label_b}")
    ax.set_ylabel(f"P(f|S) in {label_a}")
    ax.set_title(title or f"{label_a} against {label_b}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    return fig


_POSTERIOR_COLUMNS = ("p_u", "p_u_low", "p_u_high", "pac_bayes_bound", "pac_bayes_bound_conservative")
_TEST_ERROR_COLUMNS = ("mean_test_error", "mean_test_error_low", "mean_test_error_high")
_AGREEMENT_COLUMNS = ("log10_ratio_mean", "log10_ratio_median", "correlation", "correlation_low", "correlation_high")


def _nan(value):
    return math.nan if value is None else float(value)


def _task_numbers(run, delta):
    """A run's own numbers in :func:`compare_posteriors`: P(U) and PAC-Bayes, or fit rate and epochs to fit."""
    if run.config.task == "posterior":
        summary = posterior_summary(run, delta)
        p_u_low, p_u_high = summary["p_u_interval"]
        return dict(zip(_POSTERIOR_COLUMNS, map(_nan, (summary["p_u"], p_u_low, p_u_high, summary["pac_bayes_bound"],
                                                       summary["pac_bayes_bound_conservative"]))))
    training = run.manifest["training"]
    epochs = training["epochs_to_fit"]
    return {"fit_rate": _nan(training["fit_rate"]), "epochs_to_fit_mean": _nan(epochs.get("mean")),
            "epochs_to_fit_median": _nan(epochs.get("q50"))}


def _test_error_numbers(run):
    """Mean test error with its 95% interval (NaN below :data:`~pysimbias.summary.MIN_ACCEPTED` functions)."""
    if run.accepted < MIN_ACCEPTED:
        return dict.fromkeys(_TEST_ERROR_COLUMNS, math.nan)
    summary = summarize_test_error(*run.aggregates.distribution("test_error")[:2])
    return dict(zip(_TEST_ERROR_COLUMNS, (summary["mean_test_error"], *summary["mean_test_error_interval"])))


def compare_posteriors(runs, labels, delta=0.05):
    """One row per posterior or train run and one for the counting measure: P(U) or fit rate, test error, P(f|S).

    Parameters
    ----------
    runs : sequence of Run
        Posterior runs (P_B(f|S)) and train runs (P_SGD(f|S)) of one
        target and training set (:func:`check_posterior_runs`).
    labels : sequence of str
    delta : float
        Confidence parameter of the PAC-Bayes bound.

    Returns
    -------
    pandas.DataFrame
        Per run: ``label``, ``task``, ``drawn`` (draws, or networks
        trained), ``accepted`` (draws accepted, or networks that fitted S),
        ``distinct``; for a posterior run ``p_u`` with its 95%
        Clopper–Pearson ``p_u_low``/``p_u_high``, ``pac_bayes_bound`` and
        ``pac_bayes_bound_conservative`` (the values of
        :func:`~pysimbias.summary.posterior_summary`; NaN below its
        ``MIN_ACCEPTED``); for a train run ``fit_rate``,
        ``epochs_to_fit_mean`` and ``epochs_to_fit_median``;
        ``mean_test_error`` with its 95% ``mean_test_error_low``/``_high``
        (NaN below ``MIN_ACCEPTED`` functions), and, for every run after the
        first, :func:`probability_agreement` with the first run as ``P_b``:
        ``shared``, ``mass_shared`` (this run's probability on the functions
        both found, e.g. the share of P_SGD's mass on functions P_B found),
        ``mass_shared_first`` (the first run's), ``log10_ratio_mean``,
        ``log10_ratio_median``, ``correlation``, ``correlation_low``,
        ``correlation_high``.  The last row, ``counting measure``, has
        P(U) = 2^-|S|, test error 1/2 and its bound.
    """
    import pandas as pd

    check_posterior_runs(runs, labels)
    delta = check_delta(delta)
    train_size = int(task_entry(runs[0])["train"]["size"])
    test_size = runs[0].aggregates.m - train_size
    rows = []
    for k, (label, run) in enumerate(zip(labels, runs)):
        row = {"label": label, "task": run.config.task, "drawn": run.drawn, "accepted": run.accepted,
               "distinct": run.aggregates.distinct, "train_size": train_size, "test_size": test_size,
               "delta": delta, **_task_numbers(run, delta), **_test_error_numbers(run)}
        agreement = {}
        if k:
            p_a, p_b, limit = leading_shared_probabilities(run, runs[0])
            agreement = {**_agreement(p_a, p_b), "join_rows": pd.NA if limit is None else limit}
        row.update({"shared": agreement.get("shared", pd.NA), "join_rows": agreement.get("join_rows", pd.NA),
                    "mass_shared": agreement.get("mass_a", math.nan),
                    "mass_shared_first": agreement.get("mass_b", math.nan)})
        row.update({name: agreement.get(name, math.nan) for name in _AGREEMENT_COLUMNS})
        rows.append(row)
    counting_p_u = 2.0 ** -train_size
    rows.append({"label": "counting measure", "task": "counting", "train_size": train_size,
                 "test_size": test_size, "delta": delta, "p_u": counting_p_u, "mean_test_error": 0.5,
                 "pac_bayes_bound": _nan(pac_bayes_bound(counting_p_u, train_size, delta))})
    columns = ["label", "task", "drawn", "accepted", "distinct", "train_size", "test_size", "delta",
               *_POSTERIOR_COLUMNS[:3], "fit_rate", "epochs_to_fit_mean", "epochs_to_fit_median",
               *_TEST_ERROR_COLUMNS, *_POSTERIOR_COLUMNS[3:], "shared", "join_rows", "mass_shared", "mass_shared_first",
               *_AGREEMENT_COLUMNS]
    frame = pd.DataFrame(rows, columns=columns)
    frame["shared"] = frame["shared"].astype("Int64")
    frame["join_rows"] = frame["join_rows"].astype("Int64")
    for name in ("drawn", "accepted", "distinct"):
        frame[name] = frame[name].astype("Int64")
    return frame


def _interval(value, low, high, digits):
    if math.isnan(value):
        return "-"
    if math.isnan(low):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}g} [{low:.{digits}g}, {high:.{digits}g}]"


def _own_numbers(row):
    """The table's middle column: P(U) [95% CI] of a posterior, fit rate and epochs to fit of a train run."""
    if row["task"] != "train":
        return _interval(row["p_u"], row["p_u_low"], row["p_u_high"], 4)
    if math.isnan(row["epochs_to_fit_mean"]):
        return f"fit {row['fit_rate']:.4g}"
    return f"fit {row['fit_rate']:.4g}, {row['epochs_to_fit_mean']:.3g} ep (median {row['epochs_to_fit_median']:.0f})"


def posterior_table(frame):
    """Readable lines of a :func:`compare_posteriors` frame."""
    import pandas as pd

    first = frame.iloc[0]
    width = max(len(str(label)) for label in frame["label"])
    lines = ["", f"conditioned on S: |S| = {first['train_size']}, {first['test_size']} test inputs; intervals 95%; "
                 f"PAC-Bayes bound at delta = {first['delta']:g}",
             f"{'run':<{width}}  {'kept':>9}  {'P(U) [95% CI] or fit rate, epochs':>34}  "
             f"{'mean test error [95% CI]':>28}  {'PAC-Bayes':>9}"]
    for _, row in frame.iterrows():
        accepted = "-" if pd.isna(row["accepted"]) else f"{row['accepted']:,}"
        bound = "-" if math.isnan(row["pac_bayes_bound"]) else f"{row['pac_bayes_bound']:.4f}"
        error = _interval(row["mean_test_error"], row["mean_test_error_low"], row["mean_test_error_high"], 4)
        lines.append(f"{row['label']:<{width}}  {accepted:>9}  {_own_numbers(row):>34}  {error:>28}  {bound:>9}")
    lines.append("kept: draws accepted (posterior) or networks that fitted S (train); ep: epochs to fit")
    pairs = frame.iloc[1:-1]
    if len(pairs):
        lines += ["", f"P(f|S) against {first['label']}, over the functions both found:",
                  f"{'run':<{width}}  {'shared':>7}  {'its mass':>8}  {'1st mass':>8}  {'mean log10 ratio':>16}  "
                  f"{'median':>7}  {'r(log10 P) [95% CI, Fisher z]':>30}"]
        for _, row in pairs.iterrows():
            correlation = _interval(row["correlation"], row["correlation_low"], row["correlation_high"], 3)
            lines.append(f"{row['label']:<{width}}  {row['shared']:>7,}  {_fmt(row['mass_shared'])}  "
                         f"{_fmt(row['mass_shared_first'])}  {_fmt(row['log10_ratio_mean'], 16)}  "
                         f"{_fmt(row['log10_ratio_median'], 7)}  {correlation:>30}")
        lines.append("log10 ratio: log10 P_run(f|S) / P_first(f|S); its mass / 1st mass: the run's / the first "
                     "run's probability on the shared functions (for a train run against a posterior: the share "
                     "of P_SGD on functions P_B found / of P_B on functions P_SGD found)")
        limits = pairs["join_rows"].dropna()
        if len(limits):
            lines.append(f"matched among each run's {int(limits.max()):,} most frequent functions only (runs with "
                         f"more distinct functions are not matched whole, to bound memory)")
    return lines


def _kind(run):
    """What a conditioned run's P(f|S) is, for labels: ("trained", "P_SGD") or ("posterior", "P_B")."""
    return ("trained", "P_SGD") if run.config.task == "train" else ("posterior", "P_B")


def test_error_overlay(entries):
    """:func:`~pysimbias.plots.test_error_overlay_figure` of posterior and train runs (those that kept a function)."""
    from .plots import test_error_overlay_figure

    series = [(f"{entry.label} ({_kind(entry.run)[0]})", *entry.run.aggregates.distribution("test_error")[:2])
              for entry in entries if entry.run.accepted]
    train_size = int(task_entry(entries[0].run)["train"]["size"])
    whose = {"posterior": "the posteriors'", "train": "the trained networks'"}
    tasks = sorted({entry.run.config.task for entry in entries})
    title = f"Test error of {' and '.join(whose[task] for task in tasks)} functions"
    return test_error_overlay_figure(series, entries[0].run.aggregates.m - train_size, title)


def _pfs_scatter(entries):
    """One :func:`probability_scatter_figure` panel per run after the first, against the first."""
    import matplotlib.pyplot as plt

    others = entries[1:]
    fig, axes = plt.subplots(1, len(others), figsize=(5.5 * len(others), 5), squeeze=False)
    first = entries[0]
    for ax, entry in zip(axes[0], others):
        p_a, p_b, limit = leading_shared_probabilities(entry.run, first.run)
        label_a = f"{entry.label} ({', '.join(_kind(entry.run))})"
        label_b = f"{first.label} ({', '.join(_kind(first.run))})"
        title = "" if limit is None else f"{label_a} against {label_b}\n(among each run's {limit:,} most frequent)"
        probability_scatter_figure(p_a, p_b, label_a, label_b, title=title, ax=ax)
    return fig


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
                        seed=0, force=False, plots=True, delta=0.05):
    """Load run directories, compare them (:func:`compare_runs`) and write the comparison into ``out``.

    Posterior and train runs are also compared by :func:`compare_posteriors`
    (PAC-Bayes bound at confidence ``delta``).  Labels default to the directories'
    names.  Raises :class:`~pysimbias.errors.InvalidParameterError` for a
    label count that does not match, a measure no run has, a mix of
    posterior or train runs with sample runs, or posterior and train runs of
    different targets or training sets (:func:`check_posterior_runs`), and
    :class:`~pysimbias.errors.RunDirectoryError` for an unreadable run or an
    unusable ``out``.

    Returns
    -------
    frame : pandas.DataFrame
    posterior : pandas.DataFrame or None
        The :func:`compare_posteriors` frame (None for sample runs).
    written : list of pathlib.Path
    """
    from pathlib import Path

    from .run import open_run

    if not run_dirs:
        raise InvalidParameterError("run_dirs", "name at least one run directory")
    labels = [Path(d).resolve().name for d in run_dirs] if labels is None else list(labels)
    if len(labels) != len(run_dirs):
        raise InvalidParameterError("labels", f"give one label per run: {len(labels)} labels, "
                                              f"{len(run_dirs)} runs")
    runs = [open_run(d) for d in run_dirs]
    if measures is not None:
        measures = list(measures)
        for name in measures:
            get_measure(name)
            if not any(name in run.aggregates.names for run in runs):
                raise InvalidParameterError("measures", f"no run has measure {name!r}")
    posterior = compare_posteriors(runs, labels, delta) if check_posterior_runs(runs, labels) else None
    out = _prepare_output(out, force)
    frame, entries = compare_runs(runs, labels, measures, baseline_size, bootstrap, seed)
    return frame, posterior, write_comparison(frame, entries, out, plots=plots, posterior=posterior)
