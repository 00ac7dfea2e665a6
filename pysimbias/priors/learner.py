"""``learner:NAME``: scikit-learn classifiers fitted to random labels on random inputs.

Sample j of a chunk with key ``(key0, key1)`` uses the generator
``numpy.random.Generator(numpy.random.Philox(stream_seed(key0, key1, j)))``
and nothing else:

1. ``train = rng.choice(m, size=max(1, round(train_fraction * m)), replace=False)``;
2. ``labels = rng.integers(0, 2, size=train.size)``;
3. if the labels are all equal, the function is that constant (a classifier
   fitted to one class predicts it everywhere); otherwise the classifier
   ``LEARNERS[NAME][0](rng, train.size)`` is fitted to ``(points[train], labels)`` and the
   function is its prediction on every input.

Samples are independent of each other, of the chunking and of threads.
"""

import numpy as np

from ..checks import check_fraction
from ..errors import InvalidParameterError
from ..kernels.bits import n_words, pack_bits
from ..kernels.rng import stream_seed
from .registry import Param, register_prior

__all__ = ["LEARNERS", "LearnerPrior", "learner_function"]


def _knn(rng, n_train):
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=min(5, n_train))


def _svm_rbf(rng, n_train):
    from sklearn.svm import SVC

    return SVC(kernel="rbf", C=1.0, gamma="scale")


def _tree(rng, n_train):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(random_state=int(rng.integers(2**31)))


def _logistic(rng, n_train):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0)


#: name -> (factory ``(rng, n_train) ->`` unfitted classifier, description)
LEARNERS = {
    "knn": (_knn, "5-nearest-neighbour vote (fewer when fewer training inputs)"),
    "svm-rbf": (_svm_rbf, "support vector machine, RBF kernel, C = 1, gamma = 'scale'"),
    "tree": (_tree, "fully grown CART decision tree"),
    "logistic": (_logistic, "L2-regularised logistic regression, C = 1"),
}


def learner_function(points, name, train_fraction, rng):
    """One sampled function: fit learner ``name`` to random labels, predict every input.

    Parameters
    ----------
    points : ndarray of float64, shape (m, d)
    name : str
        A key of :data:`LEARNERS`.
    train_fraction : float
        Share of the inputs fitted (at least one input).
    rng : numpy.random.Generator

    Returns
    -------
    bits : ndarray of bool, shape (m,)
    """
    m = points.shape[0]
    train = rng.choice(m, size=max(1, round(train_fraction * m)), replace=False)
    labels = rng.integers(0, 2, size=train.size)
    if np.all(labels == labels[0]):
        return np.full(m, bool(labels[0]))
    model = LEARNERS[name][0](rng, train.size)
    model.fit(points[train], labels)
    return np.asarray(model.predict(points)) == 1


class LearnerPrior:
    """Functions of a scikit-learn classifier fitted to random labels (see the module notes)."""

    def __init__(self, config, encoding):
        self.m = encoding.m
        self.n_words = n_words(self.m)
        self.name = config.prior.partition(":")[2]
        self.train_fraction = float(config.train_fraction)
        self.points = np.ascontiguousarray(encoding.points, dtype=np.float64)

    def sample_chunk(self, key, count):
        """Packed functions of the first ``count`` samples of chunk ``key``."""
        bits = np.empty((int(count), self.m), dtype=bool)
        for j in range(int(count)):
            rng = np.random.Generator(np.random.Philox(int(stream_seed(key[0], key[1], j))))
            bits[j] = learner_function(self.points, self.name, self.train_fraction, rng)
        return pack_bits(bits)

    def describe(self):
        """Manifest entry: the learner and how many inputs it is fitted on."""
        return {"name": f"learner:{self.name}", "train_inputs": max(1, round(self.train_fraction * self.m)),
                "learner": LEARNERS[self.name][1]}


def _check_learner(name):
    if name not in LEARNERS:
        raise InvalidParameterError("prior", f"unknown learner {name!r}; choose from {', '.join(LEARNERS)}")


register_prior("learner", LearnerPrior, "scikit-learn classifier (" + ", ".join(LEARNERS)
               + ") fitted to random labels on --train-fraction of the inputs", argument="NAME",
               check_argument=_check_learner, params=(
                   Param("train_fraction", 0.25, lambda v: check_fraction(v, "train_fraction"),
                         "Share of the inputs the learner is fitted on.", float),))
