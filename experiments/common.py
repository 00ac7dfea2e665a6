"""Shared helpers of the experiment scripts: arguments, sampling, statistics, figures, sections.

Every script in ``experiments/`` reproduces one published result.  It starts
an :class:`Experiment` from its command line (:meth:`Experiment.from_argv`,
options from :func:`make_parser`), samples through it (it fixes the seeds
and thread count and keeps the bookkeeping), draws figures with the helpers below and finishes by writing
a markdown :class:`Section` and a ``results.json`` into its output folder
(``experiments/results/NAME/`` unless ``--out`` says otherwise).
``experiments/make_report.py`` assembles the sections into
``experiments/README.md``.
"""

import argparse
import io
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    # A checkout's scripts run the checkout's pysimbias, installed or not.
    sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402  (matplotlib's own dependency)

import pysimbias  # noqa: E402
from pysimbias.config import parse_count  # noqa: E402
from pysimbias.errors import InvalidParameterError  # noqa: E402
from pysimbias.measures import MeasureContext, compute_measures  # noqa: E402

__all__ = [
    "RESULTS",
    "PRIOR_PARAMS",
    "NETWORKS",
    "prior_table",
    "encoding_spec",
    "Z95",
    "OneLineErrorParser",
    "make_parser",
    "count_arg",
    "positive_int",
    "Experiment",
    "Section",
    "run_script",
    "measures_of",
    "ones_distribution",
    "wilson",
    "weighted_mean_interval",
    "chi_square_uniform",
    "fmt_p",
    "fmt_pvalue",
    "fmt_interval",
    "markdown_table",
    "binomial_pmf",
    "ones_figure",
    "finish_axes",
]

RESULTS = HERE / "results"
Z95 = 1.959963984540054
FIGURE_DPI = 100

#: The studies' priors by short name -> ``pysimbias.sample`` parameters (mlp: two hidden ReLU layers of 40,
#: the 7-40-40-1 network of Valle-Pérez et al. 2019 on n = 7), so that every study means the same prior by a name.
PRIOR_PARAMS = {
    "perceptron": dict(prior="perceptron"),
    "mlp": dict(prior="mlp", widths=(40, 40), activation="relu"),
    "gp": dict(prior="gp", kernel="rbf"),
    "voronoi": dict(prior="voronoi"),
    "tree": dict(prior="tree"),
    "knn": dict(prior="learner:knn"),
    "uniform": dict(prior="uniform"),
    "perceptron-nobias": dict(prior="perceptron", bias=False),
}
#: The network priors among them.
NETWORKS = ("perceptron", "mlp")
_ENCODING_SPECS = {"binary": "binary", "pm1": "pm1", "onehot": "onehot", "gray": "gray", "permuted": "permuted:1",
                   "gaussian": "gaussian:{n}"}


def prior_table(*names):
    """The named priors of :data:`PRIOR_PARAMS`, in the given order: name -> ``pysimbias.sample`` parameters."""
    return {name: dict(PRIOR_PARAMS[name]) for name in names}


def encoding_spec(name, n):
    """The pysimbias encoding spec of an encoding's short name on n bits (``permuted``: seed 1, ``gaussian``: n-dim)."""
    return _ENCODING_SPECS[name].format(n=n)


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def make_parser(name, description):
    """Argument parser with the options every experiment script shares.

    Parameters
    ----------
    name : str
        The script's name (``perceptron_uniform_t`` for
        ``experiments/perceptron_uniform_t.py``); the default output folder
        is ``experiments/results/NAME``.
    description : str
        One paragraph for ``--help``.

    Returns
    -------
    argparse.ArgumentParser
        With ``--quick``, ``--out``, ``--seed`` and ``--threads``; a script
        may add its own options before parsing.
    """
    parser = OneLineErrorParser(prog=f"experiments/{name}.py", description=description)
    parser.add_argument("--quick", action="store_true",
                        help="small sample sizes (seconds): the version the test suite runs")
    parser.add_argument("--out", type=Path, default=RESULTS / name,
                        help=f"output folder for the section, figures and results.json "
                             f"(default: experiments/results/{name})")
    parser.add_argument("--seed", type=_seed, default=0,
                        help="base seed; configuration i of the script uses seed + i (default: 0)")
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="threads to use (default: all cores); does not change the results")
    return parser


