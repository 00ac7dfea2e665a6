"""The field's tools on the field's network: P(f) against Boolean complexity, and mlp against nngp by width.

Writes experiments/field_tools/REPORT.md, its figures, results.json and a
section.md for experiments/README.md (issue 19, the study that uses
``--prior nngp``, the ``sop`` measure and Walsh spectra by degree).

Part 1, P(f) against ``sop`` (literals in Espresso's sum-of-products, the
"Boolean complexity" of Valle-Pérez, Camargo & Louis 2019) for the 7-40-40-1
ReLU network: Espresso costs milliseconds per function, so ``sop`` is computed
for every function sampled at least RESOLVED times and for a uniformly random
subset of the rarer ones (reweighted to stand for all of them), and for a
sample of uniformly random functions (the counting measure).

Part 2, ``mlp`` against ``nngp`` on n = 5 bits with one and two hidden ReLU
layers of growing width: three total-variation distances between the two
priors (on P(f) with rare functions pooled, on P(t ones), on the Walsh
spectrum by degree), each against its sampling floor (two nngp runs with
different seeds), and the spectra of mlp, nngp and the counting measure.

Usage::

    python experiments/field_tools.py            # full sizes, into experiments/field_tools/
    python experiments/field_tools.py --quick --out runs/field-quick

REPORT.md, results.json and the figures are written from the data; nothing in
REPORT.md is written by hand.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from common import (HERE, Z95, Experiment, Section, finish_axes, fmt_interval, markdown_table, prior_table,
                    run_script, weighted_mean_interval)
from pf_vs_klz import bound_from_counts, upper_envelope
from scipy.stats import spearmanr

from pysimbias.baseline import counting_measure_sample
from pysimbias.measures import compute_measures
from pysimbias.plots import measure_distribution_figure

NAME = "field_tools"
SOP_BITS = 7
WIDTH_BITS = 5
#: a function is resolved (its P(f) estimated to within about 30%) when sampled at least this often
RESOLVED = 10
#: in the P(f) distance, functions seen fewer times than this in the two runs together are pooled into one bin
POOL_BELOW = 20
DEPTHS = (1, 2)
SIZES = {
    "full": dict(sop_samples=10_000_000, rest=3_000, baseline=3_000, widths=(2, 10, 40, 160, 640),
                 width_samples=200_000),
    "quick": dict(sop_samples=200_000, rest=200, baseline=200, widths=(2, 10, 160), width_samples=20_000),
}
MLP = prior_table("mlp")["mlp"]


# ------------------------------------------------------------------ part 1: P(f) against sop


def sop_sample(run, rest, seed):
    """sop of every resolved function and of ``rest`` random rarer ones, with weights that stand for all.

    Returns
    -------
    rows : ndarray of int64
        Histogram rows measured: every row sampled >= RESOLVED times, then
        a uniformly random subset of ``rest`` of the others.
    sop : ndarray of int64
        Their literal counts.
    weights : ndarray of float64
        Samples each row stands for: its count if resolved, else its count
        times (rarer rows) / (rarer rows measured), the Horvitz–Thompson
        weight of a uniform subset, so that ``weights`` estimate the
        distribution of sop over all samples without bias.
    """
    counts = run.histogram.counts
    resolved = np.flatnonzero(counts >= RESOLVED)
    rarer = np.flatnonzero(counts < RESOLVED)
    chosen = np.sort(np.random.default_rng(seed).choice(rarer, size=min(rest, rarer.size), replace=False))
    rows = np.concatenate([resolved, chosen])
    sop = compute_measures(run.histogram.keys[rows], run.measure_context(), ["sop"])["sop"]
    scale = rarer.size / max(chosen.size, 1)
    weights = np.concatenate([counts[resolved], counts[chosen] * scale]).astype(np.float64)
    return rows, sop, weights


def mean_sop_interval(sop, weights, chosen_sop, chosen_counts, rarer):
    """Mean sop over all samples and a 95% interval that covers both sources of error.

    The networks' sampling gives :func:`weighted_mean_interval`'s half-width;
    the random subset adds the variance of a Horvitz–Thompson total under
    sampling without replacement, D^2 (1 - r/D) s^2 / r over the samples
    squared, where D rarer functions were sampled, r of them measured, and
    s^2 is the variance of count x sop over the measured ones.
    """
    mean, low, _ = weighted_mean_interval(sop, weights)
    r = chosen_counts.size
    spread = 0.0
    if 1 < r < rarer:
        y = chosen_counts * chosen_sop.astype(np.float64)
        spread = rarer ** 2 * (1 - r / rarer) * y.var(ddof=1) / r / weights.sum() ** 2
    half = math.sqrt((mean - low) ** 2 + Z95 ** 2 * spread)
    return mean, mean - half, mean + half


def sop_figure(experiment, sop, counts, resolved, samples, baseline, bound):
    """log P(f) against sop: resolved functions, sampled rarer ones, the envelope, the bound, the counting range."""
    fig, ax = plt.subplots(figsize=(7.5, 5))
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, sop.size)
    ax.scatter(sop[~resolved] + jitter[~resolved], counts[~resolved] / samples, s=5, color="0.6", alpha=0.5, lw=0,
               label=f"rarer functions (random subset; < {RESOLVED} samples, P(f) at resolution)")
    ax.scatter(sop[resolved] + jitter[resolved], counts[resolved] / samples, s=7, color="C0", alpha=0.6, lw=0,
               label=f"functions sampled ≥ {RESOLVED} times (all of them)")
    values, top = upper_envelope(sop[resolved], counts[resolved])
    ax.plot(values, top / samples, "-", color="C1", lw=1.3, label="upper envelope (resolved functions)")
    a, b = bound
    if np.isfinite(a):
        x = np.linspace(0, values.max(), 50)
        ax.plot(x, 2.0 ** (-a * x + b), "--", color="C3", lw=1.3, label="bound " + _bound_text(a, b, "sop"))
    lo, hi = np.percentile(baseline, [1, 99])
    ax.axvspan(lo, hi, color="0.5", alpha=0.2,
               label=f"counting measure: 98% of functions (P(f) = 2^-{2 ** SOP_BITS} each)")
    ax.axvline(baseline.mean(), color="0.3", ls=":", lw=1, label=f"counting measure: mean sop {baseline.mean():.0f}")
    ax.set_yscale("log")
    ax.set_ylim(0.3 / samples, 1.5)
    ax.set_xlabel("sop: literals in Espresso's sum-of-products cover (Boolean complexity)")
    ax.set_ylabel("P(f), fraction of samples")
    return experiment.save_figure(finish_axes(fig, ax, "7-40-40-1 ReLU: P(f) against Boolean complexity",
                                              legend_size=7, loc="upper right"), "pf_vs_sop")


def sop_study(experiment, sizes):
    """Sample the 7-40-40-1 network, measure sop, fit the bound; return (results, figures)."""
    run = experiment.sample(n=SOP_BITS, samples=sizes["sop_samples"], **MLP)
    counts, samples = run.histogram.counts, run.histogram.samples
    rows, sop, weights = sop_sample(run, sizes["rest"], experiment.seed)
    row_counts = counts[rows]
    resolved = row_counts >= RESOLVED
    baseline = counting_measure_sample(run.measure_context(), size=sizes["baseline"], names=["sop"])["sop"]
    bound = bound_from_counts(sop[resolved], row_counts[resolved], samples)
    klz = compute_measures(run.histogram.keys[rows], run.measure_context(), ["klz"])["klz"]
    rho = {name: float(spearmanr(values[resolved], row_counts[resolved])[0]) if resolved.sum() > 2 else math.nan
           for name, values in (("sop", sop), ("klz", klz))}
    percentile = np.percentile(baseline, 1)
    below = float(weights[sop < percentile].sum() / weights.sum())
    figures = [
        (sop_figure(experiment, sop, row_counts, resolved, samples, baseline, bound),
         "log P(f) against sop for the 7-40-40-1 ReLU network, with the upper envelope of the resolved functions, "
         "the fitted bound and the counting measure's range."),
        (experiment.save_figure(measure_distribution_figure(
            sop, weights, baseline, "sop (literals in Espresso's sum-of-products)",
            title="7-40-40-1 ReLU: distribution of sop over samples against the counting measure"), "p_sop"),
         "Distribution of sop over the network's samples (resolved functions plus the reweighted random subset of "
         "the rarer ones) against the counting measure's."),
    ]
    results = {
        "samples": samples, "distinct": run.histogram.distinct, "resolved": int(resolved.sum()),
        "rarer_measured": int((~resolved).sum()), "rarer": int(np.count_nonzero(counts < RESOLVED)),
        "rarer_share": float(counts[counts < RESOLVED].sum() / samples),
        "a": bound[0], "b": bound[1], "spearman_resolved": rho,
        "top_sop": [int(v) for v in sop[:5]], "top_p": (counts[:5] / samples).tolist(),
        "mean_sop": mean_sop_interval(sop, weights, sop[~resolved], row_counts[~resolved],
                                      int(np.count_nonzero(counts < RESOLVED))),
        "baseline_mean_sop": weighted_mean_interval(baseline, np.ones_like(baseline)),
        "baseline_size": int(baseline.size), "baseline_p01": float(percentile), "share_below_baseline_p01": below,
    }
    return results, figures


# ------------------------------------------------------------------ part 2: mlp against nngp by width


def _total_variation(p, q):
    return 0.5 * float(np.abs(np.asarray(p, dtype=np.float64) - np.asarray(q, dtype=np.float64)).sum())


def function_distance(first, second):
    """Total variation between two runs' P(f), functions seen fewer than POOL_BELOW times in both together pooled.

    Pooling the rare functions into one bin makes this a lower bound on the
    true distance whose sampling floor does not grow with the number of
    functions that each run sees only once or twice.
    """
    pooled = {}
    for column, run in enumerate((first, second)):
        for key, count in zip(map(bytes, run.histogram.keys), run.histogram.counts):
            pooled.setdefault(key, [0, 0])[column] += int(count)
    table = np.array(list(pooled.values()), dtype=np.float64)
    rare = table.sum(axis=1) < POOL_BELOW
    table = np.vstack([table[~rare], table[rare].sum(axis=0)])
    table /= table.sum(axis=0)
    return _total_variation(table[:, 0], table[:, 1])


def ones_pmf(run):
    """P(t) for t = 0..m ones, from a run's histogram."""
    ones = compute_measures(run.histogram.keys, run.measure_context(), ["ones"])["ones"]
    return np.bincount(ones, weights=run.histogram.counts, minlength=run.histogram.m + 1) / run.histogram.samples


