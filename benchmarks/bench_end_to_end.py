"""End to end: the whole ``pysimbias sample`` process, plots included, against a plain NumPy script.

For the perceptron (n = 7, with bias) and the 7-40-40-1 ReLU network, each
round runs, in turn, the ``pysimbias sample`` command and a plain NumPy
script doing the same job (draw, forward pass, threshold, pack, count with
``np.unique``; :func:`bench_mlp.numpy_pipeline`), each in its own process,
and takes the wall time, CPU time and peak RSS of that process.  The
phases of our run come from its manifest (``compile_seconds`` and
``phase_seconds``: sampling, progress I/O, merge, measures, plots);
"other" is the rest of the process (start-up, imports, writing the
manifest).  The FP32 FMA peak and NumPy sgemm are measured in the same run
(:mod:`bench_machine`), and every target of issue 21 is printed as a ratio.

With ``--tree DIR`` (another checkout of pysimbias, e.g. ``git archive``
of an older commit, its kernels compiled once beforehand), each round also
runs that checkout's ``pysimbias sample`` with the same flags, and the two
are compared phase by phase and by CPU time: a before/after measured in
turns under the same load.

Run: ``python benchmarks/bench_end_to_end.py [--samples 1e8] [--mlp-samples 1e7] [--rounds 2] [--tree DIR]``
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_machine import arithmetic_line, machine_rates
from bench_mlp import flops_per_sample
from common import machine_line

ROOT = Path(__file__).resolve().parents[1]
NETWORKS = {"perceptron": ("perceptron", ()), "7-40-40-1": ("mlp", (40, 40))}
PHASES = ("sampling", "progress_io", "merge", "measures", "plots")


def run_process(command, cwd=ROOT):
    """Run ``command`` in ``cwd``; return its wall seconds, CPU seconds and peak RSS in GiB (of that process alone)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed with exit status {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 2**20


def ours(prior, samples, out, checkpoint_every, tree=ROOT):
    """The ``pysimbias sample`` process of checkout ``tree``, plots included; returns its timings and its manifest."""
    command = [sys.executable, "cli.py", "sample", "--prior", prior, "--n", "7", "--samples", str(samples),
               "--seed", "0", "--out", str(out), "--force", "--checkpoint-every", str(checkpoint_every)]
    timings = run_process(command, cwd=tree)
    manifest = json.loads((out / "manifest.json").read_text())
    shutil.rmtree(out)
    return timings, manifest


def numpy_script(widths, samples):
    """The plain NumPy process doing the same job (hidden layers ``widths``; none: the perceptron)."""
    code = (f"import sys; sys.path.insert(0, 'benchmarks'); from bench_mlp import numpy_pipeline; "
            f"numpy_pipeline(7, {widths!r}, {samples}, batch={1 << 16 if not widths else 2048})")
    return run_process([sys.executable, "-c", code])


def phase_line(manifest, wall):
    """The run's phases in seconds and as shares of the process's wall time."""
    phases = {"compile": manifest["compile_seconds"], **manifest["phase_seconds"]}
    phases["other"] = wall - sum(phases.values())
    return "  phases: " + ", ".join(f"{name} {seconds:.1f} s ({seconds / wall:.0%})" for name, seconds in phases.items())


def target(text, value, limit, at_least=True):
    """One target of the issue, as measured/required ratio."""
    met = value >= limit if at_least else value <= limit
    print(f"  target {text}: {value:,.3g} vs {'>=' if at_least else '<='} {limit:,.3g} "
          f"(ratio {value / limit:.2f}) {'met' if met else 'MISSED'}")


def compare_line(name, best, before):
    """This tree against the ``--tree`` checkout: wall and CPU ratios, and every phase of both."""
    (wall, cpu, _, manifest), (b_wall, b_cpu, b_rss, b_manifest) = best, before
    phases = ", ".join(f"{phase} {b_manifest['phase_seconds'][phase]:.1f} -> {manifest['phase_seconds'][phase]:.1f}"
                       for phase in PHASES)
    return (f"{name} against --tree (best rounds): {b_wall:.1f} -> {wall:.1f} s wall ({b_wall / wall:.2f}x), "
            f"{b_cpu:.1f} -> {cpu:.1f} s CPU ({b_cpu / cpu:.2f}x), its peak RSS {b_rss:.2f} GiB; phases (s): {phases}")


def bench(name, samples, numpy_samples, rounds, checkpoint_every, directory, tree=None):
    prior, widths = NETWORKS[name]
    best = before = None
    for round_ in range(rounds):  # the sides take turns, so a drifting machine load hits all of them
        (wall, cpu, rss), manifest = ours(prior, samples, directory / "run", checkpoint_every)
        n_wall, n_cpu, n_rss = numpy_script(widths, numpy_samples)
        print(f"{name} round {round_ + 1}: pysimbias sample {samples:,} in {wall:.1f} s wall, {cpu:.1f} s CPU, "
              f"peak RSS {rss:.2f} GiB | NumPy {numpy_samples:,} in {n_wall:.1f} s wall, {n_cpu:.1f} s CPU, "
              f"peak RSS {n_rss:.2f} GiB", flush=True)
        if best is None or wall < best[0]:
            best = wall, cpu, rss, manifest, n_wall, n_cpu, n_rss
        if tree is not None:
            (b_wall, b_cpu, b_rss), b_manifest = ours(prior, samples, directory / "run", checkpoint_every, tree)
            print(f"{name} round {round_ + 1}: --tree {tree}: {b_wall:.1f} s wall, {b_cpu:.1f} s CPU, peak RSS "
                  f"{b_rss:.2f} GiB; phases {b_manifest['phase_seconds']}", flush=True)
            if before is None or b_wall < before[0]:
                before = b_wall, b_cpu, b_rss, b_manifest
    wall, cpu, rss, manifest, n_wall, n_cpu, n_rss = best
    if before is not None:
        print(compare_line(name, (wall, cpu, rss, manifest), before))
    rate, n_rate = samples / wall, numpy_samples / n_wall
    print(f"{name}: {rate:,.0f} samples/s whole process ({manifest['distinct']:,} distinct) | NumPy "
          f"{n_rate:,.0f} samples/s | ratio {rate / n_rate:.2f}x wall, {(samples / cpu) / (numpy_samples / n_cpu):.2f}x "
          f"CPU time")
    print(phase_line(manifest, wall))
    progress = manifest["progress"]
    print(f"  progress: {progress['segments']} segment(s), {progress['written_bytes'] / 2**20:,.0f} MiB written "
          f"every {progress['checkpoint_every']:g} s")
    phases = manifest["phase_seconds"]
    if widths:
        flop = flops_per_sample(7, widths)
        print("  " + arithmetic_line(rate, flop))
        print("  sampling phase alone: " + arithmetic_line(samples / phases["sampling"], flop))
    return {"rate": rate, "numpy_rate": n_rate, "rss": rss, "wall": wall, "phases": phases, "samples": samples}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=float, default=1e7, help="perceptron samples (the issue: 1e8)")
    parser.add_argument("--mlp-samples", type=float, default=1e6, help="7-40-40-1 samples (the issue: 1e7, 1e8)")
    parser.add_argument("--numpy-fraction", type=float, default=0.1,
                        help="the NumPy script draws this share of the samples (it holds every key in memory)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--checkpoint-every", type=float, default=60)
    parser.add_argument("--only", choices=sorted(NETWORKS), default=None)
    parser.add_argument("--tree", type=Path, default=None,
                        help="another pysimbias checkout to run in turns with this one (before/after)")
    args = parser.parse_args()
    print(machine_line())
    print(f"load average before: {os.getloadavg()[0]:.1f}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    peak, sgemm = machine_rates()
    print(f"FP32 FMA peak {peak:,.1f} GFLOP/s, NumPy sgemm {sgemm:,.1f} GFLOP/s (measured now)")
    directory = Path(tempfile.mkdtemp(prefix="pysimbias-e2e-"))
    results = {}
    try:
        for name, samples in (("perceptron", args.samples), ("7-40-40-1", args.mlp_samples)):
            if args.only in (None, name):
                results[name] = bench(name, int(samples), max(1, int(samples * args.numpy_fraction)), args.rounds,
                                      args.checkpoint_every, directory, args.tree)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print("targets (issue 21; sizes as run here, the issue's are 1e8 perceptron, 1e7 and 1e8 7-40-40-1):")
    if "perceptron" in results:
        r = results["perceptron"]
        target("perceptron whole process / NumPy", r["rate"] / r["numpy_rate"], 5)
        target("perceptron peak RSS GiB", r["rss"], 4, at_least=False)
        target("perceptron progress I/O share of wall", r["phases"]["progress_io"] / r["wall"], 0.10, at_least=False)
    if "7-40-40-1" in results:
        r = results["7-40-40-1"]
        limit = sgemm * 1e9 / flops_per_sample(7, (40, 40))
        target("7-40-40-1 whole process / sgemm-derived limit", r["rate"] / limit, 0.65)
        target("7-40-40-1 whole process / NumPy", r["rate"] / r["numpy_rate"], 15)
        target("7-40-40-1 time beyond the sampling kernel, share of wall", 1 - r["phases"]["sampling"] / r["wall"],
               0.15, at_least=False)
        target("7-40-40-1 peak RSS GiB", r["rss"], 3, at_least=False)


if __name__ == "__main__":
    main()
