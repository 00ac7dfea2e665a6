"""The ``train`` task: P_SGD(f|S), the functions networks trained on S compute.

Run j of chunk k starts from the parameters that sample j of chunk k of the
``mlp`` prior draws (so an untrained run is a prior draw), trains on the
training set S with labels from the target (see
:mod:`pysimbias.kernels.training` for the losses and updates) until it
predicts all of S right, checked after every epoch, then ``epochs_after_fit``
further epochs, and records its function on all m inputs.  Runs that do not
fit within ``max_epochs`` are counted, not kept.

Each chunk also returns its *tally*: ``tally[e]`` runs fitted after ``e``
epochs, ``tally[0]`` runs that never fitted.  Tallies add up over chunks; the
engine stores each chunk's with its progress (so they survive a resume and
come back from Dask workers) and the manifest records their sum as the fit
rate and the epochs-to-fit distribution (:meth:`TrainingPrior.summarize`).
The manifest's ``task`` entry names the target and training set in the same
shape as a posterior run's (:meth:`TrainingPrior.describe_task`), so
:func:`pysimbias.summary.task_entry` reads both.
"""

import numpy as np

from ..checks import check_choice, check_int, check_real
from ..errors import InvalidParameterError
from ..kernels.lanes import LANES
from ..kernels.network import ACTIVATIONS, LAWS, layer_sizes, param_count
from ..kernels.training import HYPER, LOSSES, OPTIMIZERS, train_keys
from ..priors.registry import Param
from .targets import TARGET, TRAIN, TRAIN_SEED, make_target, make_training_set
from .tasks import register_task

__all__ = ["TrainingPrior", "ADAM_BETAS", "ADAM_EPS", "MAX_EPOCHS"]

#: Adam's beta1, beta2 and epsilon (Kingma & Ba's defaults, also PyTorch's).
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
#: Largest --max-epochs: the tally holds one count per epoch.
MAX_EPOCHS = 10**6


def _check_momentum(value):
    value = check_real(value, "momentum", 0.0)
    if value >= 1.0:
        raise InvalidParameterError("momentum", f"must be in [0, 1), got {value!r}")
    return value


OPTIMIZER = Param("optimizer", "sgd", lambda v: check_choice(v, "optimizer", OPTIMIZERS),
                  "Optimizer: sgd (with --momentum) or adam (Kingma & Ba, betas 0.9, 0.999, eps 1e-8).",
                  tuple(OPTIMIZERS))
LR = Param("lr", 0.1, lambda v: check_real(v, "lr", 0.0, strict=True),
           "Learning rate (> 0); for adam 1e-3 to 1e-2 is usual.", float)
MOMENTUM = Param("momentum", 0.0, _check_momentum, "SGD momentum in [0, 1) (PyTorch's form; sgd only).", float)
BATCH_SIZE = Param("batch_size", 8, lambda v: check_int(v, "batch_size", 1, 2**31 - 1),
                   "Training inputs per step (the last batch of an epoch is shorter if it does not divide |S|).",
                   int)
LOSS = Param("loss", "ce", lambda v: check_choice(v, "loss", LOSSES),
             "Loss on the output o: ce (cross-entropy of sigmoid(o), predicts o > 0) or mse ((o - y)^2, "
             "predicts o > 1/2).", tuple(LOSSES))
MAX_EPOCHS_PARAM = Param("max_epochs", 1000, lambda v: check_int(v, "max_epochs", 1, MAX_EPOCHS),
                         "Epochs a run may take to fit S; runs that do not are counted, not kept.", int)
EPOCHS_AFTER_FIT = Param("epochs_after_fit", 0, lambda v: check_int(v, "epochs_after_fit", 0, MAX_EPOCHS),
                         "Further epochs after a run first fits S.", int)


