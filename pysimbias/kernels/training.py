"""Numba kernels: train many networks on a training set, each from a prior draw.

Pure array-in / array-out.  The networks and their flat parameter vectors
are those of :mod:`pysimbias.kernels.network`; run ``j`` of a chunk starts
from exactly the parameters that sample ``j`` of the same chunk draws there
(:func:`~pysimbias.kernels.network.draw_params`), converted exactly to
float64.

Arithmetic is float64 throughout: whether a run fits its training set, and
the sign of each output, are threshold decisions, so they are taken on
values that agree with the float64 reference trainer of the tests to about
1e-12 rather than float32's 1e-6.  The batches are small (the literature's
is 8 of 32 inputs), so the wider type costs little.

Losses act on the network's output o (the final pre-activation) and 0/1
labels y, averaged over the batch:

* ``ce`` (0): binary cross-entropy of sigmoid(o),
  ``max(o, 0) - y o + log1p(exp(-|o|))``; prediction ``o > 0`` (the prior's
  Heaviside).
* ``mse`` (1): ``(o - y)^2``; prediction ``o > 1/2``, the threshold the 0/1
  labels imply.

The training accuracy checks and the recorded function on all m inputs use
the same prediction rule as the loss.  Optimizers (``p`` the parameters, ``g``
the batch gradient, ``t`` the step, counted from 1):

* ``sgd`` (0): ``v <- mu v + g; p <- p - lr v`` (PyTorch's SGD with momentum
  ``mu``, no dampening; ``mu = 0`` is plain SGD).
* ``adam`` (1): Kingma & Ba (2015), Algorithm 1: ``m <- b1 m + (1 - b1) g``,
  ``v <- b2 v + (1 - b2) g^2``, ``p <- p - lr (m / (1 - b1^t)) /
  (sqrt(v / (1 - b2^t)) + eps)``.

An epoch visits the training inputs in an order drawn from the run's own
stream (:func:`epoch_order`), in batches of ``batch_size`` (the last one
shorter when it does not divide |S|).  After each epoch the run is checked
on all of S; the first epoch after which every training input is predicted
right is its *epochs to fit*, after which it trains ``epochs_after_fit``
further epochs and records its function.  A run that does not fit within
``max_epochs`` epochs, or whose outputs are not finite at the end, reports
0 epochs.
"""

import math

import numba
import numpy as np

from .activations import slope64, value64
from .network import _draw_one, param_count, param_scales
from .rng import _draw, mix64, normal_work_size, stream_seed

__all__ = ["LOSSES", "OPTIMIZERS", "HYPER", "epoch_order", "epoch_orders", "loss_and_gradient", "train_steps",
           "train_keys"]

LOSSES = {"ce": 0, "mse": 1}
OPTIMIZERS = {"sgd": 0, "adam": 1}
#: Order of the float hyperparameters in the ``hyper`` array of the kernels.
HYPER = ("lr", "momentum", "beta1", "beta2", "eps")

_ORDER_SALT = np.uint64(0x6A09E667F3BCC909)
# Inputs evaluated at once when checking or recording a function.
_EVAL_ROWS = 64


@numba.njit(cache=True)
def epoch_order(seed, epoch, out):
    """Fill ``out`` with the order in which epoch ``epoch`` (0-based) of the run with stream ``seed`` visits S.

    A Fisher-Yates shuffle of ``0 .. len(out)-1``, started afresh each epoch,
    whose draws come from a stream of its own derived from the run's stream
    seed, so the order depends only on (seed, epoch).
    """
    k = out.shape[0]
    order_seed = mix64(np.uint64(seed) ^ _ORDER_SALT)
    for i in range(k):
        out[i] = i
    base = epoch * k
    for i in range(k - 1, 0, -1):
        j = np.int64((_draw(order_seed, base + i) >> np.uint64(11)) % np.uint64(i + 1))
        out[i], out[j] = out[j], out[i]


@numba.njit(cache=True)
def epoch_orders(key0, key1, j, epochs, k):
    """The orders of epochs ``0 .. epochs-1`` of run ``j`` of a chunk, one row each."""
    out = np.empty((epochs, k), dtype=np.int64)
    seed = stream_seed(key0, key1, j)
    for e in range(epochs):
        epoch_order(seed, e, out[e])
    return out