def ones_distance(first, second):
    """Total variation between two runs' distributions of t, the number of ones."""
    return _total_variation(ones_pmf(first), ones_pmf(second))


def walsh_distance(first, second):
    """Total variation between two runs' Walsh spectra by degree (each sums to 1 by Parseval)."""
    return _total_variation(first.manifest["walsh_spectrum"]["prior"], second.manifest["walsh_spectrum"]["prior"])


def _constant_share(run):
    pmf = ones_pmf(run)
    return float(pmf[0] + pmf[-1])


DISTANCES = {"P(f), rare functions pooled": function_distance, "P(t ones)": ones_distance,
             "Walsh spectrum by degree": walsh_distance}


def width_study(experiment, sizes):
    """mlp at every width and depth against two nngp runs; return (rows, spectra).

    Each distance is averaged over the two nngp runs; the floor is the
    distance between the two nngp runs themselves.
    """
    rows, spectra = [], {}
    for depth in DEPTHS:
        params = dict(n=WIDTH_BITS, samples=sizes["width_samples"], activation="relu")
        gps = [experiment.sample(prior="nngp", widths=",".join(["1"] * depth), **params) for _ in range(2)]
        floors = {name: distance(*gps) for name, distance in DISTANCES.items()}
        spectra[depth] = {"nngp": gps[0].manifest["walsh_spectrum"]}
        constants = [_constant_share(gp) for gp in gps]
        for width in sizes["widths"]:
            mlp = experiment.sample(prior="mlp", widths=",".join([str(width)] * depth), **params)
            spectra[depth][width] = mlp.manifest["walsh_spectrum"]
            row = {"depth": depth, "width": width, "p_constant": _constant_share(mlp), "nngp_p_constant": constants}
            for name, distance in DISTANCES.items():
                values = [distance(mlp, gp) for gp in gps]
                row[name] = {"distance": float(np.mean(values)), "to_each": values, "floor": floors[name]}
            rows.append(row)
    return rows, spectra


