"""Readable text summaries of runs (what ``pysimbias show`` prints), and a posterior run's numbers.

:func:`posterior_summary` computes what ``show`` reports for a posterior run
as a plain dict (for reports and comparisons); :func:`summary_lines` only
formats.  Both read only the run's aggregates
(:mod:`pysimbias.store.aggregates`), never its whole table, so they take a
:class:`~pysimbias.run.Run` or a :class:`~pysimbias.run.StoredRun` alike.
"""

import math

import numpy as np

from .checks import check_real
from .errors import InvalidParameterError
from .learning.posterior import learning_inputs
from .learning.tasks import task_spec
from .plots import _run_title

__all__ = ["summary_lines", "posterior_summary", "posterior_lines", "clopper_pearson", "pac_bayes_bound",
           "MIN_ACCEPTED", "QUANTILES", "weighted_quantile", "task_entry", "conditions_on_training_set",
           "summarize_test_error", "check_delta", "constant_probability", "top_rows"]

#: Fewest accepted draws from which the posterior's numbers are reported (the mean test error's normal
#: interval and P(U)'s relative error, about 1/sqrt(accepted), need this many).
MIN_ACCEPTED = 30
#: Quantiles of the test error that ``show`` prints.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_HISTOGRAM_BINS = 10


def clopper_pearson(successes, trials, level=0.95):
    """Exact (Clopper–Pearson) interval of a binomial proportion: (lower, upper)."""
    from scipy.stats import beta

    k, n, tail = int(successes), int(trials), (1.0 - level) / 2
    lower = 0.0 if k == 0 else float(beta.ppf(tail, k, n - k + 1))
    upper = 1.0 if k == n else float(beta.ppf(1.0 - tail, k + 1, n - k))
    return lower, upper


def pac_bayes_bound(p_u, train_size, delta=0.05):
    """The realizable PAC-Bayes bound on the posterior's expected error (Langford/McAllester form).

    The ε with ``-ln(1 - ε) = (ln(1/P(U)) + ln(2m/δ)) / (m - 1)``, m = |S|,
    as used by Valle-Pérez et al. (2019); None where it is undefined
    (m = 1 or P(U) = 0).
    """
    m = int(train_size)
    if m < 2 or p_u <= 0:
        return None
    return -math.expm1(-(math.log(1.0 / p_u) + math.log(2 * m / delta)) / (m - 1))


def weighted_quantile(values, weights, qs):
    """Lower weighted quantiles: the smallest value whose cumulative weight share reaches q.

    For integer weights this is the inverted-CDF quantile of ``values``, each
    repeated ``weights`` times; the weights may also be probabilities.
    """
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64)[order])
    cumulative /= cumulative[-1]
    index = np.searchsorted(cumulative, np.asarray(qs) - 1e-12, side="left")
    return values[order][np.clip(index, 0, values.shape[0] - 1)]


def check_delta(delta):
    """The PAC-Bayes confidence parameter, checked to lie in (0, 1)."""
    delta = check_real(delta, "delta", 0.0, strict=True)
    if delta >= 1:
        raise InvalidParameterError("delta", f"must be < 1 (a failure probability), got {delta!r}")
    return delta


def conditions_on_training_set(config):
    """Whether a config's task conditions on a target and training set S (``posterior``, ``train``)."""
    return {"target", "train"} <= set(task_spec(config.task).params)


def task_entry(run):
    """The manifest's ``task`` entry of a posterior or train run: its name, ``target`` and ``train``.

    Rebuilt from the config for a run whose manifest has none.
    """
    if "task" in run.manifest:
        return run.manifest["task"]
    target, training_set = learning_inputs(run.config, run.encoding)
    return {"name": run.config.task, "target": target.describe(), "train": training_set.describe()}


