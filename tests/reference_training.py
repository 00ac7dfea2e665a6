"""A slow, obviously correct float64 NumPy trainer, written from the definitions.

It trains one network at a time with whole-matrix NumPy operations, so that
:mod:`pysimbias.kernels.training` can be checked against it step by step.

* Network: the flat parameter layout of :func:`reference.split_params`;
  hidden layers ``h = act(h_prev @ W + b)``, output ``o = h @ W + b``.
* Losses on the output o and 0/1 labels y, averaged over the batch:
  ``ce`` = ``log(1 + e^o) - y o`` (binary cross-entropy of sigmoid(o)),
  predicting ``o > 0``; ``mse`` = ``(o - y)^2``, predicting ``o > 1/2``.
* ``sgd``: ``v = momentum v + g; p = p - lr v``.
* ``adam``: Kingma & Ba (2015), Algorithm 1, with bias correction.
* An epoch visits the rows of X in a given order, in batches of
  ``batch_size`` (the last one shorter); fitting is checked after every
  epoch on all of S.
"""

import numpy as np
from scipy import special

from reference import split_params

__all__ = ["reference_loss_gradient", "ReferenceTrainer", "reference_train_run", "reference_predictions"]

_LAMBDA, _ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
#: activation -> (value, slope as a function of (z, value)), from the definitions
_ACTIVATIONS = {
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, h: (z > 0).astype(np.float64)),
    "tanh": (np.tanh, lambda z, h: 1.0 - h * h),
    "linear": (lambda z: z, lambda z, h: np.ones_like(z)),
    "gelu": (lambda z: z * special.ndtr(z), lambda z, h: special.ndtr(z) + z * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)),
    "silu": (lambda z: z * special.expit(z), lambda z, h: special.expit(z) * (1 + z * (1 - special.expit(z)))),
    "selu": (lambda z: np.where(z > 0, _LAMBDA * z, _LAMBDA * _ALPHA * np.expm1(np.minimum(z, 0.0))),
             lambda z, h: np.where(z > 0, _LAMBDA, _LAMBDA * _ALPHA * np.exp(np.minimum(z, 0.0)))),
    "sigmoid": (special.expit, lambda z, h: special.expit(z) * special.expit(-z)),
    "sin": (np.sin, lambda z, h: np.cos(z)),
    "gaussian": (lambda z: np.exp(-z * z / 2), lambda z, h: -z * np.exp(-z * z / 2)),
    "erf": (special.erf, lambda z, h: 2 / np.sqrt(np.pi) * np.exp(-z * z)),
    "step": (lambda z: (z > 0).astype(np.float64), lambda z, h: np.zeros_like(z)),
}


def _forward(layers, X, activation):
    """Pre-activations ``zs`` and layer inputs ``hs`` (``hs[0] = X``); the output is ``zs[-1][:, 0]``."""
    act = _ACTIVATIONS[activation][0]
    hs, zs = [X], []
    for index, (W, b) in enumerate(layers):
        z = hs[-1] @ W + b
        zs.append(z)
        if index < len(layers) - 1:
            hs.append(act(z))
    return zs, hs


def _widths(sizes):
    return [int(w) for w in sizes[1:-1]]


def reference_loss_gradient(params, X, y, sizes, bias, activation, loss):
    """Mean loss over the rows of X and its gradient (flat, in the parameter layout)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    layers = split_params(params, sizes[0], _widths(sizes), bias)
    zs, hs = _forward(layers, X, activation)
    o = zs[-1][:, 0]
    k = X.shape[0]
    if loss == "ce":
        value = np.mean(np.logaddexp(0.0, o) - y * o)
        d_out = (1.0 / (1.0 + np.exp(-o)) - y) / k
    else:
        value = np.mean((o - y) ** 2)
        d_out = 2.0 * (o - y) / k
    slope = _ACTIVATIONS[activation][1]
    delta = d_out[:, None]
    pieces = []
    for index in range(len(layers) - 1, -1, -1):
        W, _ = layers[index]
        grad_W = hs[index].T @ delta
        grad_b = delta.sum(axis=0)
        pieces.append(np.concatenate([grad_W.ravel(), grad_b]) if bias else grad_W.ravel())
        if index > 0:
            delta = (delta @ W.T) * slope(zs[index - 1], hs[index])
    return value, np.concatenate(pieces[::-1])


def reference_predictions(params, X, sizes, bias, activation, loss):
    """0/1 predictions on the rows of X: ``o > 0`` for ce, ``o > 1/2`` for mse."""
    layers = split_params(params, sizes[0], _widths(sizes), bias)
    o = _forward(layers, np.asarray(X, dtype=np.float64), activation)[0][-1][:, 0]
    return (o > (0.0 if loss == "ce" else 0.5)).astype(np.int64)


class ReferenceTrainer:
    """One network's training state: parameters, optimizer buffers, step count."""

    def __init__(self, params, sizes, bias, activation, loss, optimizer, lr, momentum=0.0, beta1=0.9,
                 beta2=0.999, eps=1e-8):
        self.params = np.array(params, dtype=np.float64)
        self.sizes, self.bias, self.activation, self.loss = sizes, bias, activation, loss
        self.optimizer, self.lr, self.momentum = optimizer, lr, momentum
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.first = np.zeros_like(self.params)   # momentum buffer, or Adam's m
        self.second = np.zeros_like(self.params)  # Adam's v
        self.t = 0

    def step(self, X, y):
        """One optimizer step on the batch (X, y)."""
        _, g = reference_loss_gradient(self.params, X, y, self.sizes, self.bias, self.activation, self.loss)
        self.t += 1
        if self.optimizer == "sgd":
            self.first = self.momentum * self.first + g
            self.params = self.params - self.lr * self.first
        else:
            self.first = self.beta1 * self.first + (1 - self.beta1) * g
            self.second = self.beta2 * self.second + (1 - self.beta2) * g ** 2
            m_hat = self.first / (1 - self.beta1 ** self.t)
            v_hat = self.second / (1 - self.beta2 ** self.t)
            self.params = self.params - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def epoch(self, X, y, order, batch_size):
        """Train one epoch in ``order``; return the parameters after each step."""
        after = []
        for lo in range(0, len(order), batch_size):
            rows = np.asarray(order[lo:lo + batch_size])
            self.step(X[rows], y[rows])
            after.append(self.params.copy())
        return after


def reference_train_run(params, XA, train_rows, y, orders, sizes, bias, activation, loss, optimizer, batch_size,
                        max_epochs, epochs_after_fit, **hyper):
    """Train one run to fit; return (function bits on all rows of XA, epochs to fit), or (None, 0).

    ``orders[e]`` is the order of epoch e.
    """
    X = np.asarray(XA, dtype=np.float64)[np.asarray(train_rows)]
    y = np.asarray(y, dtype=np.float64)
    trainer = ReferenceTrainer(params, sizes, bias, activation, loss, optimizer, **hyper)
    for epoch in range(max_epochs):
        trainer.epoch(X, y, orders[epoch], batch_size)
        if np.array_equal(reference_predictions(trainer.params, X, sizes, bias, activation, loss), y):
            break
    else:
        return None, 0
    for extra in range(epochs_after_fit):
        trainer.epoch(X, y, orders[epoch + 1 + extra], batch_size)
    return reference_predictions(trainer.params, XA, sizes, bias, activation, loss), epoch + 1