def positive_int(text):
    """argparse type: a positive integer."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**62:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2^62 - 1, got {text!r}")
    return value


def count_arg(text):
    """argparse type for sample counts: accepts ``1000000``, ``1e6`` or ``10**6``."""
    try:
        return parse_count(text, "samples")
    except InvalidParameterError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def run_script(main):
    """Call ``main(sys.argv[1:])``; bad parameters end in one line on stderr and exit 2."""
    try:
        main(sys.argv[1:])
    except InvalidParameterError as exc:
        sys.stderr.write(f"error: --{exc.param.replace('_', '-')}: {exc.message}\n")
        sys.exit(2)


# --------------------------------------------------------------------------- statistics


def wilson(k, n, z=Z95):
    """Binomial proportion k/n with its Wilson score interval.

    Returns
    -------
    p, low, high : float
    """
    k, n = float(k), float(n)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return p, low, high


def weighted_mean_interval(values, counts, z=Z95):
    """Mean of ``values`` over samples (``counts[i]`` samples have ``values[i]``) and its 95% interval.

    The interval is the normal approximation mean ± z·s/√N, with s the
    sample standard deviation over all N samples; the experiments draw
    N >= 10^4 samples, where it is accurate.

    Returns
    -------
    mean, low, high : float
    """
    values = np.asarray(values, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    mean = float(np.dot(values, counts) / total)
    var = float(np.dot((values - mean) ** 2, counts) / max(total - 1, 1))
    half = z * math.sqrt(var / total)
    return mean, mean - half, mean + half


def chi_square_uniform(counts):
    """Pearson chi-square test of observed ``counts`` against equal probabilities.

    The p-value uses the Wilson–Hilferty normal approximation of the
    chi-square law (accurate to about 1e-3 for the 100+ degrees of freedom
    used here).

    Returns
    -------
    statistic : float
    dof : int
    p_value : float
    """
    counts = np.asarray(counts, dtype=np.float64)
    expected = counts.sum() / counts.size
    statistic = float(((counts - expected) ** 2).sum() / expected)
    dof = counts.size - 1
    h = 2.0 / (9.0 * dof)
    z = ((statistic / dof) ** (1.0 / 3.0) - (1.0 - h)) / math.sqrt(h)
    return statistic, dof, 0.5 * math.erfc(z / math.sqrt(2.0))


def binomial_pmf(m):
    """Binomial(m, 1/2) probabilities of t = 0..m: P(t) under the counting measure."""
    t = np.arange(m + 1)
    log_choose = np.array([math.lgamma(m + 1) - math.lgamma(k + 1) - math.lgamma(m - k + 1) for k in t])
    return np.exp(log_choose - m * math.log(2.0))


# --------------------------------------------------------------------------- measures


def measures_of(run, names):
    """Only the named measures of a run's distinct functions (cheaper than ``run.measures``).

    Parameters
    ----------
    run : pysimbias.Run
    names : list of str
        Registered measure names, e.g. ``["ones", "klz"]``.

    Returns
    -------
    dict of str -> ndarray
        One value per distinct function, in histogram order.
    """
    encoding = run.encoding
    context = MeasureContext(m=encoding.m, n=encoding.n, points=encoding.points)
    return compute_measures(run.histogram.keys, context, names)


def ones_distribution(ones, counts, m):
    """Sample counts of t = 0..m ones, from per-function ``ones`` and ``counts``."""
    return np.bincount(ones, weights=counts, minlength=m + 1).astype(np.int64)


# --------------------------------------------------------------------------- formatting


def fmt_p(value, digits=3):
    """A probability or rate with ``digits`` significant digits (trailing zeros kept)."""
    return f"{value:#.{digits}g}".rstrip(".")


def fmt_pvalue(p):
    """A p-value with 3 significant digits, or ``< 1e-16`` below double precision's resolution."""
    return f"{p:.3g}" if p >= 1e-16 else "< 1e-16"


