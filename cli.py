"""The ``pysimbias`` command line: parses flags, calls the API, prints results."""

import sys
from datetime import datetime

import click

import pysimbias
from pysimbias.config import COMMON, PARAMETERS, PRIORS, TASK_PARAMETERS, TASKS, SampleConfig, parse_count
from pysimbias.errors import InvalidParameterError, RunDirectoryError
from pysimbias.inputs.encodings import ENCODINGS
from pysimbias.priors import readers_of

_FLAG_OF = {"bias": "--no-bias", "params": "options", "runs": "RUN_DIRS"}


def _flag(param):
    return _FLAG_OF.get(param, "--" + param.replace("_", "-"))


class _Count(click.ParamType):
    name = "COUNT"

    def convert(self, value, param, ctx):
        try:
            return parse_count(value, param.name if param else "count")
        except InvalidParameterError as exc:
            self.fail(exc.message, param, ctx)


class _Checked(click.ParamType):
    """Text handed to a prior parameter's own check."""

    def __init__(self, spec):
        self.spec = spec
        self.name = spec.cli_type

    def convert(self, value, param, ctx):
        try:
            return self.spec.check(value)
        except InvalidParameterError as exc:
            self.fail(exc.message, param, ctx)


def _prior_option(spec):
    """The click option of a prior parameter: not given means the prior's default."""
    readers = readers_of(spec.name)
    return _param_option(spec, f"{spec.help} Read by --prior {', '.join(readers)}.")


def _param_option(spec, text):
    """The click option of a prior or task parameter (not given: None, which reads as its default)."""
    text += "  [required]" if spec.default is None else f"  [default: {_shown(spec.default)}]"
    if spec.cli_type is bool:
        flag = "--" + spec.name.replace("_", "-")
        return click.option(f"{flag}/--no-{flag[2:]}", spec.name, default=None, help=text)
    if isinstance(spec.cli_type, tuple):
        kind = click.Choice(list(spec.cli_type))
    elif isinstance(spec.cli_type, str):
        kind = _Checked(spec)
    else:
        kind = spec.cli_type
    return click.option("--" + spec.name.replace("_", "-"), spec.name, type=kind, default=None, help=text)


def _shown(value):
    return ",".join(map(str, value)) if isinstance(value, tuple) else value


def _prior_options(prior=None):
    """Decorator adding the options of every prior's parameters, or only of those ``prior`` reads."""
    specs = [spec for spec in PARAMETERS.values() if prior is None or prior in readers_of(spec.name)]

    def decorate(command):
        for spec in reversed(specs):
            command = (_prior_option(spec) if prior is None else _param_option(spec, spec.help))(command)
        return command
    return decorate


def _task_options(task):
    """Decorator adding the options of a task's parameters."""
    def decorate(command):
        for name in reversed(TASKS[task].params):
            command = _param_option(TASK_PARAMETERS[name], TASK_PARAMETERS[name].help)(command)
        return command
    return decorate


def _options(*decorators):
    """One decorator applying ``decorators`` in the order they are listed."""
    def decorate(command):
        for decorator in reversed(decorators):
            command = decorator(command)
        return command
    return decorate


class _LazyBar:
    """A progress bar that appears with the first progress report, so errors found before stay one line."""

    def __init__(self, length):
        self._length = length
        self._bar = None

    def __call__(self, done):
        if self._bar is None:
            self._bar = click.progressbar(length=self._length, label="sampling", show_pos=True, show_percent=True,
                                          file=sys.stderr).__enter__()
        self._bar.update(done)

    def close(self):
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def _default_out(prior, n, seed, task="sample"):
    name = prior.partition(":")[0] + ("-" + prior.partition(":")[2] if prior.startswith("learner:") else "")
    name = name if task == "sample" else f"{task}-{name}"
    return f"runs/{name}-n{n}-seed{seed}-{datetime.now():%Y%m%d-%H%M%S}"


def _prior_params(prior, given):
    """The prior parameters given on the command line; refuse those the chosen prior does not read."""
    name = prior.partition(":")[0]
    params = {param: value for param, value in given.items() if value is not None}
    for param in params:
        readers = readers_of(param)
        if name not in readers:
            flag = "--" + param.replace("_", "-")
            raise click.BadParameter(f"only --prior {', '.join(readers)} read{'s' * (len(readers) == 1)} it",
                                     param_hint=f"'{flag}'")
    return params


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(pysimbias.__version__, prog_name="pysimbias")
def cli():
    """Sample random networks (and other priors) on Boolean inputs, count the
    functions they compute, and measure how simple those functions are.

    Start with `pysimbias sample` (a 7-40-40-1 ReLU study, 10^6 samples), then
    `pysimbias show DIR` and the PNG plots in DIR.
    """


