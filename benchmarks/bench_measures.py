"""lz76 + K_LZ of 128-bit functions, batched, against antropy (one call per string).

Run: ``python benchmarks/bench_measures.py [--functions N]``
"""

import argparse

import numpy as np

from common import best_time, machine_line, report
from pysimbias.bits import keys_to_text
from pysimbias.measures import MeasureContext, compute_measures
from pysimbias.rng import chunk_key, sample_random_keys


def antropy_klz(texts, m):
    """K_LZ from antropy's lz76, one Python call per string and direction."""
    import antropy

    out = np.empty(len(texts))
    for r, s in enumerate(texts):
        forward = antropy.lziv_complexity(s, normalize=False)
        backward = antropy.lziv_complexity(s[::-1], normalize=False)
        out[r] = np.log2(m) * (forward + backward) / 2
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--functions", type=float, default=1e6)
    parser.add_argument("--antropy-functions", type=float, default=2e4)
    args = parser.parse_args()
    print(machine_line())
    m = 128
    key = chunk_key(0, 0)
    keys = sample_random_keys(key[0], key[1], 0, int(args.functions), np.int64(m))
    context = MeasureContext(m=m, n=7)
    ours = keys.shape[0] / best_time(lambda: compute_measures(keys, context, ["lz76", "klz"]))
    texts = keys_to_text(keys[: int(args.antropy_functions)], m).astype(str)
    theirs = len(texts) / best_time(lambda: antropy_klz(texts, m), repeat=1)
    report("lz76 + K_LZ, 128-bit functions", ours, "functions/s", theirs, "antropy per string")


if __name__ == "__main__":
    main()
