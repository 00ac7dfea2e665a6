"""The training kernels against finite differences, the NumPy trainer and Adam's published formula.

Tolerances: gradients agree with central differences (h = 1e-6, float64) to
1e-6 relative; the kernels and the NumPy reference trainer compute the same
float64 quantities in different summation orders (and the kernels fuse
multiply-adds), so their parameters agree after every step to 1e-9
(relative to 1 + |p|).
"""

import numba
import numpy as np
import pytest

from pysimbias.kernels.network import ACTIVATIONS, draw_params, layer_sizes, param_count, sample_keys
from pysimbias.kernels.rng import chunk_key
from pysimbias.kernels.training import (HYPER, LOSSES, OPTIMIZERS, epoch_order, epoch_orders, loss_and_gradient,
                                        train_keys, train_steps)
from reference import binary_inputs, reference_forward, reference_pack
from reference_training import ReferenceTrainer, reference_loss_gradient, reference_train_run

STEP_TOLERANCE = 1e-9
N = 7
XA = binary_inputs(N)
TARGET = np.array([int(c) for c in "0011" * 32], dtype=np.float64)
ROWS = np.sort(np.random.default_rng(5).choice(1 << N, 32, replace=False)).astype(np.int64)


def _hyper(lr, momentum=0.0, beta1=0.9, beta2=0.999, eps=1e-8):
    values = dict(lr=lr, momentum=momentum, beta1=beta1, beta2=beta2, eps=eps)
    return np.array([values[name] for name in HYPER], dtype=np.float64)


def _random_params(sizes, bias, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 0.8, param_count(sizes, bias))


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("bias", [True, False])
def test_gradient_matches_central_differences(activation, loss, bias):
    sizes = layer_sizes(4, (5, 3))
    rng = np.random.default_rng(11)
    X = rng.normal(size=(6, 4))
    y = rng.integers(0, 2, 6).astype(np.float64)
    params = _random_params(sizes, bias, 3)
    value, grad = loss_and_gradient(params, X, y, sizes, bias, ACTIVATIONS[activation], LOSSES[loss])
    h = 1e-6
    numeric = np.empty_like(params)
    for k in range(params.shape[0]):
        up, down = params.copy(), params.copy()
        up[k] += h
        down[k] -= h
        numeric[k] = (loss_and_gradient(up, X, y, sizes, bias, ACTIVATIONS[activation], LOSSES[loss])[0]
                      - loss_and_gradient(down, X, y, sizes, bias, ACTIVATIONS[activation], LOSSES[loss])[0]) / (2 * h)
    assert np.allclose(grad, numeric, rtol=1e-6, atol=1e-8)
    ref_value, ref_grad = reference_loss_gradient(params, X, y, sizes, bias, activation, loss)
    assert value == pytest.approx(ref_value, rel=1e-12)
    assert np.allclose(grad, ref_grad, rtol=1e-10, atol=1e-14)


def test_cross_entropy_is_stable_for_large_outputs():
    sizes = layer_sizes(1, (1,))
    params = np.array([1.0, 0.0, 1000.0, 0.0])  # linear: o = 1000 x
    X = np.array([[1.0], [-1.0]])
    value, grad = loss_and_gradient(params, X, np.array([0.0, 1.0]), sizes, True, ACTIVATIONS["linear"], LOSSES["ce"])
    assert value == pytest.approx(1000.0)
    assert np.isfinite(grad).all()


def _check_trajectory(sizes, bias, activation, loss, optimizer, hyper_values, batch_size, epochs, seed):
    X, y = XA[ROWS], TARGET[ROWS]
    params = _random_params(sizes, bias, seed)
    orders = np.array([np.random.default_rng(seed + e).permutation(ROWS.shape[0]) for e in range(epochs)])
    steps = train_steps(params, X, y, orders, batch_size, sizes, bias, ACTIVATIONS[activation], LOSSES[loss],
                        OPTIMIZERS[optimizer], _hyper(**hyper_values))
    trainer = ReferenceTrainer(params, sizes, bias, activation, loss, optimizer, **hyper_values)
    expected = [params]
    for order in orders:
        expected += trainer.epoch(X, y, order, batch_size)
    assert steps.shape == (len(expected), params.shape[0])
    for s, (got, want) in enumerate(zip(steps, expected)):
        assert np.all(np.abs(got - want) <= STEP_TOLERANCE * (1 + np.abs(want))), f"step {s}"
    assert np.abs(steps[-1] - params).max() > 1e-3  # it did train


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("optimizer,hyper_values", [("sgd", {"lr": 0.05}), ("sgd", {"lr": 0.02, "momentum": 0.9}),
                                                    ("adam", {"lr": 0.01})])