def posterior_summary(run, delta=0.05):
    """The numbers ``show`` reports for a posterior run, as a dict.

    Parameters
    ----------
    run : Run or StoredRun
        A run of task ``posterior``.
    delta : float
        Confidence parameter of the PAC-Bayes bound, in (0, 1).

    Returns
    -------
    dict
        ``drawn``, ``accepted``, ``train_size``, ``test_size``, ``delta``;
        ``p_u`` and its 95% Clopper–Pearson ``p_u_interval``; ``enough``
        (at least :data:`MIN_ACCEPTED` accepted) and ``samples_needed``
        (draws that would give that many: estimated from P(U), or from its
        upper end when nothing was accepted; None once enough).  When
        ``enough``: ``mean_test_error`` with its 95% normal interval
        ``mean_test_error_interval``, ``test_error_quantiles`` (q -> value,
        for :data:`QUANTILES`), ``test_error_histogram`` (bin edges and the
        posterior mass in each), ``pac_bayes_bound`` (at P(U)) and
        ``pac_bayes_bound_conservative`` (at P(U)'s lower end); otherwise
        those are None.  ``counting`` holds the counting measure's values:
        P(U) = 2^-|S|, mean test error 1/2, and its PAC-Bayes bound.
    """
    if run.config.task != "posterior":
        raise InvalidParameterError("run", f"is a {run.config.task!r} run, not a posterior run")
    delta = check_delta(delta)
    drawn, accepted = run.drawn, run.accepted
    train_size = int(task_entry(run)["train"]["size"])
    test_size = run.aggregates.m - train_size
    p_u = accepted / drawn
    interval = clopper_pearson(accepted, drawn)
    enough = accepted >= MIN_ACCEPTED
    if enough:
        needed = None
    elif accepted:
        needed = math.ceil(MIN_ACCEPTED * drawn / accepted)
    else:
        needed = math.ceil(MIN_ACCEPTED / interval[1])
    summary = {
        "drawn": drawn, "accepted": accepted, "train_size": train_size, "test_size": test_size, "delta": delta,
        "p_u": p_u, "p_u_interval": interval, "enough": enough, "min_accepted": MIN_ACCEPTED,
        "samples_needed": needed, "mean_test_error": None, "mean_test_error_interval": None,
        "test_error_quantiles": None, "test_error_histogram": None, "pac_bayes_bound": None,
        "pac_bayes_bound_conservative": None,
        "counting": {"p_u": 2.0 ** -train_size, "mean_test_error": 0.5,
                     "pac_bayes_bound": pac_bayes_bound(2.0 ** -train_size, train_size, delta)},
    }
    if enough:
        errors, mass, _ = run.aggregates.distribution("test_error")
        summary.update(summarize_test_error(errors, mass))
        summary.update(pac_bayes_bound=pac_bayes_bound(p_u, train_size, delta),
                       pac_bayes_bound_conservative=pac_bayes_bound(interval[0], train_size, delta))
    return summary