def _input_options(prior=None):
    """Decorator adding the input and prior options: every prior's, or (``prior``) only that prior's."""
    chosen = PRIORS.values() if prior is None else [PRIORS[prior]]
    return _options(
        click.option("--prior", default=COMMON["prior"] if prior is None else prior, show_default=True,
                     help="; ".join(f"{spec.syntax}: {spec.summary}" for spec in chosen) + "."),
        _INPUT_SPACE,
        _prior_options(prior),
    )


_INPUT_SPACE = _options(
    click.option("--n", type=int, default=COMMON["n"], show_default=True,
                 help=f"Input bits: the inputs are the 2^n points of {{0,1}}^n (1 to {pysimbias.config.MAX_N})."),
    click.option("--encoding", default=COMMON["encoding"], show_default=True,
                 help="Input encoding: " + "; ".join(f"{syntax}: {text}" for _, _, syntax, text in ENCODINGS.values())
                      + "."),
    click.option("--graph", default=COMMON["graph"], show_default=True,
                 help="Neighbour graph of the continuity measures: auto (hypercube for bit vectors, else "
                      "knn:ceil(log2 m)), hypercube, knn:K or radius:R."),
)
_RUN_OPTIONS = _options(
    click.option("--seed", type=int, default=COMMON["seed"], show_default=True,
                 help="The run's seed; same config and seed give the same result."),
    click.option("--threads", type=click.IntRange(min=1), default=None,
                 help="Threads to use (default: all cores); does not change the result."),
    click.option("--out", type=click.Path(file_okay=False), default=None,
                 help="Run directory to write.  [default: runs/PRIOR-nN-seedS-TIMESTAMP]"),
    click.option("--force", is_flag=True, help="Overwrite a non-empty --out directory."),
    click.option("--no-plots", is_flag=True, help="Skip drawing the PNG plots."),
    click.option("--resume", is_flag=True,
                 help="Continue the interrupted run in --out (or start it there); the flags must be the same."),
    click.option("--memory", metavar="SIZE", default=None,
                 help="Memory budget, e.g. 8G, 512M or 50% (of RAM); beyond it sorted tables spill to disk.  "
                      "[default: 50%]"),
    click.option("--scheduler", metavar="ADDRESS", default=None,
                 help="Count the chunks on this Dask cluster (e.g. tcp://10.0.0.5:8786) instead of locally."),
    click.option("--checkpoint-every", metavar="SECONDS", type=float, default=None, show_default="60",
                 help="Save the progress (a sorted segment of the functions counted since the last save) this "
                      "often; a killed run loses at most this much work.  0 saves after every chunk."),
)


def _to_directory(task, prior, n, encoding, graph, samples, seed, threads, out, force, no_plots, resume, memory,
                  scheduler, checkpoint_every, given, measures=""):
    """Check the flags of a ``sample``-like command, run it into its directory; return (manifest, out)."""
    task_params = {name: given.pop(name) for name in TASKS[task].params if given.get(name) is not None}
    config = SampleConfig(prior=prior, n=n, encoding=encoding, graph=graph, samples=samples, seed=seed, task=task)
    params = _prior_params(config.replace(**task_params).validated().prior, given)
    if resume and out is None:
        raise click.BadParameter("needs --out, the directory of the run to continue", param_hint="'--resume'")
    config = config.replace(**params, **task_params).validated()
    out = out or _default_out(prior, n, seed, task)
    bar = _LazyBar(config.samples)
    try:
        manifest = pysimbias.sample_to_directory(
            out, config, threads=threads, progress=bar, memory=memory, resume=resume, force=force,
            scheduler=scheduler, plots=not no_plots, notify=lambda message: click.echo(message, err=True),
            measures=measures, checkpoint_every=checkpoint_every)
    finally:
        bar.close()
    return manifest, out


def _wrote(out, manifest):
    """Name the files the run directory holds: the table, its aggregates, the manifest and the plots drawn."""
    names = [*manifest.get("files", {}), "manifest.json", *manifest.get("plots", [])]
    click.echo(f"wrote {out}/ ({', '.join(names)})")