def test_training_steps_match_the_numpy_trainer(activation, loss, optimizer, hyper_values):
    _check_trajectory(layer_sizes(N, (6, 5)), True, activation, loss, optimizer, hyper_values, 5, 3, 7)


def test_literature_network_steps_match_the_numpy_trainer():
    _check_trajectory(layer_sizes(N, (40, 40)), True, "relu", "ce", "sgd", {"lr": 0.1}, 8, 4, 1)
    _check_trajectory(layer_sizes(N, (40, 40)), False, "tanh", "mse", "adam", {"lr": 0.001, "beta1": 0.8}, 8, 2, 2)


def test_adam_follows_kingma_and_ba():
    """Algorithm 1 of Kingma & Ba (2015), written out here on the gradients of the visited parameters."""
    sizes = layer_sizes(N, (4,))
    X, y = XA[ROWS], TARGET[ROWS]
    params = _random_params(sizes, True, 9)
    alpha, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    orders = np.arange(32)[None, :].repeat(2, axis=0)
    steps = train_steps(params, X, y, orders, 32, sizes, True, ACTIVATIONS["relu"], LOSSES["ce"], OPTIMIZERS["adam"],
                        _hyper(alpha, beta1=beta1, beta2=beta2, eps=eps))
    theta, m, v = params.copy(), np.zeros_like(params), np.zeros_like(params)
    for t in (1, 2):
        g = reference_loss_gradient(theta, X, y, sizes, True, "relu", "ce")[1]
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        theta = theta - alpha * m_hat / (np.sqrt(v_hat) + eps)
        assert np.allclose(steps[t], theta, rtol=1e-12, atol=1e-12)
    # The first step moves every parameter with a gradient by alpha g / (|g| + eps): about alpha.
    g1 = reference_loss_gradient(params, X, y, sizes, True, "relu", "ce")[1]
    assert np.allclose(params - steps[1], alpha * g1 / (np.abs(g1) + eps), rtol=1e-10, atol=1e-15)


def test_epoch_orders_are_permutations_from_the_run_stream():
    key0, key1 = chunk_key(3, 1)
    orders = epoch_orders(key0, key1, 5, 4, 32)
    for order in orders:
        assert sorted(order) == list(range(32))
    assert len({tuple(order) for order in orders}) == 4
    assert np.array_equal(orders, epoch_orders(key0, key1, 5, 4, 32))
    assert not np.array_equal(orders, epoch_orders(key0, key1, 6, 4, 32))
    single = np.empty(1, dtype=np.int64)
    epoch_order(np.uint64(7), 0, single)
    assert single[0] == 0


def _train(key, start, count, sizes, rows, y, activation="relu", loss="ce", optimizer="sgd", lr=0.1, momentum=0.0,
           batch_size=8, max_epochs=200, epochs_after_fit=0, bias=True):
    return train_keys(key[0], key[1], start, count, XA, rows, np.asarray(y, dtype=np.float64), sizes, bias,
                      ACTIVATIONS[activation], 0, 1.0, 1.0, LOSSES[loss], OPTIMIZERS[optimizer],
                      _hyper(lr, momentum), batch_size, max_epochs, epochs_after_fit)