def distance_figure(experiment, rows, widths):
    """Each distance against width (log-log), one line per depth, with its nngp-against-nngp floor."""
    fig, axes = plt.subplots(1, len(DISTANCES), figsize=(13, 4.4))
    for ax, name in zip(axes, DISTANCES):
        for k, depth in enumerate(DEPTHS):
            mine = [r for r in rows if r["depth"] == depth]
            ax.plot([r["width"] for r in mine], [r[name]["distance"] for r in mine], "o-", color=f"C{k}",
                    label=f"{depth} hidden layer{'s' if depth > 1 else ''}: TV(mlp, nngp)")
            ax.axhline(mine[0][name]["floor"], color=f"C{k}", ls=":", lw=1,
                       label=f"{depth} hidden: floor TV(nngp, nngp')")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(widths, [str(w) for w in widths])
        ax.set_xlabel("hidden-layer width")
        ax.set_ylabel("total variation distance")
        finish_axes(fig, ax, name, legend_size=6)
    fig.suptitle(f"ReLU mlp against its NNGP limit on n = {WIDTH_BITS}", fontsize=11)
    fig.tight_layout()
    return experiment.save_figure(fig, "mlp_nngp_distance")


def spectrum_figure(experiment, spectra, widths):
    """Walsh spectra by degree: mlp at every width, nngp and the counting measure, one panel per depth."""
    fig, axes = plt.subplots(1, len(DEPTHS), figsize=(11, 4.4), sharey=True)
    for ax, depth in zip(axes, DEPTHS):
        nngp = spectra[depth]["nngp"]
        degree = np.asarray(nngp["degree"])
        for k, width in enumerate(widths):
            ax.plot(degree, spectra[depth][width]["prior"], "o-", ms=3, lw=0.9,
                    color=plt.cm.viridis(k / max(len(widths) - 1, 1)), label=f"mlp, width {width}")
        ax.plot(degree, nngp["prior"], "k-", lw=2, alpha=0.5, label="nngp (infinite width)")
        ax.plot(degree, nngp["counting"], "s--", color="0.5", label="counting measure: C(n, k) / 2^n")
        ax.set_yscale("log")
        ax.set_xticks(degree)
        ax.set_xlabel("degree k = |S|")
        ax.set_ylabel("expected Walsh weight at degree k")
        finish_axes(fig, ax, f"{depth} hidden ReLU layer{'s' if depth > 1 else ''}, n = {WIDTH_BITS}",
                    legend_size=7)
    fig.tight_layout()
    return experiment.save_figure(fig, "walsh_by_width")