class TrainingPrior:
    """The engine's view of the ``train`` task: trained networks' functions, chunk by chunk.

    Parameters
    ----------
    config : SampleConfig
        Validated, with ``prior="mlp"`` and ``task="train"``.
    encoding : Encoding
    prior : NetworkPrior
        The ``mlp`` prior whose draws start the runs.

    Attributes
    ----------
    target : Target
    training_set : TrainingSet
    inputs : ndarray of float64, shape (m, d)
        The encoded inputs.
    rows, labels : ndarray
        The inputs of S (int64) and their 0/1 labels (float64).
    sizes : ndarray of int64
        The network's layer sizes.
    """

    def __init__(self, config, encoding, prior):
        if config.prior != "mlp":
            raise InvalidParameterError("prior", f"the train task trains networks of the mlp prior, not "
                                                 f"{config.prior!r}; use --prior mlp")
        if config.activation == "step":
            raise InvalidParameterError("activation", "the step activation has slope 0 wherever it has one, so "
                                                      "gradient descent cannot train it; use another activation")
        self.config = config
        self.m = prior.m
        self.n_words = prior.n_words
        self._network = prior
        self.target = make_target(config.target, encoding, config.n)
        self.training_set = make_training_set(config.train, encoding.m, config.train_seed)
        self.inputs = np.ascontiguousarray(encoding.points, dtype=np.float64)
        self.rows = np.ascontiguousarray(self.training_set.indices, dtype=np.int64)
        self.labels = self.target.bits[self.rows].astype(np.float64)
        self.sizes = layer_sizes(encoding.dim, config.widths)
        hyper = dict(lr=config.lr, momentum=config.momentum, beta1=ADAM_BETAS[0], beta2=ADAM_BETAS[1],
                     eps=ADAM_EPS)
        self._hyper = np.array([hyper[name] for name in HYPER], dtype=np.float64)

    @property
    def tally_length(self):
        """Entries of a chunk's tally: runs that never fitted, then runs fitted after 1 .. max_epochs epochs."""
        return self.config.max_epochs + 1

    def train_chunk(self, key, count):
        """Train the first ``count`` runs of chunk ``key``.

        Returns
        -------
        keys : ndarray of uint64, shape (count, W)
            Every run's function (zero for runs that did not fit).
        epochs : ndarray of int64, shape (count,)
            Epochs to fit, 0 for runs that did not fit.
        """
        c = self.config
        return train_keys(key[0], key[1], 0, int(count), self.inputs, self.rows, self.labels, self.sizes,
                          bool(c.bias), ACTIVATIONS[c.activation], LAWS[c.law], float(c.sigma_w), float(c.sigma_b),
                          LOSSES[c.loss], OPTIMIZERS[c.optimizer], self._hyper, int(c.batch_size),
                          int(c.max_epochs), int(c.epochs_after_fit))

    def sample_tallied(self, key, count):
        """The functions of the runs of chunk ``key`` that fitted, and the chunk's tally of epochs to fit."""
        keys, epochs = self.train_chunk(key, count)
        return keys[epochs > 0], np.bincount(epochs, minlength=self.tally_length).astype(np.int64)

    def sample_chunk(self, key, count):
        """The functions of the runs of chunk ``key`` that fitted S."""
        return self.sample_tallied(key, count)[0]

    def working_bytes(self, threads):
        """Memory of the runs in flight, per thread: LANES runs' parameters, optimizer state and activations.

        Also the parameters of fitted runs waiting to be recorded, the batch
        orders and the predictions.
        """
        n_par = param_count(self.sizes, bool(self.config.bias))
        width = int(self.sizes.max())
        k = self.rows.shape[0]
        rows = max(min(int(self.config.batch_size), k), 64)
        per_lane = 5 * n_par + rows * width * 2 * len(self.sizes) + 2 * max(k, self.m)
        return int(threads) * 8 * LANES * per_lane

    def summarize(self, tally):
        """The manifest's ``training`` entry for a run's summed tally.

        Holds the runs drawn, fitted and not fitted, the fit rate, and the
        epochs-to-fit distribution: ``counts[e - 1]`` runs fitted after ``e``
        epochs (trailing zeros dropped), with its mean, quantiles and range.
        """
        tally = np.asarray(tally, dtype=np.int64)
        fitted = tally[1:]
        kept = int(fitted.sum())
        drawn = int(tally.sum())
        entry = {"runs": drawn, "fitted": kept, "not_fitted": int(tally[0]),
                 "fit_rate": kept / drawn if drawn else None}
        last = int(np.flatnonzero(fitted)[-1]) + 1 if kept else 0
        epochs = np.arange(1, last + 1)
        distribution = {"counts": [int(c) for c in fitted[:last]]}
        if kept:
            cumulative = np.cumsum(fitted[:last])
            quantile = {f"q{int(q * 100)}": int(epochs[np.searchsorted(cumulative, q * kept)])
                        for q in (0.1, 0.5, 0.9, 0.99)}
            distribution.update(mean=float((epochs * fitted[:last]).sum() / kept),
                                min=int(epochs[fitted[:last] > 0][0]), max=last, **quantile)
        entry["epochs_to_fit"] = distribution
        return {"training": entry}

    def describe(self):
        """Manifest entry: the network prior's, with the task."""
        return {**self._network.describe(), "task": "train"}

    def describe_task(self):
        """Manifest entry of the task: its name, the target and the training set (as a posterior's)."""
        return {"name": "train", "target": self.target.describe(), "train": self.training_set.describe()}


register_task("train", TrainingPrior, "train networks of the mlp prior on S to fit the target; keep those that fit",
              params=(TARGET, TRAIN, TRAIN_SEED, OPTIMIZER, LR, MOMENTUM, BATCH_SIZE, LOSS, MAX_EPOCHS_PARAM,
                      EPOCHS_AFTER_FIT))
