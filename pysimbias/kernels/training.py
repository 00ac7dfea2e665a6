"""Numba kernels: train many networks on a training set, each from a prior draw.

Pure array-in / array-out.  The networks and their flat parameter vectors
are those of :mod:`pysimbias.kernels.network`; run ``j`` of a chunk starts
from exactly the parameters that sample ``j`` of the same chunk draws there
(:func:`~pysimbias.kernels.network.draw_params`, with normal generator
version :data:`~pysimbias.kernels.rng.GENERATOR_VERSION`), converted
exactly to float64.

Runs are trained :data:`~pysimbias.kernels.lanes.LANES` (4) at a time, one
per lane of a float64 vector: parameters, optimizer state and activations
hold one value per run in their last axis, and the passes are written with
the explicit vector operations of :mod:`pysimbias.kernels.lanes`.  Each lane
keeps its own batch order and step count; a lane whose run is done takes
the next run of its block, so the lanes stay busy.  Every lane goes through
the same instructions, so a run's result does not depend on its lane, its
block, the other runs, or the thread count.

Arithmetic is float64 throughout: whether a run fits its training set, and
the sign of each output, are threshold decisions, so they are taken on
values that agree with the float64 reference trainer of the tests to about
1e-12 rather than float32's 1e-6.  Sums are taken with fused multiply-adds.

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

from . import prange_only
from .activations import slope64, value64
from .lanes import DOT_ROWS, LANES, lane_add, lane_adam, lane_copy, lane_dots, lane_mul, lane_sgd
from .network import _draw_one, param_count, param_scales
from .rng import _draw, mix64, normal_work_size, stream_seed

__all__ = ["LOSSES", "OPTIMIZERS", "HYPER", "activation_value_slope", "epoch_order", "epoch_orders",
           "loss_and_gradient", "train_steps", "train_keys"]

LOSSES = {"ce": 0, "mse": 1}
OPTIMIZERS = {"sgd": 0, "adam": 1}
#: Order of the float hyperparameters in the ``hyper`` array of the kernels.
HYPER = ("lr", "momentum", "beta1", "beta2", "eps")

_ORDER_SALT = np.uint64(0x6A09E667F3BCC909)
# Inputs evaluated at once when checking or recording a function.
_EVAL_ROWS = 64
# Runs per parallel work item (lanes idle at a block's end: about LANES / 2
# runs' time in 64).  Results never depend on it.
_BLOCK_RUNS = 64


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


@numba.njit(inline="always")
def activation_value_slope(act, z):
    """Value and derivative of hidden activation ``act`` at pre-activation ``z``; relu'(0) = 0.

    The trainer's only contact with the activations: the forward pass keeps
    the value and the slope of every hidden unit.
    """
    if act == 0:
        return (z, 1.0) if z > 0.0 else (0.0, 0.0)
    h = value64(z, act)
    return h, slope64(z, h, act)


@numba.njit(inline="always")
def _activate(act, values, slopes, first, count, shift):
    """``values[t], slopes[t - shift] = activation_value_slope(act, values[t])`` for ``first <= t < first + count``.

    Unsigned indices spare the negative-index checks, so that LLVM vectorizes
    the loop where the activation allows (relu).
    """
    shift = np.uint64(shift)
    for t in range(np.uint64(first), np.uint64(first + count)):
        values[t], slopes[t - shift] = activation_value_slope(act, values[t])


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


@numba.njit(cache=True)
def _forward(lp, sizes, bias, act, nb, post, slope):
    """Evaluate every lane's network on its inputs ``post[0, :nb, :d]``.

    ``lp`` holds one network per lane, shape (P, LANES); ``post`` is (layers
    + 1, rows, width, LANES).  Fills ``post[layer + 1, b, j]`` with the
    activations of the hidden layers and ``slope[layer, b, j]`` with their
    derivatives; the output of input b is ``post[n_layers, b, 0]`` (the last
    layer's pre-activation).
    """
    n_layers = sizes.shape[0] - 1
    rows, width = post.shape[1], post.shape[2]
    flat_post = post.reshape(-1)
    flat_slope = slope.reshape(-1)
    off = 0
    for layer in range(n_layers):
        fan_in, fan_out = sizes[layer], sizes[layer + 1]
        b_off = off + fan_in * fan_out
        in_row = layer * rows * width
        out_row = in_row + rows * width
        for b in range(nb):
            for j in range(fan_out):
                if bias:
                    lane_copy(post, out_row + b * width + j, lp, b_off + j)
                else:
                    post[layer + 1, b, j] = 0.0
        # post[layer + 1, b, j] += sum_a post[layer, b, a] W[a, j], in blocks of units j (or of inputs b,
        # when the layer has fewer units than a block).
        if fan_out >= DOT_ROWS:
            for b in range(nb):
                lane_dots(post, out_row + b * width, 1, post, in_row + b * width, 1, lp, off, 1, fan_out, fan_in,
                          fan_out)
        else:
            for j in range(fan_out):
                lane_dots(post, out_row + j, width, lp, off + j, fan_out, post, in_row, width, 1, fan_in, nb)
        if layer < n_layers - 1:
            for b in range(nb):
                first = (out_row + b * width) * LANES
                if act == 0:  # the same loop, compiled with the code a constant: vector code for relu
                    _activate(0, flat_post, flat_slope, first, fan_out * LANES, rows * width * LANES)
                else:
                    _activate(act, flat_post, flat_slope, first, fan_out * LANES, rows * width * LANES)
        off = b_off + (fan_out if bias else 0)


@numba.njit(cache=True)
def _backward(lp, sizes, bias, nb, post, slope, delta, spare, grad):
    """Gradient of every lane's batch loss into ``grad``, from ``delta[b, 0]`` = d(loss)/d(output b).

    ``post`` and ``slope`` are what :func:`_forward` left; ``delta`` and
    ``spare`` are (rows, width, LANES) work arrays.
    """
    n_layers = sizes.shape[0] - 1
    rows, width = post.shape[1], post.shape[2]
    grad[:] = 0.0
    off = param_count(sizes, bias)
    for layer in range(n_layers - 1, -1, -1):
        fan_in, fan_out = sizes[layer], sizes[layer + 1]
        off -= fan_in * fan_out + (fan_out if bias else 0)
        b_off = off + fan_in * fan_out
        # grad[off + a fan_out + j] += sum_b post[layer, b, a] delta[b, j], in blocks of units j (or of
        # inputs a, when the layer has fewer units than a block).
        if fan_out >= DOT_ROWS:
            for a in range(fan_in):
                lane_dots(grad, off + a * fan_out, 1, post, layer * rows * width + a, width, delta, 0, 1, width, nb,
                          fan_out)
        else:
            for j in range(fan_out):
                lane_dots(grad, off + j, fan_out, delta, j, width, post, layer * rows * width, 1, width, nb, fan_in)
        if bias:
            for b in range(nb):
                for j in range(fan_out):
                    lane_add(grad, b_off + j, delta, b * width + j)
        if layer > 0:
            for b in range(nb):
                # spare[b, a] = slope[layer - 1, b, a] sum_j W[a, j] delta[b, j]
                spare[b, :fan_in] = 0.0
                lane_dots(spare, b * width, 1, delta, b * width, 1, lp, off, fan_out, 1, fan_out, fan_in)
                for a in range(fan_in):
                    lane_mul(spare, b * width + a, slope, ((layer - 1) * rows + b) * width + a)
            delta, spare = spare, delta


@numba.njit(cache=True)
def _update(lp, grad, first, second, steps, optimizer, hyper, fix):
    """One optimizer step of every lane (lane l at its step ``steps[l]``, counted from 1).

    ``first`` and ``second`` are the momentum / moment buffers; ``fix`` a
    (2, LANES) work array for Adam's bias corrections.
    """
    lr, momentum = hyper[0], hyper[1]
    if optimizer == 0:
        for k in range(lp.shape[0]):
            lane_sgd(lp, first, grad, k, lr, momentum)
    else:
        beta1, beta2, eps = hyper[2], hyper[3], hyper[4]
        for lane in range(LANES):
            fix[0, lane] = 1.0 - beta1 ** steps[lane]
            fix[1, lane] = 1.0 - beta2 ** steps[lane]
        for k in range(lp.shape[0]):
            lane_adam(lp, first, second, grad, k, fix, lr, beta1, beta2, eps)


@numba.njit(cache=True)
def _work(sizes, rows):
    """Work arrays for up to ``rows`` inputs per lane: post, slope, delta, spare, labels, fix."""
    n_layers = sizes.shape[0] - 1
    width = 1
    for layer in range(sizes.shape[0]):
        width = max(width, sizes[layer])
    return (np.zeros((n_layers + 1, rows, width, LANES), dtype=np.float64),
            np.zeros((n_layers, rows, width, LANES), dtype=np.float64),
            np.zeros((rows, width, LANES), dtype=np.float64),
            np.zeros((rows, width, LANES), dtype=np.float64),
            np.zeros((rows, LANES), dtype=np.float64),
            np.zeros((2, LANES), dtype=np.float64))


@numba.njit(cache=True)
def _step(lp, grad, first, second, steps, X, y, orders, lo, nb, sizes, bias, act, loss, optimizer, hyper, work):
    """One optimizer step of every lane, lane l on the batch ``X[orders[l, lo:lo + nb]]``."""
    post, slope, delta, spare, labels, fix = work
    for b in range(nb):
        for lane in range(LANES):
            row = orders[lane, lo + b]
            labels[b, lane] = y[row]
            for a in range(X.shape[1]):
                post[0, b, a, lane] = X[row, a]
    _forward(lp, sizes, bias, act, nb, post, slope)
    top = sizes.shape[0] - 1
    for b in range(nb):
        for lane in range(LANES):
            delta[b, 0, lane] = _output_slope(post[top, b, 0, lane], labels[b, lane], loss, nb)
    _backward(lp, sizes, bias, nb, post, slope, delta, spare, grad)
    _update(lp, grad, first, second, steps, optimizer, hyper, fix)


@numba.njit(cache=True)
def _epoch(lp, grad, first, second, steps, X, y, orders, batch_size, sizes, bias, act, loss, optimizer, hyper,
           work):
    """Train every lane one epoch, lane l visiting the rows of ``X`` in the order ``orders[l]``."""
    k = orders.shape[1]
    for lo in range(0, k, batch_size):
        for lane in range(LANES):
            steps[lane] += 1
        _step(lp, grad, first, second, steps, X, y, orders, lo, min(batch_size, k - lo), sizes, bias, act, loss,
              optimizer, hyper, work)


@numba.njit(cache=True)
def _predictions(lp, sizes, bias, act, loss, X, out, work):
    """``out[i, l]`` = 1 if lane l's network predicts 1 on input i, 0 if 0, -1 if its output is not finite."""
    post, slope, _, _, _, _ = work
    top = sizes.shape[0] - 1
    threshold = 0.0 if loss == 0 else 0.5
    for lo in range(0, X.shape[0], post.shape[1]):
        nb = min(post.shape[1], X.shape[0] - lo)
        for b in range(nb):
            for a in range(X.shape[1]):
                for lane in range(LANES):
                    post[0, b, a, lane] = X[lo + b, a]
        _forward(lp, sizes, bias, act, nb, post, slope)
        for b in range(nb):
            for lane in range(LANES):
                o = post[top, b, 0, lane]
                out[lo + b, lane] = 1 if o > threshold else (0 if o <= threshold else -1)


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
    post, slope, delta, spare, _, _ = _work(sizes, k)
    lp = np.empty((params.shape[0], LANES), dtype=np.float64)
    for lane in range(LANES):
        lp[:, lane] = params
        for b in range(k):
            post[0, b, :X.shape[1], lane] = X[b]
    _forward(lp, sizes, bias, act, k, post, slope)
    top = sizes.shape[0] - 1
    total = 0.0
    for b in range(k):
        o = post[top, b, 0, 0]
        total += _loss_value(o, y[b], loss)
        for lane in range(LANES):
            delta[b, 0, lane] = _output_slope(o, y[b], loss, k)
    grad = np.empty_like(lp)
    _backward(lp, sizes, bias, k, post, slope, delta, spare, grad)
    return total / k, grad[:, 0].copy()


@numba.njit(cache=True)
def train_steps(params, X, y, orders, batch_size, sizes, bias, act, loss, optimizer, hyper):
    """Train one network from ``params`` for ``len(orders)`` epochs; return the parameters after every step.

    Epoch e visits the rows of ``X`` in the order ``orders[e]``, in batches
    of ``batch_size``.  Row 0 of the result is ``params``; row s the
    parameters after step s.  Every lane trains the same network; the
    result is lane 0's.
    """
    k = X.shape[0]
    per_epoch = (k + batch_size - 1) // batch_size
    n_par = params.shape[0]
    out = np.empty((orders.shape[0] * per_epoch + 1, n_par), dtype=np.float64)
    out[0] = params
    lp = np.empty((n_par, LANES), dtype=np.float64)
    for lane in range(LANES):
        lp[:, lane] = params
    grad = np.empty_like(lp)
    first = np.zeros_like(lp)
    second = np.zeros_like(lp)
    steps = np.zeros(LANES, dtype=np.int64)
    lane_orders = np.empty((LANES, k), dtype=np.int64)
    work = _work(sizes, min(batch_size, k))
    for e in range(orders.shape[0]):
        for lane in range(LANES):
            lane_orders[lane] = orders[e]
        for lo in range(0, k, batch_size):
            for lane in range(LANES):
                steps[lane] += 1
            _step(lp, grad, first, second, steps, X, y, lane_orders, lo, min(batch_size, k - lo), sizes, bias, act,
                  loss, optimizer, hyper, work)
            out[steps[0]] = lp[:, 0]
    return out


@numba.njit(cache=True)
def _load_lane(lp, first, second, lane, seed, law, scales, drawn, draw_work):
    """Put the prior draw of the run with stream ``seed`` into ``lane``, with fresh optimizer buffers."""
    _draw_one(seed, law, scales, drawn, draw_work)
    for k in range(lp.shape[0]):
        lp[k, lane] = drawn[k]
        first[k, lane] = 0.0
        second[k, lane] = 0.0


@numba.njit(cache=True)
def _record(done, done_runs, done_fits, n_done, XA, sizes, bias, act, loss, seen, work, keys, epochs):
    """Pack the functions on all rows of ``XA`` of the fitted runs in lanes ``0 .. n_done-1`` of ``done``."""
    m = XA.shape[0]
    _predictions(done, sizes, bias, act, loss, XA, seen[:m], work)
    for lane in range(n_done):
        r = done_runs[lane]
        finite = True
        for i in range(m):
            if seen[i, lane] < 0:
                finite = False
            elif seen[i, lane] == 1:
                keys[r, i >> 6] |= np.uint64(1) << np.uint64(i & 63)
        if finite:
            epochs[r] = done_fits[lane]
        else:
            keys[r] = 0


@numba.njit(cache=True)
def _train_block(key0, key1, start, first_run, end_run, XA, X, y, sizes, bias, act, law, scales, loss, optimizer,
                 hyper, batch_size, max_epochs, epochs_after_fit, keys, epochs):
    """Train runs ``first_run .. end_run-1`` (of the chunk: ``start + r``), :data:`LANES` at a time.

    Each lane trains one run; when its run is done the lane takes the next
    one, so lanes run at different epochs of their runs, each on its own
    batch order and step count.  The parameters of runs that fitted wait in
    ``done`` until :data:`LANES` of them have gathered, and are evaluated on
    all m inputs together.  Lanes left without a run at the end train zeros
    until every run is done.
    """
    k = X.shape[0]
    n_par = scales.shape[0]
    lp = np.zeros((n_par, LANES), dtype=np.float64)
    grad = np.empty_like(lp)
    first = np.zeros_like(lp)
    second = np.zeros_like(lp)
    done = np.zeros_like(lp)
    done_runs = np.zeros(LANES, dtype=np.int64)
    done_fits = np.zeros(LANES, dtype=np.int64)
    n_done = 0
    runs = np.full(LANES, -1, dtype=np.int64)
    seeds = np.zeros(LANES, dtype=np.uint64)
    trained = np.zeros(LANES, dtype=np.int64)  # epochs trained
    fitted = np.zeros(LANES, dtype=np.int64)
    steps = np.zeros(LANES, dtype=np.int64)
    orders = np.empty((LANES, k), dtype=np.int64)
    for lane in range(LANES):
        orders[lane] = np.arange(k)
    drawn = np.empty(n_par, dtype=np.float32)
    draw_work = np.empty(normal_work_size(n_par), dtype=np.uint64)
    work = _work(sizes, max(min(batch_size, k), _EVAL_ROWS))
    seen = np.empty((max(k, XA.shape[0]), LANES), dtype=np.int64)
    next_run = first_run
    active = 0
    for lane in range(LANES):
        if next_run < end_run:
            runs[lane] = next_run
            seeds[lane] = stream_seed(key0, key1, start + next_run)
            _load_lane(lp, first, second, lane, seeds[lane], law, scales, drawn, draw_work)
            next_run += 1
            active += 1
    while active > 0:
        for lane in range(LANES):
            if runs[lane] >= 0:
                epoch_order(seeds[lane], trained[lane], orders[lane])
        _epoch(lp, grad, first, second, steps, X, y, orders, batch_size, sizes, bias, act, loss, optimizer, hyper,
               work)
        checking = False
        for lane in range(LANES):
            if runs[lane] >= 0:
                trained[lane] += 1
                checking |= fitted[lane] == 0
        if checking:
            _predictions(lp, sizes, bias, act, loss, X, seen[:k], work)
            for lane in range(LANES):
                if runs[lane] >= 0 and fitted[lane] == 0:
                    right = True
                    for i in range(k):
                        if seen[i, lane] != y[i]:
                            right = False
                            break
                    if right:
                        fitted[lane] = trained[lane]
        for lane in range(LANES):
            if runs[lane] < 0:
                continue
            if fitted[lane] > 0:
                if trained[lane] < fitted[lane] + epochs_after_fit:
                    continue
                done[:, n_done] = lp[:, lane]
                done_runs[n_done] = runs[lane]
                done_fits[n_done] = fitted[lane]
                n_done += 1
                if n_done == LANES:
                    _record(done, done_runs, done_fits, n_done, XA, sizes, bias, act, loss, seen, work, keys,
                            epochs)
                    n_done = 0
            elif trained[lane] < max_epochs:
                continue
            trained[lane] = fitted[lane] = steps[lane] = 0
            if next_run < end_run:
                runs[lane] = next_run
                seeds[lane] = stream_seed(key0, key1, start + next_run)
                _load_lane(lp, first, second, lane, seeds[lane], law, scales, drawn, draw_work)
                next_run += 1
            else:
                runs[lane] = -1
                lp[:, lane] = 0.0
                active -= 1
    if n_done > 0:
        _record(done, done_runs, done_fits, n_done, XA, sizes, bias, act, loss, seen, work, keys, epochs)


@numba.njit(cache=True, parallel=prange_only(), nogil=True)
def train_keys(key0, key1, start, count, XA, train_rows, y, sizes, bias, act, law, sigma_w, sigma_b, loss, optimizer,
               hyper, batch_size, max_epochs, epochs_after_fit):
    """Train runs ``start .. start+count-1`` of a chunk; return their packed functions and epochs to fit.

    Run j starts from the parameters that sample j of the chunk draws in
    :func:`~pysimbias.kernels.network.sample_keys`, and trains on the inputs
    ``XA[train_rows]`` with labels ``y`` (see the module docstring).  The
    runs are cut into blocks, one per parallel work item, and each block
    trains :data:`LANES` runs at a time; neither changes any run's result.

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
    keys = np.zeros((count, (XA.shape[0] + 63) // 64), dtype=np.uint64)
    epochs = np.zeros(count, dtype=np.int64)
    scales = param_scales(sizes, bias, sigma_w, sigma_b)
    X = np.empty((train_rows.shape[0], XA.shape[1]), dtype=np.float64)
    for i in range(train_rows.shape[0]):
        X[i] = XA[train_rows[i]]
    for block in numba.prange((count + _BLOCK_RUNS - 1) // _BLOCK_RUNS):
        first_run = block * _BLOCK_RUNS
        _train_block(key0, key1, start, first_run, min(count, first_run + _BLOCK_RUNS), XA, X, y, sizes, bias, act,
                     law, scales, loss, optimizer, hyper, batch_size, max_epochs, epochs_after_fit, keys, epochs)
    return keys, epochs