# ------------------------------------------------------------------ report


def _fmt(value):
    return f"{value:.4f}" if value >= 1e-3 else f"{value:.1e}"


def width_findings(rows, widths):
    """Per depth and distance: narrowest and widest distance, the floor, and whether the distance falls.

    ``shrinks``: the widest width's distance is below the narrowest's by
    more than twice the floor; ``monotone``: no width's distance exceeds the
    previous width's by more than the floor.
    """
    findings = {}
    for depth in DEPTHS:
        mine = {r["width"]: r for r in rows if r["depth"] == depth}
        for name in DISTANCES:
            distances = [mine[w][name]["distance"] for w in widths]
            floor = mine[widths[0]][name]["floor"]
            at_floor = [w for w, d in zip(widths, distances) if d <= 2 * floor]
            findings[f"{depth}/{name}"] = {
                "narrow": distances[0], "wide": distances[-1], "floor": floor,
                "shrinks": bool(distances[-1] < distances[0] - 2 * floor),
                "monotone": bool(all(b <= a + floor for a, b in zip(distances, distances[1:]))),
                "first_width_within_2_floors": at_floor[0] if at_floor else None}
    return findings


def _bound_text(a, b, measure):
    return f"log2 P(f) <= -{a:.3f} {measure} {'+' if b >= 0 else '-'} {abs(b):.2f}"