@numba.njit(cache=True)
def _forward(params, sizes, bias, act, X, rows, nb, xin, pre, post):
    """Evaluate the network on inputs ``X[rows[:nb]]``.

    Fills ``xin[b]`` with the inputs, ``pre[layer, b]`` with every layer's
    pre-activations and ``post[layer, b]`` with the hidden layers'
    activations; the output of input b is ``pre[n_layers - 1, b, 0]``.
    """
    d = sizes[0]
    n_layers = sizes.shape[0] - 1
    for b in range(nb):
        for a in range(d):
            xin[b, a] = X[rows[b], a]
    off = 0
    for layer in range(n_layers):
        fan_in, fan_out = sizes[layer], sizes[layer + 1]
        b_off = off + fan_in * fan_out
        for b in range(nb):
            out = pre[layer, b]
            for j in range(fan_out):
                out[j] = params[b_off + j] if bias else 0.0
            for a in range(fan_in):
                x = xin[b, a] if layer == 0 else post[layer - 1, b, a]
                if x != 0.0:
                    w = off + a * fan_out
                    for j in range(fan_out):
                        out[j] += x * params[w + j]
            if layer < n_layers - 1:
                for j in range(fan_out):
                    post[layer, b, j] = value64(out[j], act)
        off = b_off + (fan_out if bias else 0)


@numba.njit(inline="always")
def _output_slope(o, y, loss, nb):
    """d(mean loss)/do for one input of a batch of ``nb``."""
    if loss == 0:
        if o >= 0.0:
            s = 1.0 / (1.0 + math.exp(-o))
        else:
            e = math.exp(o)
            s = e / (1.0 + e)
        return (s - y) / nb
    return 2.0 * (o - y) / nb


@numba.njit(inline="always")
def _loss_value(o, y, loss):
    if loss == 0:
        return max(o, 0.0) - y * o + math.log1p(math.exp(-abs(o)))
    return (o - y) * (o - y)


@numba.njit(inline="always")
def _dot(params, start, vector, n):
    """``sum_j params[start + j] * vector[j]`` over j < n, in four interleaved partial sums (for speed)."""
    t0 = t1 = t2 = t3 = 0.0
    j = 0
    while j + 4 <= n:
        t0 += params[start + j] * vector[j]
        t1 += params[start + j + 1] * vector[j + 1]
        t2 += params[start + j + 2] * vector[j + 2]
        t3 += params[start + j + 3] * vector[j + 3]
        j += 4
    while j < n:
        t0 += params[start + j] * vector[j]
        j += 1
    return (t0 + t1) + (t2 + t3)


@numba.njit(cache=True)
def _backward(params, sizes, bias, act, nb, xin, pre, post, delta, spare, grad):
    """Gradient of the batch loss into ``grad``, from ``delta[b, 0]`` = d(loss)/d(output b).

    ``pre``, ``post`` and ``xin`` are what :func:`_forward` left; ``delta``
    and ``spare`` are (batch, width) work arrays.  Units whose activation has
    slope 0 there (inactive relu units) pass no gradient back and are skipped.
    """
    n_layers = sizes.shape[0] - 1
    grad[:] = 0.0
    off = param_count(sizes, bias)
    for layer in range(n_layers - 1, -1, -1):
        fan_in, fan_out = sizes[layer], sizes[layer + 1]
        off -= fan_in * fan_out + (fan_out if bias else 0)
        b_off = off + fan_in * fan_out
        for b in range(nb):
            for a in range(fan_in):
                x = xin[b, a] if layer == 0 else post[layer - 1, b, a]
                if x != 0.0:
                    w = off + a * fan_out
                    for j in range(fan_out):
                        grad[w + j] += x * delta[b, j]
            if bias:
                for j in range(fan_out):
                    grad[b_off + j] += delta[b, j]
        if layer > 0:
            for b in range(nb):
                for a in range(fan_in):
                    slope = slope64(pre[layer - 1, b, a], post[layer - 1, b, a], act)
                    spare[b, a] = 0.0 if slope == 0.0 else _dot(params, off + a * fan_out, delta[b], fan_out) * slope
            delta, spare = spare, delta


@numba.njit(cache=True)
def _update(params, grad, first, second, step, optimizer, hyper):
    """One optimizer step (``step`` counted from 1) with momentum / moment buffers ``first``, ``second``."""
    lr, momentum = hyper[0], hyper[1]
    if optimizer == 0:
        for k in range(params.shape[0]):
            first[k] = momentum * first[k] + grad[k]
            params[k] -= lr * first[k]
    else:
        beta1, beta2, eps = hyper[2], hyper[3], hyper[4]
        fix1 = 1.0 - beta1 ** step
        fix2 = 1.0 - beta2 ** step
        for k in range(params.shape[0]):
            g = grad[k]
            first[k] = beta1 * first[k] + (1.0 - beta1) * g
            second[k] = beta2 * second[k] + (1.0 - beta2) * g * g
            params[k] -= lr * (first[k] / fix1) / (math.sqrt(second[k] / fix2) + eps)


