"""Figures of a run, each drawn with the counting measure alongside.

Every ``*_figure`` function takes plain arrays and returns a matplotlib
Figure (its layout is fitted when it is saved: call ``fig.tight_layout()``
before saving one yourself); :func:`plot_aggregates` draws them all from a run's bounded
aggregates (:mod:`pysimbias.store.aggregates`) and saves PNGs, so that no
plot ever needs the whole table; :func:`plot_run` does it for a run.
"""

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .baseline import counting_measure_sample  # noqa: E402
from .learning.posterior import learning_inputs  # noqa: E402
from .measures import MeasureContext  # noqa: E402

__all__ = [
    "PLOT_FILES",
    "pf_vs_klz_figure",
    "rank_frequency_figure",
    "measure_distribution_figure",
    "ones_figure",
    "test_error_figure",
    "test_error_overlay_figure",
    "plot_run",
    "plot_aggregates",
    "WALSH_PLOT",
    "GRID_PLOT",
    "walsh_spectrum_figure",
    "grid_functions_figure",
]

PLOT_FILES = {
    "pf_vs_klz": "pf_vs_klz.png",
    "rank_frequency": "rank_frequency.png",
    "p_klz": "p_klz.png",
    "p_ones": "p_ones.png",
    "test_error": "test_error.png",
}
#: the Walsh spectrum by degree (bit-vector encodings)
WALSH_PLOT = "walsh_spectrum.png"
#: the most frequent functions as images (grid:2:K encodings, drawn by plot_run)
GRID_PLOT = "top_functions.png"
_RUN_COLOR = "C0"
_BASE_COLOR = "0.45"