def summarize_test_error(test_error, counts):
    """Mean test error of a run's functions (weighted by count) and its distribution.

    ``test_error`` and ``counts`` may be one row per function or the
    distinct values with their mass (an aggregates distribution).

    Returns
    -------
    dict
        ``mean_test_error`` with its 95% normal interval
        ``mean_test_error_interval``, ``test_error_quantiles`` (q -> value,
        for :data:`QUANTILES`) and ``test_error_histogram`` (bin edges and
        the probability mass in each).
    """
    errors = np.asarray(test_error, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    mean = float(np.average(errors, weights=counts))
    spread = 1.959963984540054 * math.sqrt(float(np.average((errors - mean) ** 2, weights=counts)) / total)
    edges = np.linspace(0.0, 1.0, _HISTOGRAM_BINS + 1)
    mass, _ = np.histogram(errors, bins=edges, weights=counts)
    return {"mean_test_error": mean,
            "mean_test_error_interval": (max(0.0, mean - spread), min(1.0, mean + spread)),
            "test_error_quantiles": dict(zip(QUANTILES, weighted_quantile(errors, counts, QUANTILES).tolist())),
            "test_error_histogram": {"edges": edges.tolist(), "mass": (mass / total).tolist()}}


def _bound(value):
    return "undefined (needs |S| >= 2)" if value is None else f"{value:.4f}"


def posterior_lines(summary):
    """Lines of ``show`` for a :func:`posterior_summary`."""
    s, counting = summary, summary["counting"]
    lo, hi = s["p_u_interval"]
    lines = [
        f"training set:      |S| = {s['train_size']}, {s['test_size']} test inputs",
        f"drawn:             {s['drawn']:,}",
        f"accepted:          {s['accepted']:,}",
        f"{'':19}{'this prior':>34}  {'counting measure':>18}",
    ]
    if not s["enough"]:
        at_least = "at least " if s["accepted"] == 0 else "about "
        lines += [
            f"P(U) [95% CI]:     {f'[{lo:.4g}, {hi:.4g}]':>34}  {counting['p_u']:>18.4g}",
            "",
            f"too few accepted samples to estimate the posterior: {s['accepted']} of {s['drawn']:,} draws agree "
            f"with the target on S, fewer than {s['min_accepted']}.",
            f"{at_least}{s['samples_needed']:,} samples would give {s['min_accepted']} "
            f"(run again with --samples {s['samples_needed']}).",
        ]
        return lines
    elo, ehi = s["mean_test_error_interval"]
    p_u = f"{s['p_u']:.4g} [{lo:.4g}, {hi:.4g}]"
    error = f"{s['mean_test_error']:.4f} [{elo:.4f}, {ehi:.4f}]"
    quantiles = "  ".join(f"{int(100 * q)}%: {v:.3f}" for q, v in s["test_error_quantiles"].items())
    lines += [
        f"P(U) [95% CI]:     {p_u:>34}  {counting['p_u']:>18.4g}",
        f"mean test error [95% CI]:{error:>28}  {counting['mean_test_error']:>18.4f}",
        f"PAC-Bayes bound:   {_bound(s['pac_bayes_bound']):>34}  {_bound(counting['pac_bayes_bound']):>18}",
        f"  at P(U)'s lower end: {_bound(s['pac_bayes_bound_conservative'])}  (delta = {s['delta']:g}; "
        f"-ln(1-e) <= (ln(1/P(U)) + ln(2|S|/delta)) / (|S|-1))",
        f"test error quantiles: {quantiles}",
        "test error distribution (posterior mass):",
    ]
    edges, mass = s["test_error_histogram"]["edges"], s["test_error_histogram"]["mass"]
    for a, b, p in zip(edges, edges[1:], mass):
        lines.append(f"  [{a:.1f}, {b:.1f}{']' if b == 1 else ')'}  {p:>7.4f}  {'#' * round(40 * p)}")
    return lines


def constant_probability(aggregates):
    """Share of a run's samples on the two constant functions (0 for an empty table)."""
    ones, mass, _ = aggregates.distribution("ones")
    constant = (ones == 0) | (ones == aggregates.m)
    return float(mass[constant].sum() / max(aggregates.samples, 1))


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


def top_rows(run, top):
    """The ``top`` most frequent functions of a run: texts (str), counts and measures.

    From the aggregates when they hold that many, else read from the table's first rows.
    """
    aggregates = run.aggregates
    if top <= aggregates.top_counts.shape[0] or aggregates.top_counts.shape[0] == aggregates.distinct:
        return (aggregates.top_functions[:top].astype(str), aggregates.top_counts[:top],
                {name: values[:top] for name, values in aggregates.top_measures.items()})
    texts, counts, measures = run.leading_rows(top, aggregates.names)
    return texts.astype(str), counts, measures


def summary_lines(run, top=10, delta=0.05):
    """Lines describing a run: sizes, P(constant), and its most frequent functions.

    A posterior run also gets :func:`posterior_lines` (PAC-Bayes bound at
    confidence ``delta``), and its probabilities are P(f|S) = count / accepted;
    a train run's are P(f|S) = count / fitted runs (P_SGD(f|S)).
    ``run`` is a :class:`~pysimbias.run.Run` or a :class:`~pysimbias.run.StoredRun`.
    """
    aggregates = run.aggregates
    samples, distinct = aggregates.samples, aggregates.distinct
    posterior = run.config.task == "posterior"
    given = "|S" if conditions_on_training_set(run.config) else ""
    # A posterior with too few accepted draws supports no probability: its functions are listed by count only.
    supported = bool(samples)
    lines = [f"run:               {_run_title(run.config)}", f"seed:              {run.config.seed}"]
    if conditions_on_training_set(run.config):
        target = task_entry(run)["target"]
        lines += [f"target:            {target['spec']} ({_short(target['function'])})"]
    if posterior:
        summary = posterior_summary(run, delta)
        supported = summary["enough"]
        lines += posterior_lines(summary)
        lines.append("")
    elif run.config.task != "train":  # a train run's fitted runs are counted with its training numbers below
        lines.append(f"samples:           {samples:,}")
    lines.append(f"distinct functions:{distinct:>12,}")
    if supported:
        lines += [
            f"{f'P(constant{given}):':<19}{constant_probability(aggregates):.6g}",
            f"mean K_LZ:         {aggregates.weighted_mean('klz'):.3f}",
            f"mean entropy:      {aggregates.weighted_mean('entropy'):.4f} bits",
        ]
    training = run.manifest.get("training")
    if training:
        lines.append(f"trained runs:      {training['runs']:,}, {training['fitted']:,} fitted "
                     f"(fit rate {training['fit_rate']:.4g})")
        epochs = training["epochs_to_fit"]
        if training["fitted"]:
            lines.append(f"epochs to fit:     mean {epochs['mean']:.2f}, median {epochs['q50']}, "
                         f"90% {epochs['q90']}, max {epochs['max']}")
    lines += _walsh_lines(run.manifest.get("walsh_spectrum"))
    if run.elapsed:
        lines.append(f"sampling time:     {run.elapsed:.2f} s ({run.drawn / run.elapsed:,.0f} samples/s)")
    if not distinct:
        return lines
    shown = [name for name in aggregates.names if name in ("ones", "entropy", "lz76", "klz", "lz78", "test_error")]
    header = (f"{'rank':>4}  {f'P(f{given})':>10}  {'count':>10}  " + "  ".join(f"{n[:7]:>7}" for n in shown)
              + "  function")
    texts, counts, measures = top_rows(run, top)
    lines += ["", f"top {counts.shape[0]} functions:", header]
    for r in range(counts.shape[0]):
        values = "  ".join(f"{measures[n][r]:>7.4g}" for n in shown)
        probability = f"{counts[r] / samples:>10.4g}" if supported else f"{'-':>10}"
        lines.append(f"{r + 1:>4}  {probability}  {counts[r]:>10,}  {values}  {_short(texts[r])}")
    return lines
