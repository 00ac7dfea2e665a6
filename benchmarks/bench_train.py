"""Networks trained per second in the literature's setting, against the float64 NumPy trainer of the tests.

7-40-40-1 ReLU, sigma_w = sigma_b = 1, inputs {0,1}^7, |S| = 32 inputs of the
target "0011" x 32, batch 8, SGD (lr 0.1), cross-entropy, trained to 100%
training accuracy (Mingard et al. 2021's Boolean system).  Both trainers
train the same first runs of chunk 0 from the same initial parameters and
batch orders, taking turns (:func:`common.best_times`); the Numba kernel then
trains a larger batch of runs alone for its throughput.

Run: ``python benchmarks/bench_train.py [--runs 2000] [--numpy-runs 16]``
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from common import best_times, machine_line, report
from pysimbias.kernels.network import draw_params
from pysimbias.kernels.rng import chunk_key
from pysimbias.kernels.training import epoch_orders
from pysimbias.run import prepare

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from reference_training import reference_train_run  # noqa: E402

TARGET = "0011" * 32
SETTING = dict(prior="mlp", n=7, widths=(40, 40), task="train", target=TARGET, train=32, optimizer="sgd", lr=0.1,
               batch_size=8, loss="ce", max_epochs=1000)


def numpy_runs(prior, key, runs):
    """Train runs ``0 .. runs-1`` of the chunk with the NumPy trainer; return their epochs to fit."""
    config = prior.config
    sizes = prior.sizes
    params = draw_params(key[0], key[1], 0, runs, sizes, True, 0, 1.0, 1.0)
    epochs = []
    for j in range(runs):
        orders = epoch_orders(key[0], key[1], j, config.max_epochs, prior.rows.shape[0])
        epochs.append(reference_train_run(params[j], prior.inputs, prior.rows, prior.labels, orders, sizes,
                                          True, "relu", "ce", "sgd", config.batch_size, config.max_epochs, 0,
                                          lr=config.lr)[1])
    return np.array(epochs)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000, help="runs for the Numba throughput")
    parser.add_argument("--numpy-runs", type=int, default=16, help="runs both trainers train, taking turns")
    args = parser.parse_args()
    print(machine_line())
    prior = prepare(samples=args.runs, **SETTING).prior
    key = chunk_key(0, 0)
    fast, slow = best_times([lambda: prior.train_chunk(key, args.numpy_runs),
                             lambda: numpy_runs(prior, key, args.numpy_runs)], repeat=2)
    fast_epochs = prior.train_chunk(key, args.numpy_runs)[1]
    slow_epochs = numpy_runs(prior, key, args.numpy_runs)
    print(f"same {args.numpy_runs} runs: epochs to fit {fast_epochs.tolist()} (Numba) "
          f"{'==' if np.array_equal(fast_epochs, slow_epochs) else '!='} NumPy")
    report("7-40-40-1 relu, |S|=32, batch 8, SGD, CE: Numba kernel", args.numpy_runs / fast, "networks/s",
           args.numpy_runs / slow, "NumPy float64 trainer")
    start = time.perf_counter()
    _, epochs = prior.train_chunk(key, args.runs)
    elapsed = time.perf_counter() - start
    rate = args.runs / elapsed
    print(f"Numba alone, {args.runs} runs: {rate:,.0f} networks/s ({epochs[epochs > 0].mean():.2f} epochs to fit on "
          f"average, fit rate {(epochs > 0).mean():.3f}); 10^5 networks in {1e5 / rate / 60:.1f} min")


if __name__ == "__main__":
    main()