def _finish(fig, ax, title):
    """Title and grid; the layout is fitted once, when the figure is saved (``tight_layout`` is the costliest step)."""
    ax.set_title(title, fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    return fig


def _distinct_pairs(x, y):
    """The distinct pairs (x[i], y[i]), sorted by x then y, and how often each occurs.

    Each column is replaced by its rank among its own distinct values and the
    pair by one int64, so NumPy sorts plain integers (vectorized) rather than
    the rows of a 2-d array (about 20x slower for millions of functions).
    """
    x_values, x_rank = np.unique(x, return_inverse=True)
    y_values, y_rank = np.unique(y, return_inverse=True)
    codes, multiplicity = np.unique(x_rank.astype(np.int64) * y_values.shape[0] + y_rank, return_counts=True)
    return x_values[codes // y_values.shape[0]], y_values[codes % y_values.shape[0]], multiplicity


def _probability_names(train_size, trained=False):
    """How a run's figures name its probabilities: a dict of words.

    ``probability`` (P(f), P(f|S) or P_SGD(f|S)), ``fraction`` (what its
    counts are a fraction of), ``baseline`` (the counting measure or its
    posterior), ``functions`` (what the run's points are) and ``one`` (the
    resolution line); ``trained`` for a train run, whose counts are fitted
    networks rather than samples.
    """
    if trained:
        return {"probability": "P_SGD(f|S)", "fraction": "fitted runs", "baseline": "counting-measure posterior",
                "functions": "functions of the trained networks", "one": "one fitted run (resolution)"}
    if train_size is None:
        return {"probability": "P(f)", "fraction": "samples", "baseline": "counting measure",
                "functions": "sampled functions", "one": "one sample (resolution)"}
    return {"probability": "P(f|S)", "fraction": "accepted samples", "baseline": "counting-measure posterior",
            "functions": "sampled functions", "one": "one sample (resolution)"}


def pf_vs_klz_figure(klz, counts, m, baseline_klz, title="", train_size=None, trained=False, functions=None):
    """log P(f) against K_LZ, one marker per distinct (K_LZ, count) pair.

    With ``train_size`` = |S| (a posterior run) the probabilities are
    P(f|S) and the baseline is the counting measure's posterior, uniform on
    the 2^(m-|S|) functions that agree with the target on S; ``trained``
    (a train run) names them P_SGD(f|S), fractions of the fitted runs.  With
    ``functions``, row i stands for ``functions[i]`` functions of K_LZ
    ``klz[i]`` and count ``counts[i]`` each (the (count, K_LZ) cells of a
    run's aggregates; ``counts`` may be a cell's mean count).
    """
    words = _probability_names(train_size, trained)
    probability, fraction, base = words["probability"], words["fraction"], words["baseline"]
    free = m - (train_size or 0)
    if functions is None:
        samples = counts.sum()
        pair_klz, pair_counts, multiplicity = _distinct_pairs(klz, counts)
    else:
        samples = np.dot(counts, functions)
        order = np.lexsort((counts, klz))
        pair_klz, pair_counts, multiplicity = klz[order], counts[order], functions[order]
    fig, ax = plt.subplots(figsize=(7, 4.8))
    sizes = 8 + 10 * np.log10(multiplicity)
    ax.scatter(pair_klz, pair_counts / samples, s=sizes, color=_RUN_COLOR, alpha=0.6, lw=0,
               label=f"{words['functions']} (marker area ~ log #functions)")
    lo, hi = np.percentile(baseline_klz, [1, 99])
    ax.axvspan(lo, hi, color=_BASE_COLOR, alpha=0.2,
               label=f"{base}: 98% of functions ({probability} = 2^-{free} each)")
    ax.axvline(baseline_klz.mean(), color=_BASE_COLOR, ls="--", lw=1,
               label=f"{base}: mean K_LZ = {baseline_klz.mean():.1f}")
    ax.axhline(1 / samples, color="k", ls=":", lw=0.8, label=words["one"])
    ax.set_yscale("log")
    ax.set_xlabel("Lempel–Ziv complexity K_LZ(f)")
    ax.set_ylabel(f"{probability}, fraction of {fraction}")
    ax.legend(fontsize=8, loc="upper right")
    return _finish(fig, ax, title or f"{probability} of a function against its complexity")


def test_error_figure(test_error, counts, test_size, title="", trained=False):
    """Test error of a posterior's (or, ``trained``, the trained networks') functions, with the counting measure's.

    The counting measure's posterior has test error Binomial(test_size, 1/2)/test_size.
    """
    label = "trained networks P_SGD(f|S)" if trained else "posterior P(f|S)"
    return test_error_overlay_figure([(label, test_error, counts)], test_size,
                                     title or ("Test error of the trained networks' functions" if trained else ""))


def test_error_overlay_figure(series, test_size, title=""):
    """Posteriors' distributions of test error on one axis, with the counting measure's dashed.

    Parameters
    ----------
    series : sequence of (str, ndarray, ndarray)
        For each posterior: its label, the test error of each distinct
        function and their counts.
    test_size : int
        Number of test inputs (m - |S|), the same for every posterior.
    title : str
    """
    errors = np.arange(test_size + 1)
    log_binom = np.array([math.lgamma(test_size + 1) - math.lgamma(k + 1) - math.lgamma(test_size - k + 1)
                          for k in errors])
    fig, ax = plt.subplots(figsize=(7, 4.8))
    for k, (label, test_error, counts) in enumerate(series):
        color = _RUN_COLOR if len(series) == 1 else f"C{k % 10}"
        rounded = np.rint(np.asarray(test_error) * test_size).astype(np.int64)
        p = np.bincount(rounded, weights=counts, minlength=test_size + 1) / counts.sum()
        mean = float(np.average(test_error, weights=counts))
        ax.plot(errors / test_size, np.where(p > 0, p, np.nan), "-o", ms=3, lw=0.8, color=color,
                label=f"{label} (mean {mean:.3f})")
        ax.axvline(mean, color=color, ls=":", lw=1)
    ax.plot(errors / test_size, np.exp(log_binom - test_size * math.log(2)), "--", color=_BASE_COLOR,
            label=f"counting-measure posterior: Binomial({test_size}, 1/2)/{test_size} (mean 0.5)")
    ax.set_yscale("log")
    ax.set_ylim(max(0.1 / max(counts.sum() for _, _, counts in series), 1e-12), 1.5)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(f"test error (share of the {test_size} inputs outside S where f differs from the target)")
    ax.set_ylabel("probability")
    ax.legend(fontsize=8)
    return _finish(fig, ax, title or "Test error of the posterior's functions")


def rank_frequency_figure(counts, m, title="", train_size=None, trained=False, functions=None):
    """Rank–frequency plot, log–log, with the counting measure's flat line (its posterior's, given |S|).

    ``counts`` are every function's counts in descending order or, with
    ``functions``, the rank runs: distinct counts, descending, and how many
    functions have each.  ``trained`` (a train run) names the probabilities
    P_SGD(f|S), fractions of the fitted runs.
    """
    # The curve is a staircase: drawing only the first rank of every run of
    # equal counts (and the last rank) gives the same picture from a few
    # thousand points instead of one per distinct function.
    if functions is None:
        samples = counts.sum()
        starts = np.flatnonzero(np.r_[True, counts[1:] != counts[:-1]]) if counts.size else np.zeros(0, dtype=int)
        run_counts, first_ranks, last = counts[starts], starts + 1, counts.shape[0]
    else:
        samples = np.dot(counts, functions)
        run_counts, first_ranks, last = counts, np.cumsum(functions) - functions + 1, functions.sum()
    ranks = np.r_[first_ranks, last]
    heights = np.r_[run_counts, run_counts[-1:]] / samples
    words = _probability_names(train_size, trained)
    probability, fraction, base = words["probability"], words["fraction"], words["baseline"]
    free = m - (train_size or 0)
    fig, ax = plt.subplots(figsize=(7, 4.8))
    ax.step(ranks, heights, where="post", color=_RUN_COLOR, label=words["functions"])
    ax.axhline(1 / samples, color="k", ls=":", lw=0.8, label=words["one"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rank of function (most frequent = 1)")
    ax.set_ylabel(f"{probability}, fraction of {fraction}")
    ax.text(0.98, 0.5, f"{base}: every function has {probability} = 2^-{free} ≈ 1e{-free * math.log10(2):.0f}",
            transform=ax.transAxes, fontsize=8, color=_BASE_COLOR, ha="right")
    ax.legend(fontsize=8)
    return _finish(fig, ax, title or f"Rank–frequency of {words['functions']}")


def _pmf(values, weights, edges):
    hist, _ = np.histogram(values, bins=edges, weights=weights)
    return hist / max(hist.sum(), 1e-300)


def measure_distribution_figure(values, counts, baseline_values, label, title="", baseline_name="counting measure",
                                run_label="this run"):
    """P(measure) of a run (legend ``run_label``) against the counting measure's (or its posterior's), log axis."""
    everything = np.concatenate([values, baseline_values])
    edges = np.histogram_bin_edges(everything, bins=min(60, max(10, np.unique(everything).size)))
    centres = 0.5 * (edges[1:] + edges[:-1])
    run_p = _pmf(values, counts, edges)
    base_p = _pmf(baseline_values, None, edges)
    fig, ax = plt.subplots(figsize=(7, 4.8))
    ax.step(centres, np.where(run_p > 0, run_p, np.nan), where="mid", color=_RUN_COLOR, label=run_label)
    ax.step(centres, np.where(base_p > 0, base_p, np.nan), where="mid", color=_BASE_COLOR, ls="--",
            label=f"{baseline_name} ({baseline_values.size:,} uniform random functions)")
    ax.set_yscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel("probability")
    ax.legend(fontsize=8)
    return _finish(fig, ax, title or f"Distribution of {label}")


def ones_figure(ones, counts, m, title="", fixed_ones=None, free=None):
    """P(t ones) against t, with the counting measure's binomial(m, 1/2).

    For a posterior run, ``fixed_ones`` (the target's ones on S) plus
    Binomial(``free``, 1/2) (``free`` = m - |S|) is the counting measure's
    posterior.
    """
    t = np.arange(m + 1)
    p = np.bincount(ones, weights=counts, minlength=m + 1) / counts.sum()
    if free is None:
        shift, free, base = 0, m, "counting measure:"
    else:
        shift, free, base = int(fixed_ones), int(free), f"counting-measure posterior: {int(fixed_ones)} +"
    k = t - shift
    inside = (k >= 0) & (k <= free)
    log_binom = np.full(m + 1, -np.inf)
    log_binom[inside] = [math.lgamma(free + 1) - math.lgamma(j + 1) - math.lgamma(free - j + 1) for j in k[inside]]
    fig, ax = plt.subplots(figsize=(7, 4.8))
    ax.plot(t, np.where(p > 0, p, np.nan), "o", ms=3, color=_RUN_COLOR, label="this run")
    ax.plot(t, np.where(inside, np.exp(log_binom - free * math.log(2)), np.nan), "--", color=_BASE_COLOR,
            label=f"{base} Binomial({free}, 1/2)")
    ax.axhline(1 / (m + 1), color="C3", ls=":", lw=0.8, label=f"uniform over t: 1/{m + 1}")
    ax.set_yscale("log")
    ax.set_ylim(max(0.1 / counts.sum(), 1e-12), 1.5)
    ax.set_xlabel("t, number of inputs mapped to 1")
    ax.set_ylabel("P(t)")
    ax.legend(fontsize=8)
    return _finish(fig, ax, title or "Probability of a function's number of ones")


def walsh_spectrum_figure(spectrum, title=""):
    """Expected Walsh weight at each degree k, the run against the counting measure's C(n, k) / 2^n (log scale).

    ``spectrum`` is a run's ``walsh_spectrum`` entry (degree, prior, counting).
    """
    degree = np.asarray(spectrum["degree"])
    prior = np.asarray(spectrum["prior"], dtype=np.float64)
    fig, ax = plt.subplots(figsize=(7, 4.8))
    ax.plot(degree, np.where(prior > 0, prior, np.nan), "o-", color=_RUN_COLOR, label="this run")
    ax.plot(degree, spectrum["counting"], "s--", color=_BASE_COLOR, label="counting measure: C(n, k) / 2^n")
    ax.set_yscale("log")
    ax.set_xticks(degree)
    ax.set_xlabel("degree k = |S|")
    ax.set_ylabel(r"$\sum_{|S|=k}\, E[\hat{f}(S)^2]$  (±1 outputs)")
    ax.legend(fontsize=8)
    return _finish(fig, ax, title or "Walsh spectrum by degree")


def grid_functions_figure(texts, probabilities, side, title=""):
    """The given functions on a side x side grid (last coordinate fastest) as black/white images."""
    count = len(texts)
    cols = min(count, 4)
    rows = max(1, -(-count // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.4 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for rank, (text, p, ax) in enumerate(zip(texts, probabilities, axes.ravel()), 1):
        image = (np.frombuffer(text.encode(), dtype=np.uint8) == ord("1")).reshape(side, side)
        ax.axis("on")
        ax.imshow(image.T, origin="lower", cmap="gray_r", vmin=0, vmax=1, extent=(-1, 1, -1, 1))
        ax.set_xticks([-1, 1])
        ax.set_yticks([-1, 1])
        ax.set_xlabel("x1", fontsize=7, labelpad=-6)
        ax.set_ylabel("x2", fontsize=7, labelpad=-8)
        ax.tick_params(labelsize=6)
        ax.set_title(f"#{rank}: P = {p:.3g}", fontsize=8)
    fig.suptitle(title or "Most frequent functions (black = 1; x1 across, x2 up)", fontsize=10)
    fig.tight_layout()
    return fig


def _grid_side(encoding):
    """K for a grid:2:K encoding, else None."""
    parts = str(encoding.spec).split(":")
    return int(parts[2]) if len(parts) == 3 and parts[:2] == ["grid", "2"] else None


def _run_title(config):
    if config.prior == "mlp":
        arch = f"{config.n}-{'-'.join(map(str, config.widths))}-1 {config.activation}"
    elif config.prior == "perceptron":
        arch = f"perceptron{'' if config.bias else ' (no bias)'}, n={config.n}"
    else:
        arch = f"{config.prior}, n={config.n}"
    network = config.prior in ("mlp", "perceptron")
    laws = f", σw={config.sigma_w:g}, σb={config.sigma_b:g} ({config.law})" if network else ""
    if config.task == "train":
        return (f"{arch}{laws}, {config.encoding}, trained on target {config.target}, |S| = {config.train} "
                f"({config.optimizer}, lr {config.lr:g}, batch {config.batch_size}, {config.loss}), "
                f"{config.samples:,} runs")
    given = f", posterior given target {config.target}, |S| = {config.train}" if config.task == "posterior" else ""
    return f"{arch}{laws}, {config.encoding}{given}, {config.samples:,} samples"


def plot_run(run, out, top=12):
    """Draw every figure of ``run`` (a :class:`~pysimbias.run.Run` or a stored run) into ``out``; return the paths.

    On a ``grid:2:K`` encoding this also draws the ``top`` most frequent
    functions as images (:data:`GRID_PLOT`).
    """
    return plot_aggregates(run.config, run.encoding, run.aggregates, out, walsh=run.manifest.get("walsh_spectrum"),
                           top=top)


def _save(fig, path, subtitle):
    fig.suptitle(subtitle, fontsize=8, y=0.995, color="0.3")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)
    return path


def plot_aggregates(config, encoding, aggregates, out, walsh=None, top=12):
    """Draw every figure from a run's aggregates into directory ``out``; return the paths written.

    A posterior run also gets ``test_error.png``, and its baselines are the
    counting measure's posterior; a run with no function (a posterior that
    accepted no draw) gets no figure.

    Parameters
    ----------
    config : SampleConfig
    encoding : Encoding
    aggregates : Aggregates
        With at least ``klz`` and ``ones`` (and ``test_error`` for a
        posterior run).
    out : path-like
    walsh : dict, optional
        The run's ``walsh_spectrum`` manifest entry; drawn as :data:`WALSH_PLOT`.
    top : int
        Functions drawn as images on a ``grid:2:K`` encoding (:data:`GRID_PLOT`).
    """
    out = Path(out)
    samples = aggregates.samples
    if not samples:
        return []
    m = encoding.m
    target, training_set = learning_inputs(config, encoding)
    context = MeasureContext(m=m, n=encoding.n, points=encoding.points, target=target, training_set=training_set)
    posterior = training_set is not None
    baseline = counting_measure_sample(context, names=["ones", "klz"], posterior=posterior)
    subtitle = _run_title(config)
    train_size = training_set.size if posterior else None
    trained = config.task == "train"
    cell_klz, cell_counts, cell_functions = aggregates.count_value_cells("klz")
    klz, klz_mass, _ = aggregates.distribution("klz")
    ones, ones_mass, _ = aggregates.distribution("ones")
    figures = {
        "pf_vs_klz": pf_vs_klz_figure(cell_klz, cell_counts, m, baseline["klz"], train_size=train_size,
                                      trained=trained, functions=cell_functions),
        "rank_frequency": rank_frequency_figure(aggregates.run_counts, m, train_size=train_size, trained=trained,
                                                functions=aggregates.run_functions),
        "p_klz": measure_distribution_figure(klz, klz_mass, baseline["klz"], "Lempel–Ziv complexity K_LZ",
                                             baseline_name=_probability_names(train_size, trained)["baseline"],
                                             run_label="trained networks" if trained else "this run"),
    }
    if posterior:
        fixed_ones = int(target.bits[training_set.indices].sum())
        figures["p_ones"] = ones_figure(ones, ones_mass, m, fixed_ones=fixed_ones, free=training_set.test_size)
        errors, error_mass, _ = aggregates.distribution("test_error")
        figures["test_error"] = test_error_figure(errors, error_mass, training_set.test_size, trained=trained)
    else:
        figures["p_ones"] = ones_figure(ones, ones_mass, m)
    written = [_save(fig, out / PLOT_FILES[name], subtitle) for name, fig in figures.items()]
    if walsh is not None:
        written.append(_save(walsh_spectrum_figure(walsh), out / WALSH_PLOT, subtitle))
    side = _grid_side(encoding)
    if side is not None:
        texts = aggregates.top_functions[:top].astype(str)
        written.append(_save(grid_functions_figure(texts, aggregates.top_counts[:top] / samples, side),
                             out / GRID_PLOT, subtitle))
    return written