def _sop_statement(res, mean, base_mean):
    """The plain statement part 1's numbers support."""
    if not (np.isfinite(res["a"]) and res["a"] > 0):
        return "with these sizes the upper envelope does not fall with sop; rerun at the full size."
    rho, rho_klz = res["spearman_resolved"]["sop"], res["spearman_resolved"]["klz"]
    strength = "hardly" if abs(rho) < 0.1 else ("weakly" if abs(rho) < 0.3 else "clearly")
    sign = "negatively" if rho < 0 else "positively"
    return (f"the network puts almost all of its probability on functions of very low Boolean complexity (mean sop "
            f"{mean:.1f} against the counting measure's {base_mean:.0f}; a share {res['share_below_baseline_p01']:.3f} "
            f"of the samples lies below the counting measure's 1st percentile, where the counting measure has 1%), "
            f"and the most probable function at each sop falls exponentially with sop: the upper envelope lies "
            f"under {_bound_text(res['a'], res['b'], 'sop')}.  This is Valle-Pérez et al.'s picture with Boolean "
            f"complexity in place of K_LZ.  Below the envelope the cloud is wide: among the resolved functions, "
            f"P(f) is {strength} {sign} rank-correlated with sop (Spearman {rho:.2f}; with K_LZ {rho_klz:.2f}), so "
            f"sop bounds P(f) from above rather than predicting it.")


def sop_lines(res, sizes):
    """Part 1 of the report: the set-up, the numbers and what they show."""
    mean, low, high = res["mean_sop"]
    base = res["baseline_mean_sop"]
    return [
        "## 1. P(f) against Boolean complexity (`sop`) for the 7-40-40-1 ReLU network", "",
        f"Set-up: `mlp` with widths 40,40, ReLU, σw = σb = 1 (the project's defaults), n = {SOP_BITS} "
        f"(binary inputs), {res['samples']:,} samples, seed as in the footer.  `sop` is the number of literals in "
        "the sum-of-products cover that the Espresso heuristic (pyeda) returns: an upper bound on the minimal "
        "DNF's literal count (exact for every function of n <= 3, see docs/nngp-sop-walsh.md).  Espresso costs "
        f"milliseconds per function, so sop was computed for all {res['resolved']:,} functions sampled at least "
        f"{RESOLVED} times and for a uniformly random subset of {res['rarer_measured']:,} of the "
        f"{res['rarer']:,} rarer ones (which hold {res['rarer_share']:.1%} of the samples), each standing for "
        f"rarer / measured = {res['rarer'] / max(res['rarer_measured'], 1):,.0f} of them in the distribution of "
        f"sop; the counting measure is {res['baseline_size']:,} uniformly random functions of {SOP_BITS} bits.", "",
        markdown_table(["quantity", "value"], [
            ["samples / distinct functions", f"{res['samples']:,} / {res['distinct']:,}"],
            [f"functions sampled ≥ {RESOLVED} times (all measured)", f"{res['resolved']:,}"],
            ["sop of the 5 most frequent functions", ", ".join(map(str, res["top_sop"]))],
            ["their P(f)", ", ".join(f"{p:.3g}" for p in res["top_p"])],
            ["mean sop over samples [95% CI, networks' sampling and the random subset] (network)",
             fmt_interval(mean, low, high)],
            ["mean sop [95% CI] (counting measure)", fmt_interval(*base)],
            ["share of samples below the counting measure's 1st percentile of sop "
             f"({res['baseline_p01']:.0f} literals)", f"{res['share_below_baseline_p01']:.3f}"],
            ["Spearman correlation of P(f) with sop, resolved functions", f"{res['spearman_resolved']['sop']:.3f}"],
            ["... with K_LZ, the same functions", f"{res['spearman_resolved']['klz']:.3f}"],
            ["fitted bound log2 P(f) <= -a sop + b (resolved upper envelope)",
             f"a = {res['a']:.3f}, b = {res['b']:.2f}"],
        ]), "",
        "What the data show: " + _sop_statement(res, mean, base[0]), "",
        "Caveat: the P(f) of functions sampled fewer than "
        f"{RESOLVED} times are at the sampling resolution (grey points in the figure), so the bound is fitted on "
        f"the resolved functions only, as for K_LZ in section 4 of experiments/README.md; the rarer functions' sop "
        f"comes from a random subset of {res['rarer_measured']:,}, so the distribution of sop carries that "
        "subset's sampling error (the interval of the mean includes it).", ""]