@numba.njit(cache=True)
def _work(sizes, rows):
    """Work arrays for batches of up to ``rows`` inputs: xin, pre, post, delta, spare."""
    n_layers = sizes.shape[0] - 1
    width = 1
    for layer in range(1, sizes.shape[0]):
        width = max(width, sizes[layer])
    xin = np.empty((rows, sizes[0]), dtype=np.float64)
    pre = np.empty((n_layers, rows, width), dtype=np.float64)
    post = np.empty((n_layers, rows, width), dtype=np.float64)
    return xin, pre, post, np.empty((rows, width), dtype=np.float64), np.empty((rows, width), dtype=np.float64)


@numba.njit(cache=True)
def _step(params, grad, first, second, step, X, y, rows, nb, sizes, bias, act, loss, optimizer, hyper, work):
    """One optimizer step on the batch ``X[rows[:nb]]``."""
    xin, pre, post, delta, spare = work
    _forward(params, sizes, bias, act, X, rows, nb, xin, pre, post)
    top = sizes.shape[0] - 2
    for b in range(nb):
        delta[b, 0] = _output_slope(pre[top, b, 0], y[rows[b]], loss, nb)
    _backward(params, sizes, bias, act, nb, xin, pre, post, delta, spare, grad)
    _update(params, grad, first, second, step, optimizer, hyper)


@numba.njit(cache=True)
def _epoch(params, grad, first, second, step, X, y, order, batch_size, sizes, bias, act, loss, optimizer, hyper,
           work):
    """Train one epoch, visiting S in ``order``; return the step count after it."""
    k = order.shape[0]
    for lo in range(0, k, batch_size):
        step += 1
        _step(params, grad, first, second, step, X, y, order[lo:], min(batch_size, k - lo), sizes, bias, act, loss,
              optimizer, hyper, work)
    return step


@numba.njit(cache=True)
def _predictions(params, sizes, bias, act, loss, X, out, work):
    """``out[i]`` = 1 if the network predicts 1 on input i, 0 if 0, -1 if its output is not finite."""
    xin, pre, post, _, _ = work
    rows = np.arange(X.shape[0])
    top = sizes.shape[0] - 2
    threshold = 0.0 if loss == 0 else 0.5
    for lo in range(0, X.shape[0], xin.shape[0]):
        nb = min(xin.shape[0], X.shape[0] - lo)
        _forward(params, sizes, bias, act, X, rows[lo:], nb, xin, pre, post)
        for b in range(nb):
            o = pre[top, b, 0]
            out[lo + b] = 1 if o > threshold else (0 if o <= threshold else -1)


@numba.njit(cache=True)
def loss_and_gradient(params, X, y, sizes, bias, act, loss):
    """Mean loss over all rows of ``X`` (labels ``y``) and its gradient with respect to ``params``.

    Parameters
    ----------
    params : ndarray of float64, shape (P,)
    X : ndarray of float64, shape (K, d)
    y : ndarray of float64, shape (K,)
        0/1 labels.
    sizes : ndarray of int64
        Layer sizes (:func:`~pysimbias.kernels.network.layer_sizes`).
    bias : bool
    act, loss : int
        :data:`~pysimbias.kernels.network.ACTIVATIONS` and :data:`LOSSES` codes.

    Returns
    -------
    (float, ndarray of float64, shape (P,))
    """
    k = X.shape[0]
    work = _work(sizes, k)
    xin, pre, post, delta, spare = work
    rows = np.arange(k)
    _forward(params, sizes, bias, act, X, rows, k, xin, pre, post)
    top = sizes.shape[0] - 2
    total = 0.0
    for b in range(k):
        o = pre[top, b, 0]
        total += _loss_value(o, y[b], loss)
        delta[b, 0] = _output_slope(o, y[b], loss, k)
    grad = np.empty_like(params)
    _backward(params, sizes, bias, act, k, xin, pre, post, delta, spare, grad)
    return total / k, grad