@pytest.mark.parametrize("loss", list(LOSSES))
def test_untrained_run_starts_from_the_prior_draw(loss):
    """With lr = 0 a run keeps its initial parameters: labelled by its own function, it fits after one epoch."""
    sizes = layer_sizes(N, (40, 40))
    key = chunk_key(4, 2)
    threshold = 0.0 if loss == "ce" else 0.5
    drawn = draw_params(key[0], key[1], 0, 4, sizes, True, 0, 1.0, 1.0)
    prior_keys = sample_keys(key[0], key[1], 0, 4, np.ascontiguousarray(XA.T, dtype=np.float32), sizes, True, 0, 0,
                             1.0, 1.0)
    for j in range(4):
        bits = reference_forward(drawn[j], XA, (40, 40), True, "relu") > threshold
        keys, epochs = _train(key, j, 1, sizes, ROWS, bits[ROWS], loss=loss, lr=0.0, max_epochs=1)
        assert epochs[0] == 1
        assert keys[0].tolist() == reference_pack(bits)
        if loss == "ce":
            assert np.array_equal(keys[0], prior_keys[j])


@pytest.mark.parametrize("optimizer,lr,momentum,batch_size,after,activation,loss", [
    ("sgd", 0.1, 0.0, 8, 0, "relu", "ce"),
    ("sgd", 0.05, 0.9, 5, 2, "tanh", "mse"),
    ("adam", 0.01, 0.0, 1, 1, "linear", "ce"),
])
def test_whole_runs_match_the_numpy_trainer(optimizer, lr, momentum, batch_size, after, activation, loss):
    sizes = layer_sizes(N, (40, 40))
    key = chunk_key(8, 0)
    count, max_epochs = 4, 60
    y = TARGET[ROWS]
    keys, epochs = _train(key, 0, count, sizes, ROWS, y, activation, loss, optimizer, lr, momentum, batch_size,
                          max_epochs, after)
    drawn = draw_params(key[0], key[1], 0, count, sizes, True, 0, 1.0, 1.0)
    for j in range(count):
        orders = epoch_orders(key[0], key[1], j, max_epochs + after, ROWS.shape[0])
        bits, fitted = reference_train_run(drawn[j], XA, ROWS, y, orders, sizes, True, activation, loss, optimizer,
                                           batch_size, max_epochs, after, lr=lr, momentum=momentum)
        assert epochs[j] == fitted
        if fitted:
            assert keys[j].tolist() == reference_pack(bits)
            assert np.array_equal(bits[ROWS], y) or after
        else:
            assert not keys[j].any()
    assert epochs.max() > 0


def test_runs_that_never_fit_report_zero_epochs():
    sizes = layer_sizes(N, (40, 40))
    key = chunk_key(1, 0)
    _, few = _train(key, 0, 6, sizes, ROWS, TARGET[ROWS], lr=0.01, max_epochs=1)
    assert (few == 0).any()
    keys, diverged = _train(key, 0, 3, sizes, ROWS, TARGET[ROWS], lr=1e300, max_epochs=3)
    assert not diverged.any() and not keys.any()


def test_results_do_not_depend_on_the_thread_count():
    sizes = layer_sizes(N, (40, 40))
    key = chunk_key(2, 3)
    previous = numba.get_num_threads()
    try:
        results = []
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            results.append(_train(key, 10, 150, sizes, ROWS, TARGET[ROWS], optimizer="adam", lr=0.01))
    finally:
        numba.set_num_threads(previous)
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])
    assert results[0][1].min() > 0


@pytest.mark.parametrize("epochs_after_fit", [0, 3])
def test_runs_do_not_depend_on_how_the_chunk_is_cut(epochs_after_fit):
    """Cut differently, runs share their vector lanes and blocks with other runs: their results stay the same."""
    sizes = layer_sizes(N, (40, 40))
    key = chunk_key(6, 1)
    whole = _train(key, 0, 150, sizes, ROWS, TARGET[ROWS], max_epochs=12, epochs_after_fit=epochs_after_fit)
    cuts = [0, 1, 38, 103, 150]
    parts = [_train(key, lo, hi - lo, sizes, ROWS, TARGET[ROWS], max_epochs=12, epochs_after_fit=epochs_after_fit)
             for lo, hi in zip(cuts[:-1], cuts[1:])]
    assert np.array_equal(whole[0], np.concatenate([keys for keys, _ in parts]))
    assert np.array_equal(whole[1], np.concatenate([epochs for _, epochs in parts]))
    assert 0 < (whole[1] == 0).sum() < 150  # some runs fit within 12 epochs, some do not