def width_lines(rows, findings, sizes):
    """Part 2 of the report: the set-up, the table of distances, and what they show."""
    widths = sizes["widths"]
    table_rows = []
    for r in rows:
        table_rows.append([r["depth"], r["width"]] + [
            f"{_fmt(r[name]['distance'])} ({_fmt(r[name]['to_each'][0])}, {_fmt(r[name]['to_each'][1])})"
            for name in DISTANCES] + [f"{r['p_constant']:.4f}"])
    for depth in DEPTHS:
        floor_row = next(r for r in rows if r["depth"] == depth)
        table_rows.append([depth, "floor: nngp vs nngp'"] + [_fmt(floor_row[name]["floor"]) for name in DISTANCES]
                          + [", ".join(f"{p:.4f}" for p in floor_row["nngp_p_constant"])])
    lines = [
        "## 2. `mlp` against `nngp` as the width grows", "",
        f"Set-up: n = {WIDTH_BITS} (binary inputs, m = {2 ** WIDTH_BITS}), ReLU, σw = σb = 1, "
        f"{sizes['width_samples']:,} samples per run; `mlp` with {', '.join(map(str, DEPTHS))} hidden layers of "
        f"width {', '.join(map(str, widths))}; per depth, two `nngp` runs with different seeds.  Three total "
        "variation (TV) distances between the priors: on P(f) with functions seen fewer than "
        f"{POOL_BELOW} times in the two runs together pooled into one bin (a lower bound on TV of P(f) with a "
        "lower sampling floor), on the distribution of t (number of ones), and on the Walsh spectrum by degree "
        "(which sums to 1).  Each mlp's distance is the mean of its distances to the two nngp runs (in brackets); "
        "the floor is the distance between the two nngp runs, what sampling noise alone gives.  P(constant) is "
        "the probability of the two constant functions (in the floor rows: the two nngp runs').", "",
        markdown_table(["depth", "width", *[f"TV on {name}" for name in DISTANCES], "P(constant)"], table_rows), "",
        "What the data show:", ""]
    for depth in DEPTHS:
        parts = []
        for name in DISTANCES:
            f = findings[f"{depth}/{name}"]
            reach = (f"within twice the floor from width {f['first_width_within_2_floors']}"
                     if f["first_width_within_2_floors"] is not None else "not within twice the floor at any width")
            parts.append(f"{name}: {_fmt(f['narrow'])} at width {widths[0]} → {_fmt(f['wide'])} at width "
                         f"{widths[-1]} (floor {_fmt(f['floor'])}; "
                         f"{'shrinks by more than twice the floor' if f['shrinks'] else 'no decrease beyond the noise'}"
                         f", {reach})")
        lines.append(f"- {depth} hidden layer{'s' if depth > 1 else ''}: " + "; ".join(parts) + ".")
    lines += ["", _width_conclusion(rows, findings, widths), ""]
    return lines


def _width_conclusion(rows, findings, widths):
    """The plain statement the width table supports, from the findings."""
    every = all(f["shrinks"] and f["monotone"] for f in findings.values())
    at_floor = all(f["first_width_within_2_floors"] is not None for f in findings.values())
    narrow = [r for r in rows if r["width"] == widths[0]]
    constants = ", ".join(f"{r['p_constant']:.3f} against nngp's {np.mean(r['nngp_p_constant']):.3f} with "
                          f"{r['depth']} hidden layer{'s' if r['depth'] > 1 else ''}" for r in narrow)
    text = ("So the finite-width `mlp` approaches its `nngp` limit: every distance falls with width, by more than "
            "twice its sampling floor, without rising between widths by more than the floor."
            if every else "Not every distance falls steadily with width by more than the noise (see the table).")
    text += (f"  At width {widths[0]} the mlp gives the constant functions probability {constants}.")
    if at_floor:
        text += ("  Every distance reaches twice its floor by the widest width, so these sample sizes cannot tell "
                 "how fast it keeps shrinking beyond that; more samples lower the floor (roughly as "
                 "1/√samples).")
    return text


FIGURE_CAPTIONS = {
    "pf_vs_sop": "log P(f) against sop for the 7-40-40-1 ReLU network",
    "p_sop": "distribution of sop, network against counting measure",
    "mlp_nngp_distance": "TV(mlp, nngp) against width, with the nngp-against-nngp floor",
    "walsh_by_width": "Walsh spectra by degree: mlp by width, nngp and the counting measure",
}