def _report(manifest, out, kept=""):
    """Print what a sampling run drew, how fast, and what it wrote."""
    sampled = manifest["samples"] - manifest.get("progress", {}).get("resumed_samples", 0)
    elapsed = manifest["elapsed_seconds"]
    click.echo(f"{manifest['samples']:,} samples{kept}, {manifest['distinct']:,} distinct functions; sampled "
               f"{sampled:,} in {elapsed:.1f} s ({sampled / max(elapsed, 1e-9):,.0f} samples/s)")
    _wrote(out, manifest)


@cli.command()
@_input_options()
@click.option("--samples", type=_Count(), default="1e6", show_default=True,
              help="Number of random functions to draw (accepts 1e6).")
@_RUN_OPTIONS
@click.option("--measures", "extra_measures", metavar="NAMES", default="",
              help="Comma-separated measures to add to the default ones (e.g. sop, which is slow).")
def sample(prior, n, encoding, graph, samples, seed, threads, out, force, no_plots, resume, memory, scheduler,
           checkpoint_every, extra_measures, **given):
    """Sample random functions from a prior, count them exactly, measure and plot them.

    Writes OUT/functions.parquet (one row per distinct function with its count
    and measures), OUT/manifest.json and PNG plots.  Progress is saved in
    OUT/chunks/ every --checkpoint-every seconds, so a killed run continues
    with --resume.
    """
    manifest, out = _to_directory("sample", prior, n, encoding, graph, samples, seed, threads, out, force, no_plots,
                                  resume, memory, scheduler, checkpoint_every, given, measures=extra_measures)
    _report(manifest, out)


@cli.command()
@_input_options()
@_task_options("posterior")
@click.option("--samples", type=_Count(), default="1e6", show_default=True,
              help="Number of functions to draw from the prior (accepts 1e6).")
@_RUN_OPTIONS
def posterior(prior, n, encoding, graph, samples, seed, threads, out, force, no_plots, resume, memory, scheduler,
              checkpoint_every, **given):
    """Sample the posterior P(f|S) of a prior exactly: its draws that agree with --target on the training set.

    Draws --samples functions from the prior exactly as `sample` does (same
    seed, same streams) and keeps those that agree with the target on the
    training set S, so its table is `sample`'s table filtered on S.  Writes
    the same run directory, with a test_error column and a test_error.png
    plot; the manifest records the target, S, the samples drawn and the
    number accepted.  `pysimbias show OUT` prints P(U), the test error and
    the PAC-Bayes bound beside the counting measure's.
    """
    manifest, out = _to_directory("posterior", prior, n, encoding, graph, samples, seed, threads, out, force,
                                  no_plots, resume, memory, scheduler, checkpoint_every, given)
    p_u = manifest["accepted"] / manifest["samples"]
    _report(manifest, out, kept=f" drawn, {manifest['accepted']:,} accepted (P(U) = {p_u:.4g})")


@cli.command()
@_input_options("mlp")
@_task_options("train")
@click.option("--runs", type=_Count(), default="1e4", show_default=True,
              help="Number of networks to train, each from its own prior draw (accepts 1e4).")
@_RUN_OPTIONS
def train(prior, n, encoding, graph, runs, seed, threads, out, force, no_plots, resume, memory, scheduler,
          checkpoint_every, **given):
    """Train networks of the mlp prior on a training set S; count the functions of those that fit.

    Each run starts from a prior draw, trains on S (--target, --train) with
    --optimizer until it predicts all of S right (checked after every
    epoch), trains --epochs-after-fit more epochs, and records its function
    on all inputs; runs that do not fit within --max-epochs are counted, not
    kept.  Writes the same run directory as `sample`; its manifest.json also
    holds the fit rate and the epochs-to-fit distribution ("training").
    """
    manifest, out = _to_directory("train", prior, n, encoding, graph, runs, seed, threads, out, force, no_plots,
                                  resume, memory, scheduler, checkpoint_every, given)
    training = manifest["training"]
    epochs = training["epochs_to_fit"]
    elapsed = manifest["elapsed_seconds"]
    click.echo(f"{training['runs']:,} runs, {training['fitted']:,} fitted (fit rate {training['fit_rate']:.4g}); "
               f"{manifest['distinct']:,} distinct functions; {elapsed:.1f} s")
    if training["fitted"]:
        click.echo(f"epochs to fit: mean {epochs['mean']:.2f}, median {epochs['q50']}, 90% {epochs['q90']}, "
                   f"max {epochs['max']}")
    _wrote(out, manifest)