def fmt_interval(value, low, high, digits=3):
    """``value [low, high]`` with ``digits`` significant digits."""
    return f"{fmt_p(value, digits)} [{fmt_p(low, digits)}, {fmt_p(high, digits)}]"


def markdown_table(header, rows):
    """A GitHub markdown table from a header and rows of cells (converted with str)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- figures


def ones_figure(curves, m, title, reference=None, baseline=True):
    """P(t) against t for several runs, log probability axis.

    Parameters
    ----------
    curves : list of (label, probabilities)
        ``probabilities[t]`` for t = 0..m; zeros are not drawn.
    m : int
        Number of inputs.
    title : str
    reference : (label, value), optional
        A horizontal line, e.g. a theorem's prediction.
    baseline : bool
        Draw the counting measure's Binomial(m, 1/2).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(7, 4.6))
    t = np.arange(m + 1)
    smallest = 1.0
    for i, (label, p) in enumerate(curves):
        p = np.asarray(p, dtype=np.float64)
        shown = np.where(p > 0, p, np.nan)
        ax.plot(t, shown, "o-", ms=2.5, lw=0.8, color=plt.cm.viridis(i / max(len(curves) - 1, 1)), label=label)
        if (p > 0).any():
            smallest = min(smallest, p[p > 0].min())
    if reference is not None:
        ax.axhline(reference[1], color="C3", ls=":", lw=1.2, label=reference[0])
    if baseline:
        ax.plot(t, binomial_pmf(m), "--", color="0.45", lw=1,
                label=f"counting measure: Binomial({m}, 1/2)")
    ax.set_yscale("log")
    ax.set_ylim(min(smallest / 5, 1e-4), 1.2)
    ax.set_xlim(-2, m + 2)
    ax.set_xlabel("t, number of inputs mapped to 1")
    ax.set_ylabel("P(t)")
    return finish_axes(fig, ax, title, legend_size=7, ncol=2)


def finish_axes(fig, ax, title=None, legend_size=8, **legend):
    """Title (optional), grid and legend for ``ax``; tight layout; return ``fig``."""
    if title is not None:
        ax.set_title(title, fontsize=11)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=legend_size, **legend)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- sections


@dataclass
class Section:
    """One published result and our reproduction of it, as markdown.

    Parameters
    ----------
    title : str
    claim : str
        What the paper claims, in one or two sentences.
    paper : str
        Citation, with the figure, theorem or section.
    published : str
        The published number (or, where the paper gives only a figure, what
        the figure shows).
    ours : str
        Our number with its 95% confidence interval.
    comparison : str
        Whether ours agrees; where it differs, the likely reason.
    details : list of str
        Further markdown blocks (tables, notes on conventions and methods).
    figures : list of (str, str)
        ``(file name in the output folder, caption)``.
    """

    title: str
    claim: str
    paper: str
    published: str
    ours: str
    comparison: str
    details: list = field(default_factory=list)
    figures: list = field(default_factory=list)

    def markdown(self, footer):
        """The section's markdown text, ending with ``footer``."""
        blocks = [
            f"## {self.title}",
            f"**Claim.** {self.claim}",
            f"**Paper.** {self.paper}",
            f"**Published.** {self.published}",
            f"**Ours.** {self.ours}",
            f"**Comparison.** {self.comparison}",
            *self.details,
            *[f"![{caption}]({name})\n\n*{caption}*" for name, caption in self.figures],
            footer,
        ]
        return "\n\n".join(blocks) + "\n"


