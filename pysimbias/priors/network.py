"""Random fully connected networks: ``mlp`` and ``perceptron`` (no hidden layer).

Weights ~ N(0, sigma_w^2 / fan_in) and biases ~ N(0, sigma_b^2), or uniform
laws with the same variances; the output bit is 1 iff the final
pre-activation is > 0.  The sampling happens in
:mod:`pysimbias.kernels.network`.
"""

from ..checks import check_choice, check_real, parse_widths
from ..errors import InvalidParameterError
from ..kernels.bits import n_words
from ..kernels.network import (
    ACTIVATIONS,
    LAWS,
    MAX_TREE_SIGMA,
    layer_sizes,
    sample_keys,
    sample_tree_keys,
    sum_tree,
)
from .registry import Param, register_prior

__all__ = ["NetworkPrior", "DEFAULT_WIDTHS", "network_bytes"]

DEFAULT_WIDTHS = (40, 40)




def _check_bias(value):
    if not isinstance(value, bool) and value not in (0, 1):
        raise InvalidParameterError("bias", f"must be True or False, got {value!r}")
    return bool(value)


def network_bytes(sizes, bias, m, threads):
    """Working memory of sampling networks with these layer sizes on ``m`` inputs.

    Every thread holds one network's parameters and two layers of
    activations on all inputs, in float32.
    """
    sizes = [int(size) for size in sizes]
    params = sum(a * b + (b if bias else 0) for a, b in zip(sizes, sizes[1:]))
    width = max(sizes[1:-1], default=1)
    return int(threads) * 4 * (params + 2 * width * int(m) + int(m))


class NetworkPrior:
    """Random fully connected networks (the perceptron has no hidden layer).

    A perceptron whose inputs have coordinates in {-1, 0, 1} is evaluated
    through its sum tree (:func:`~pysimbias.kernels.network.sum_tree`),
    which gives the same keys faster.
    """

    def __init__(self, config, encoding):
        self.config = config
        self.m = encoding.m
        self.n_words = n_words(self.m)
        self._XT = encoding.transposed32()
        widths = config.widths if config.prior == "mlp" else ()
        if config.prior == "mlp" and not widths:
            raise InvalidParameterError("widths", "an mlp needs at least one hidden layer (e.g. 40,40)")
        activation = config.activation if widths else "linear"
        self._sizes = layer_sizes(encoding.dim, widths)
        self._args = (
            bool(config.bias),
            ACTIVATIONS[activation],
            LAWS[config.law],
            float(config.sigma_w),
            float(config.sigma_b),
        )
        exact = not len(widths) and max(config.sigma_w, config.sigma_b) <= MAX_TREE_SIGMA
        self._tree = sum_tree(self._XT) if exact else None

    def sample_chunk(self, key, count):
        """Packed functions of the first ``count`` networks of chunk ``key``."""
        bias, act, law, sigma_w, sigma_b = self._args
        if self._tree is not None:
            return sample_tree_keys(key[0], key[1], 0, int(count), *self._tree, self._sizes, bias, law,
                                    sigma_w, sigma_b)
        return sample_keys(
            key[0], key[1], 0, int(count), self._XT, self._sizes, bias, act, law, sigma_w, sigma_b
        )

    def working_bytes(self, threads):
        """Memory the sampler needs on ``threads`` threads."""
        return network_bytes(self._sizes, self._args[0], self.m, threads)

    def describe(self):
        """Manifest entry: the layer sizes, inputs to output."""
        return {"name": self.config.prior, "layer_sizes": [int(size) for size in self._sizes]}


_BIAS = Param("bias", True, _check_bias, "Give every unit a bias.", bool)
_LAW = Param("law", "gaussian", lambda v: check_choice(v, "law", LAWS),
             "Parameter law; both have Var(w) = sigma_w^2/fan_in and Var(b) = sigma_b^2.", tuple(LAWS))
_SIGMA_W = Param("sigma_w", 1.0, lambda v: check_real(v, "sigma_w", 0.0, strict=True), "Weight scale (> 0).", float)
_SIGMA_B = Param("sigma_b", 1.0, lambda v: check_real(v, "sigma_b", 0.0), "Bias scale (>= 0).", float)
_WIDTHS = Param("widths", DEFAULT_WIDTHS, parse_widths,
                "Hidden layer widths, comma-separated (e.g. 40,40; '' for none, nngp only).",
                "W1,W2,...")
_ACTIVATION = Param("activation", "relu", lambda v: check_choice(v, "activation", ACTIVATIONS),
                    "Hidden-layer activation.", tuple(ACTIVATIONS))

register_prior("mlp", NetworkPrior, "fully connected network with hidden layers --widths and --activation",
               params=(_WIDTHS, _ACTIVATION, _BIAS, _LAW, _SIGMA_W, _SIGMA_B))
register_prior("perceptron", NetworkPrior, "a single threshold unit on the inputs",
               params=("bias", "law", "sigma_w", "sigma_b"))
