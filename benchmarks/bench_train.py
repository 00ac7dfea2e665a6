"""Networks trained per second in the literature's setting, against the float64 NumPy trainer of the tests.

7-40-40-1 ReLU, sigma_w = sigma_b = 1, inputs {0,1}^7, |S| = 32 inputs of the
target "0011" x 32, batch 8, SGD (lr 0.1), cross-entropy, trained to 100%
training accuracy (Mingard et al. 2021's Boolean system).  Both trainers
train the same first runs of chunk 0 from the same initial parameters and
batch orders, taking turns (:func:`common.best_times`), timed once in wall
time and once in this process's CPU time (which other jobs on a shared
machine disturb less), with BLAS limited to one thread; the Numba kernel
then trains a larger batch of runs alone for its throughput.

Run: ``python benchmarks/bench_train.py [--runs 4000] [--numpy-runs 128]``
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from common import best_times, cpu_time, machine_line, report
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
    parser.add_argument("--runs", type=int, default=4000, help="runs for the Numba throughput")
    parser.add_argument("--numpy-runs", type=int, default=128,
                        help="runs both trainers train, taking turns (two blocks of 64 keep both threads busy)")
    args = parser.parse_args()
    print(machine_line())
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    prior = prepare(samples=args.runs, **SETTING).prior
    key = chunk_key(0, 0)
    trainers = [lambda: prior.train_chunk(key, args.numpy_runs), lambda: numpy_runs(prior, key, args.numpy_runs)]
    fast_epochs = prior.train_chunk(key, args.numpy_runs)[1]
    slow_epochs = numpy_runs(prior, key, args.numpy_runs)
    print(f"same {args.numpy_runs} runs: epochs to fit {fast_epochs.tolist()} (Numba) "
          f"{'==' if np.array_equal(fast_epochs, slow_epochs) else '!='} NumPy")
    name = "7-40-40-1 relu, |S|=32, batch 8, SGD, CE: Numba kernel"
    fast, slow = best_times(trainers, repeat=2)
    report(f"{name} (wall)", args.numpy_runs / fast, "networks/s", args.numpy_runs / slow, "NumPy float64 trainer")
    fast, slow = best_times(trainers, repeat=2, clock=cpu_time)
    report(f"{name} (CPU time)", args.numpy_runs / fast, "networks per CPU-second", args.numpy_runs / slow,
           "NumPy float64 trainer")
    wall, cpu = time.perf_counter(), cpu_time()
    _, epochs = prior.train_chunk(key, args.runs)
    wall, cpu = time.perf_counter() - wall, cpu_time() - cpu
    rate = args.runs / wall
    print(f"Numba alone, {args.runs} runs: {rate:,.0f} networks/s, {args.runs / cpu:,.0f} networks per CPU-second "
          f"({epochs[epochs > 0].mean():.2f} epochs to fit on average, fit rate {(epochs > 0).mean():.3f}); "
          f"10^5 networks in {1e5 / rate / 60:.1f} min")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    # The NumPy trainer's matrices (8 x 40) are far too small for BLAS threads,
    # whose busy-waiting between calls would only take CPU from the Numba kernel.
    with threadpool_limits(limits=1, user_api="blas"):
        main()