def report(experiment, sizes, sop_res, rows, findings, figures):
    """Write REPORT.md."""
    head = ["# NNGP, Boolean complexity and Walsh spectra: the field's tools on the field's network", "",
            "*Generated by `experiments/field_tools.py` from its runs; do not edit by hand.*", "",
            "Two questions the literature's tools answer: does the 7-40-40-1 ReLU network's P(f) fall with "
            "Boolean complexity as it falls with K_LZ (Valle-Pérez, Camargo & Louis, ICLR 2019), and does the "
            "finite-width `mlp` approach its infinite-width limit, the `nngp` prior (Lee et al. 2018), as the "
            "width grows?", ""]
    figs = ["## Figures", ""] + [f"![{caption}]({name})\n\n*{caption}*\n" for name, caption in figures]
    regen = ["## Regenerate", "", "```bash", "python experiments/field_tools.py            # these sizes",
             "python experiments/field_tools.py --quick --out runs/field-quick   # seconds", "python "
             "experiments/make_report.py   # then reassemble experiments/README.md", "```", "",
             f"Seeds: configuration i of the script uses base seed + i (the footer gives the base seed): the "
             f"7-40-40-1 run is configuration 0; then per depth ({', '.join(map(str, DEPTHS))}) two nngp runs and "
             f"one mlp run per width, in the order of the table.  The counting measure's sample and the random "
             f"subset of rarer functions use fixed seeds (pysimbias's baseline seed; the base seed).", ""]
    text = head + sop_lines(sop_res, sizes) + width_lines(rows, findings, sizes) + figs + regen + [
        experiment.footer(), ""]
    (experiment.out / "REPORT.md").write_text("\n".join(text), encoding="utf-8")


def options(parser):
    parser.set_defaults(out=HERE / NAME)


def main(argv=None):
    """Run both parts; write REPORT.md, section.md, results.json and the figures; return the results."""
    experiment, _ = Experiment.from_argv(NAME, __doc__, argv, options=options)
    sizes = SIZES["quick" if experiment.quick else "full"]
    sop_res, sop_figures = sop_study(experiment, sizes)
    rows, spectra = width_study(experiment, sizes)
    findings = width_findings(rows, sizes["widths"])
    figures = sop_figures + [
        (distance_figure(experiment, rows, sizes["widths"]),
         f"Total variation between mlp and nngp (n = {WIDTH_BITS}, ReLU) against width: on P(f), on P(t) and "
         "on the Walsh spectrum by degree; dotted: the floor, two nngp runs against each other."),
        (spectrum_figure(experiment, spectra, sizes["widths"]),
         f"Walsh spectra by degree of the mlp at every width, of the nngp and of the counting measure "
         f"(n = {WIDTH_BITS})."),
    ]
    report(experiment, sizes, sop_res, rows, findings, figures)
    widest = {key: f["wide"] for key, f in findings.items()}
    section = Section(
        title="P(f) against Boolean complexity, and mlp against its NNGP limit",
        claim="A random 7-40-40-1 ReLU network's P(f) falls exponentially with the Boolean complexity of f, as it "
              "does with K_LZ; and a finite-width network's prior approaches the NNGP prior as its width grows.",
        paper="Valle-Pérez, Camargo & Louis (2019), ICLR 2019 (arXiv:1805.08522): P(f) against complexity "
              "measures, among them Boolean complexity; Lee et al. (2018), *Deep neural networks as Gaussian "
              "processes*, ICLR 2018, for the limit.",
        published="Figures only: the upper envelope of log P(f) falls with complexity; no numbers we can check.",
        ours=(f"{sop_res['samples']:,} samples: {_bound_text(sop_res['a'], sop_res['b'], 'sop')} on the "
              f"resolved functions; mean sop {fmt_interval(*sop_res['mean_sop'])} (95% CI) against the counting "
              f"measure's {sop_res['baseline_mean_sop'][0]:.0f}.  Walsh-spectrum TV(mlp, nngp), one hidden layer: "
              f"{_fmt(findings['1/Walsh spectrum by degree']['narrow'])} at width {sizes['widths'][0]}, "
              f"{_fmt(widest['1/Walsh spectrum by degree'])} at width {sizes['widths'][-1]} (floor "
              f"{_fmt(findings['1/Walsh spectrum by degree']['floor'])})."),
        comparison="Agrees in shape with the published figures; the width study is a check of pysimbias's nngp "
                   "prior rather than a published number.  Details and every distance are in "
                   "[REPORT.md](REPORT.md).",
        figures=figures)
    results = {"sop": sop_res, "widths": rows, "findings": findings, "sizes": sizes}
    return experiment.finish(section, results)


if __name__ == "__main__":
    run_script(main)