@cli.command()
@click.argument("run_dir", type=click.Path())
def plot(run_dir):
    """Redraw the PNG plots of the run in RUN_DIR (from its aggregates, without loading its table)."""
    from pysimbias.plots import plot_run

    for path in plot_run(_open(run_dir), run_dir):
        click.echo(f"wrote {path}")


def _open(run_dir):
    """Open a run for summaries; say so when its aggregates had to be rebuilt from the table."""
    run = pysimbias.open_run(run_dir)
    if run.rebuilt:
        click.echo(f"{run_dir} has no valid aggregates.npz (an older or damaged run): rebuilt it from "
                   f"functions.parquet", err=True)
    return run


@cli.command()
@click.argument("run_dir", type=click.Path())
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many of the most frequent functions to list.")
@click.option("--delta", type=float, default=0.05, show_default=True,
              help="Confidence parameter of a posterior run's PAC-Bayes bound (it holds with probability 1-delta).")
def show(run_dir, top, delta):
    """Print a summary of the run in RUN_DIR: sizes, P(constant), top functions.

    For a posterior run also P(U) with a 95% interval, the posterior's test
    error (mean with a 95% interval, quantiles, distribution) and the
    PAC-Bayes bound, each beside the counting measure's value.  For a train
    run also the fit rate and the epochs to fit.
    """
    from pysimbias.summary import summary_lines

    click.echo("\n".join(summary_lines(_open(run_dir), top=top, delta=delta)))


def _split_list(text):
    return None if text is None else [item.strip() for item in text.split(",")]


@cli.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder to write compare.csv, compare.txt and the overlay plots p_MEASURE.png into.")
@click.option("--labels", default=None, help="Comma-separated run labels, one per run.  [default: folder names]")
@click.option("--measures", default=None,
              help="Comma-separated measures to compare.  [default: every measure the runs have]")
@click.option("--baseline-samples", type=_Count(), default="1e5", show_default=True,
              help="Uniform random functions per counting-measure sample.")
@click.option("--bootstrap", type=click.IntRange(min=0), default=200, show_default=True,
              help="Bootstrap replicates for the KL intervals (0: none).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--force", is_flag=True, help="Write into a non-empty --out folder.")
@click.option("--no-plots", is_flag=True, help="Skip the overlay plots.")
@click.option("--delta", type=float, default=0.05, show_default=True,
              help="Confidence parameter of the posterior runs' PAC-Bayes bound.")
def compare(run_dirs, out, labels, measures, baseline_samples, bootstrap, seed, force, no_plots, delta):
    """Compare runs with each other and with the counting measure.

    Prints, per measure, each run's distinct-function count, P(constant),
    mean and quantiles, the share of probability below the counting measure's
    1st percentile and KL(P_run || counting) in bits with a 95% bootstrap
    interval; writes the same as OUT/compare.csv and OUT/compare.txt, and
    overlay plots OUT/p_MEASURE.png.

    Posterior runs (all of one target and training set) also get P(U), the
    mean test error and the PAC-Bayes bound beside the counting measure's,
    and P(f|S) of the functions each run shares with the first (log10
    ratios, correlation of log probabilities): OUT/posterior.csv,
    OUT/test_error.png and OUT/pfs_scatter.png.
    """
    from pysimbias.compare import compare_directories, posterior_table, terminal_table

    frame, posterior, written = compare_directories(
        run_dirs, out, labels=_split_list(labels), measures=_split_list(measures), baseline_size=baseline_samples,
        bootstrap=bootstrap, seed=seed, force=force, plots=not no_plots, delta=delta)
    click.echo("\n".join(terminal_table(frame) + ([] if posterior is None else posterior_table(posterior))))
    click.echo(f"wrote {len(written)} files to {out}/")


def _fail(message):
    click.echo(f"Error: {message}", err=True)
    return 2


def main(argv=None):
    """Console entry point: bad input gives one line on stderr and exit status 2."""
    try:
        code = cli.main(args=argv, prog_name="pysimbias", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.UsageError as exc:
        code = _fail(exc.format_message().replace("\n", " "))
    except InvalidParameterError as exc:
        code = _fail(f"Invalid value for '{_flag(exc.param)}': {exc.message}")
    except RunDirectoryError as exc:
        code = _fail(str(exc))
    except click.Abort:
        code = _fail("aborted")
    except KeyboardInterrupt:
        click.echo("interrupted (an unfinished sample run continues with --resume)", err=True)
        code = 130
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