class Experiment:
    """Bookkeeping of one script's run: output folder, seeds, threads, time, figures.

    Parameters
    ----------
    name : str
        The script's name.
    args : argparse.Namespace
        Parsed by a parser from :func:`make_parser`.
    shown : sequence of str, optional
        Script-specific command-line arguments to repeat in the provenance
        footer (e.g. ``["--samples", "10000000"]``).
    """

    @classmethod
    def from_argv(cls, name, doc, argv, options=None, shown=None):
        """Parse a script's command line and start its experiment.

        Parameters
        ----------
        name : str
            The script's name.
        doc : str
            The script's docstring; its first paragraph is the ``--help`` text.
        argv : list of str or None
            Arguments (None: ``sys.argv[1:]``).
        options : callable, optional
            ``options(parser)`` adds the script's own options.
        shown : callable, optional
            ``shown(args)`` returns the script-specific arguments to repeat
            in the provenance footer.

        Returns
        -------
        experiment : Experiment
        args : argparse.Namespace
        """
        parser = make_parser(name, doc.split("\n\n")[0])
        if options is not None:
            options(parser)
        args = parser.parse_args(argv)
        return cls(name, args, shown(args) if shown is not None else ()), args

    def sizes(self, quick, full):
        """``quick`` for a --quick run, else ``full``."""
        return quick if self.quick else full

    def __init__(self, name, args, shown=()):
        self.name = name
        self.quick = bool(args.quick)
        self.seed = int(args.seed)
        self.threads = args.threads
        self.out = Path(args.out)
        if self.out.exists() and not self.out.is_dir():
            raise InvalidParameterError("out", f"{self.out} is a file, not a folder")
        self.out.mkdir(parents=True, exist_ok=True)
        self.samples = 0
        self.configs = 0
        self.shown = [str(a) for a in shown]
        self.argv = [a for a in ("--quick",) if self.quick] + self.shown
        self._clock = time.perf_counter()

    def sample(self, offset=None, **params):
        """Sample one configuration (``pysimbias.sample(**params)``) with the next seed.

        Configuration i of the script (counting from 0) gets seed
        ``base seed + i``, so configurations are independent samples;
        ``offset`` gives it seed ``base seed + offset`` instead (configurations
        given the same offset share their draws, e.g. one prior on inputs in
        two orders).  The footer counts the functions drawn (for a posterior
        run, the accepted ones are fewer).
        """
        index = self.configs if offset is None else int(offset)
        run = pysimbias.sample(seed=self.seed + index, threads=self.threads, **params)
        self.configs += 1
        self.samples += run.drawn
        return run

    def save_figure(self, fig, stem):
        """Save ``fig`` as ``STEM.png`` in the output folder (atomic); return the file name.

        The PNG is written with a 256-colour palette, which keeps committed
        figures small without visible loss for line plots.
        """
        name = f"{stem}.png"
        path = self.out / name
        tmp = path.with_name(f".{name}.tmp.png")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
        plt.close(fig)
        buffer.seek(0)
        image = Image.open(buffer).convert("RGB").quantize(colors=256)
        image.save(tmp, format="PNG", optimize=True)
        tmp.replace(path)
        return name

    def footer(self):
        """Provenance line: the command, seeds, sample total, time and versions."""
        command = " ".join(["python", f"experiments/{self.name}.py", *self.argv])
        elapsed = time.perf_counter() - self._clock
        if self.quick:
            size = "quick version: small samples, not the published sizes"
        else:
            size = "full version, with the options shown" if self.shown else "full version"
        return (f"*Generated by `{command}` ({size}). Base seed {self.seed}; {self.configs} "
                f"configuration(s); {self.samples:,} samples in all; {elapsed:,.0f} s; pysimbias "
                f"{pysimbias.__version__}, numpy {np.__version__}. Do not edit: rerun the script.*")

    def finish(self, section, results):
        """Write ``results.json`` and ``section.md`` (last, atomically); return ``results``."""
        results = {"name": self.name, "quick": self.quick, "seed": self.seed,
                   "samples": self.samples, **results}
        _write_text(self.out / "results.json", json.dumps(results, indent=2, default=_jsonable) + "\n")
        _write_text(self.out / "section.md", section.markdown(self.footer()))
        return results


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _write_text(path, text):
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
