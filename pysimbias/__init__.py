"""pysimbias: simplicity bias of random networks and other priors on Boolean inputs.

>>> import pysimbias
>>> run = pysimbias.sample(prior="mlp", widths=(40, 40), n=7, samples=10_000, seed=0)
>>> frame = run.to_frame()          # one row per distinct function, with measures
>>> run.save("runs/demo")           # functions.parquet, manifest.json, plots
>>> manifest = pysimbias.sample_to_directory("runs/big", samples=10**8, resume=True)  # doctest: +SKIP
>>> post = pysimbias.posterior(prior="perceptron", n=7, samples=10**5, target="x1", train=16)  # P(f|S)
"""

from ._version import __version__  # noqa: E402
from . import config  # noqa: E402
from .inputs import encodings  # noqa: E402
from .store import rundir as runio  # noqa: E402
from .config import SampleConfig  # noqa: E402
from .errors import InvalidParameterError, RunDirectoryError  # noqa: E402
from .histogram import Histogram  # noqa: E402
from .run import Run, StoredRun, load_run, open_run, posterior, prepare, sample, train  # noqa: E402
from .runner import sample_to_directory  # noqa: E402

__all__ = [
    "__version__",
    "sample",
    "posterior",
    "train",
    "prepare",
    "sample_to_directory",
    "load_run",
    "open_run",
    "StoredRun",
    "Run",
    "Histogram",
    "SampleConfig",
    "InvalidParameterError",
    "RunDirectoryError",
    "config",
    "encodings",
    "runio",
]
