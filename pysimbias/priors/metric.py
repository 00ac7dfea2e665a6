"""Metric-respecting, non-neural priors: Gaussian processes, Voronoi labellings, random trees.

Each prior reads the encoded points, so it "uses" the encoding's metric the
way a network does, without being a network.  The sampling happens in the
kernels of :mod:`pysimbias.kernels.priors`; this module validates parameters
and prepares their inputs.
"""

import math

import numpy as np

from ..checks import check_choice, check_int, check_real
from ..errors import InvalidParameterError
from ..kernels.bits import n_words
from ..kernels.priors import gp_keys, tree_keys, voronoi_keys
from .registry import Param, register_prior

__all__ = ["GP_KERNELS", "MAX_DEPTH", "MAX_GP_INPUTS", "GPPrior", "VoronoiPrior", "TreePrior",
           "kernel_matrix", "median_distance", "cholesky_with_jitter"]

#: Deepest random tree (2**MAX_DEPTH leaves).
MAX_DEPTH = 12
#: Most inputs a Gaussian process may have (its covariance is m x m).
MAX_GP_INPUTS = 4096
_JITTERS = (1e-10, 1e-8, 1e-6, 1e-4)


def _distances(points):
    sq = np.sum(points * points, axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (points @ points.T)
    np.fill_diagonal(d2, 0.0)
    return np.sqrt(np.maximum(d2, 0.0))


def median_distance(points):
    """Median Euclidean distance between two distinct inputs (the 'median heuristic')."""
    dist = _distances(np.asarray(points, dtype=np.float64))
    return float(np.median(dist[np.triu_indices(dist.shape[0], 1)]))


def _rbf(points, scale):
    return np.exp(-0.5 * (_distances(points) / scale) ** 2)


def _laplace(points, scale):
    return np.exp(-_distances(points) / scale)


def _arccos(points, scale):
    """Degree-1 arc-cosine kernel (Cho & Saul 2009) of (x / scale, 1)."""
    aug = np.hstack([points / scale, np.ones((points.shape[0], 1))])
    norms = np.linalg.norm(aug, axis=1)
    cos = np.clip((aug @ aug.T) / np.outer(norms, norms), -1.0, 1.0)
    theta = np.arccos(cos)
    return np.outer(norms, norms) * (np.sin(theta) + (math.pi - theta) * cos) / math.pi


#: name -> (covariance function of (points, length scale), description)
GP_KERNELS = {
    "rbf": (_rbf, "exp(-|x-y|^2 / (2 l^2))"),
    "laplace": (_laplace, "exp(-|x-y| / l)"),
    "arccos": (_arccos, "degree-1 arc-cosine kernel of (x/l, 1): an infinitely wide ReLU layer"),
}


def kernel_matrix(points, kernel, length_scale):
    """The GP covariance of the named kernel on the points (float64, m x m)."""
    return GP_KERNELS[kernel][0](np.asarray(points, dtype=np.float64), float(length_scale))


def cholesky_with_jitter(cov):
    """Lower Cholesky factor of ``cov + jitter * mean(diag) * I``, smallest jitter that works.

    Returns
    -------
    chol : ndarray of float64, shape (m, m)
    jitter : float
        The relative jitter used (one of 1e-10, 1e-8, 1e-6, 1e-4).
    """
    scale = float(np.mean(np.diag(cov)))
    for jitter in _JITTERS:
        try:
            return np.linalg.cholesky(cov + jitter * scale * np.eye(cov.shape[0])), jitter
        except np.linalg.LinAlgError:
            continue
    raise InvalidParameterError("kernel", "the covariance is not positive definite even with jitter 1e-4; "
                                          "choose another --kernel or --length-scale")


class GPPrior:
    """Sign of a zero-mean Gaussian-process draw on the encoded points."""

    def __init__(self, config, encoding):
        self.m = encoding.m
        self.n_words = n_words(self.m)
        if self.m > MAX_GP_INPUTS:
            raise InvalidParameterError("prior", f"gp needs an m x m covariance; use at most {MAX_GP_INPUTS} "
                                                 f"inputs (this encoding has {self.m})")
        scale = config.length_scale
        if scale == "auto":
            scale = median_distance(encoding.points)
            if scale <= 0:
                raise InvalidParameterError("length_scale", "the inputs all coincide; give a positive --length-scale")
        self.kernel = config.kernel
        self.length_scale = float(scale)
        self.chol, self.jitter = cholesky_with_jitter(kernel_matrix(encoding.points, self.kernel, self.length_scale))

    def sample_chunk(self, key, count):
        """Packed signs of the first ``count`` GP draws of chunk ``key``."""
        return gp_keys(key[0], key[1], 0, int(count), self.chol)

    def describe(self):
        """Manifest entry: kernel, resolved length scale and the jitter used."""
        return {"name": "gp", "kernel": self.kernel, "length_scale": self.length_scale, "jitter": self.jitter}


class VoronoiPrior:
    """Random nearest-centre labellings: K random inputs as centres, each with a fair label."""

    def __init__(self, config, encoding):
        self.m = encoding.m
        self.n_words = n_words(self.m)
        if config.centres > self.m:
            raise InvalidParameterError("centres", f"must be at most the number of inputs, {self.m}")
        self.centres = int(config.centres)
        self.points = np.ascontiguousarray(encoding.points, dtype=np.float64)

    def sample_chunk(self, key, count):
        """Packed labellings of the first ``count`` samples of chunk ``key``."""
        return voronoi_keys(key[0], key[1], 0, int(count), self.points, self.centres)

    def describe(self):
        """Manifest entry."""
        return {"name": "voronoi", "centres": self.centres}


class TreePrior:
    """Random complete axis-aligned decision trees with fair leaf labels."""

    def __init__(self, config, encoding):
        self.m = encoding.m
        self.n_words = n_words(self.m)
        self.depth = int(config.depth)
        self.points = np.ascontiguousarray(encoding.points, dtype=np.float64)
        self.lows = self.points.min(axis=0)
        self.highs = self.points.max(axis=0)

    def sample_chunk(self, key, count):
        """Packed functions of the first ``count`` random trees of chunk ``key``."""
        return tree_keys(key[0], key[1], 0, int(count), self.points, self.lows, self.highs, self.depth)

    def describe(self):
        """Manifest entry."""
        return {"name": "tree", "depth": self.depth}


def _check_length_scale(value):
    if isinstance(value, str) and value.strip() == "auto":
        return "auto"
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InvalidParameterError("length_scale", f"must be 'auto' or a positive number, got {value!r}") from None
    return check_real(value, "length_scale", 0.0, strict=True)


register_prior("gp", GPPrior, "sign of a Gaussian-process draw (--kernel, --length-scale)", params=(
    Param("kernel", "rbf", lambda v: check_choice(v, "kernel", GP_KERNELS), "Covariance of the Gaussian process.",
          tuple(GP_KERNELS)),
    Param("length_scale", "auto", _check_length_scale,
          "Length scale of the Gaussian process, or 'auto': the median distance between inputs."),
))
register_prior("voronoi", VoronoiPrior, "--centres random inputs with random labels, nearest-centre rule", params=(
    Param("centres", 8, lambda v: check_int(v, "centres", 1, 2**16), "Random centres, each with a fair label.", int),
))
register_prior("tree", TreePrior, "random axis-aligned decision tree of depth --depth", params=(
    Param("depth", 3, lambda v: check_int(v, "depth", 0, MAX_DEPTH), f"Depth of the random trees (0 to {MAX_DEPTH}).",
          int),
))