@numba.njit(cache=True)
def train_steps(params, X, y, orders, batch_size, sizes, bias, act, loss, optimizer, hyper):
    """Train one network from ``params`` for ``len(orders)`` epochs; return the parameters after every step.

    Epoch e visits the rows of ``X`` in the order ``orders[e]``, in batches
    of ``batch_size``.  Row 0 of the result is ``params``; row s the
    parameters after step s.
    """
    k = X.shape[0]
    per_epoch = (k + batch_size - 1) // batch_size
    out = np.empty((orders.shape[0] * per_epoch + 1, params.shape[0]), dtype=np.float64)
    out[0] = params
    current = params.copy()
    grad = np.empty_like(current)
    first = np.zeros_like(current)
    second = np.zeros_like(current)
    work = _work(sizes, batch_size)
    step = 0
    for e in range(orders.shape[0]):
        order = orders[e]
        for lo in range(0, k, batch_size):
            step += 1
            _step(current, grad, first, second, step, X, y, order[lo:], min(batch_size, k - lo), sizes, bias, act,
                  loss, optimizer, hyper, work)
            out[step] = current
    return out


@numba.njit(cache=True, parallel=True, nogil=True)
def train_keys(key0, key1, start, count, XA, train_rows, y, sizes, bias, act, law, sigma_w, sigma_b, loss, optimizer,
               hyper, batch_size, max_epochs, epochs_after_fit):
    """Train runs ``start .. start+count-1`` of a chunk; return their packed functions and epochs to fit.

    Run j starts from the parameters that sample j of the chunk draws in
    :func:`~pysimbias.kernels.network.sample_keys`, and trains on the inputs
    ``XA[train_rows]`` with labels ``y`` (see the module docstring).

    Parameters
    ----------
    key0, key1 : uint64
        The chunk's key.
    start, count : int
    XA : ndarray of float64, shape (m, d)
        Every input, one per row.
    train_rows : ndarray of int64, shape (K,)
        The rows of S.
    y : ndarray of float64, shape (K,)
        The 0/1 labels of S.
    sizes, bias, act, law, sigma_w, sigma_b
        The network and its prior, as for ``sample_keys``.
    loss, optimizer : int
        :data:`LOSSES` and :data:`OPTIMIZERS` codes.
    hyper : ndarray of float64
        The values named by :data:`HYPER`.
    batch_size, max_epochs, epochs_after_fit : int

    Returns
    -------
    keys : ndarray of uint64, shape (count, W)
        The function of every run on all m inputs (zero for runs that did
        not fit).
    epochs : ndarray of int64, shape (count,)
        Epochs to fit, 0 for runs that did not fit.
    """
    m = XA.shape[0]
    k = train_rows.shape[0]
    keys = np.zeros((count, (m + 63) // 64), dtype=np.uint64)
    epochs = np.zeros(count, dtype=np.int64)
    scales = param_scales(sizes, bias, sigma_w, sigma_b)
    n_par = scales.shape[0]
    X = np.empty((k, XA.shape[1]), dtype=np.float64)
    for i in range(k):
        X[i] = XA[train_rows[i]]
    for r in numba.prange(count):
        seed = stream_seed(key0, key1, start + r)
        drawn = np.empty(n_par, dtype=np.float32)
        _draw_one(seed, law, scales, drawn, np.empty(normal_work_size(n_par), dtype=np.uint64))
        params = drawn.astype(np.float64)
        grad = np.empty(n_par, dtype=np.float64)
        first = np.zeros(n_par, dtype=np.float64)
        second = np.zeros(n_par, dtype=np.float64)
        work = _work(sizes, max(batch_size, _EVAL_ROWS))
        order = np.empty(k, dtype=np.int64)
        seen = np.empty(max(k, m), dtype=np.int64)
        step = 0
        fitted = 0
        for epoch in range(max_epochs):
            epoch_order(seed, epoch, order)
            step = _epoch(params, grad, first, second, step, X, y, order, batch_size, sizes, bias, act, loss,
                          optimizer, hyper, work)
            _predictions(params, sizes, bias, act, loss, X, seen[:k], work)
            right = True
            for i in range(k):
                if seen[i] != y[i]:
                    right = False
                    break
            if right:
                fitted = epoch + 1
                break
        if fitted == 0:
            continue
        for extra in range(epochs_after_fit):
            epoch_order(seed, fitted + extra, order)
            step = _epoch(params, grad, first, second, step, X, y, order, batch_size, sizes, bias, act, loss,
                          optimizer, hyper, work)
        _predictions(params, sizes, bias, act, loss, XA, seen[:m], work)
        finite = True
        for i in range(m):
            if seen[i] < 0:
                finite = False
            elif seen[i] == 1:
                keys[r, i >> 6] |= np.uint64(1) << np.uint64(i & 63)
        if finite:
            epochs[r] = fitted
        else:
            keys[r] = 0
    return keys, epochs
