"""The sop measure against brute force; the Walsh spectrum by degree against the counting measure and walsh_degree."""

import functools
import itertools
import math

import numpy as np
import pytest

import pysimbias
from pysimbias import InvalidParameterError
from pysimbias.inputs.encodings import make_encoding
from pysimbias.kernels.bits import pack_bits
from pysimbias.measures import MeasureContext, compute_measures, run_measures
from pysimbias.measures.walsh import counting_walsh_spectrum, walsh_spectrum


def brute_force_sop(bits, n):
    """Fewest literals of any DNF of f: some cube inside the on-set covers its lowest uncovered point."""
    m = 1 << n
    onset = sum(1 << i for i, b in enumerate(bits) if b)
    implicants = []
    for cube in itertools.product((0, 1, None), repeat=n):
        mask = sum(1 << i for i in range(m)
                   if all(c is None or c == (i >> (n - 1 - j)) & 1 for j, c in enumerate(cube)))
        if mask & ~onset == 0:
            implicants.append((mask, sum(c is not None for c in cube)))

    @functools.lru_cache(maxsize=None)
    def cost(left):
        if left == 0:
            return 0
        lowest = left & -left
        return min(literals + cost(left & ~mask) for mask, literals in implicants if mask & lowest)

    return cost(onset)


def _all_functions(n):
    m = 1 << n
    return np.array([[(f >> i) & 1 for i in range(m)] for f in range(1 << m)], dtype=bool)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_sop_is_minimal_for_every_function_of_up_to_three_bits(n):
    bits = _all_functions(n)
    context = MeasureContext.for_encoding(make_encoding("binary", n))
    values = compute_measures(pack_bits(bits), context, ["sop"])["sop"]
    assert values.tolist() == [brute_force_sop(row, n) for row in bits]


@pytest.mark.parametrize("encoding", ["binary", "gray", "permuted:3", "pm1"])
def test_sop_known_values(encoding):
    n = 6
    enc = make_encoding(encoding, n)
    vertices = enc.vertices
    parity = np.array([bin(int(v)).count("1") % 2 for v in vertices], dtype=bool)
    majority_of_first_three = np.array([bin(int(v) >> 3).count("1") >= 2 for v in vertices], dtype=bool)
    rows = np.array([np.zeros(enc.m, bool), np.ones(enc.m, bool), parity, majority_of_first_three])
    values = compute_measures(pack_bits(rows), MeasureContext.for_encoding(enc), ["sop"])["sop"]
    assert values.tolist() == [0, 0, n * 2 ** (n - 1), 6]


def test_sop_is_on_request_only_and_refused_off_the_cube():
    context = MeasureContext.for_encoding(make_encoding("binary", 3))
    assert "sop" not in run_measures(context)
    assert run_measures(context, "sop")[-1] == "sop"
    with pytest.raises(InvalidParameterError, match="bit-vector"):
        run_measures(MeasureContext.for_encoding(make_encoding("gaussian:2", 3)), ["sop"])
    with pytest.raises(InvalidParameterError, match="bit-vector"):
        pysimbias.sample(prior="gp", n=3, encoding="onehot", samples=10, measures=["sop"])
    run = pysimbias.sample(prior="perceptron", n=3, samples=500, seed=1, measures="sop")
    assert "sop" in run.measures and "sop" not in pysimbias.sample(prior="perceptron", n=3, samples=50).measures


def test_counting_spectrum_is_the_mean_of_all_functions():
    n = 3
    bits = _all_functions(n)
    spectrum = walsh_spectrum(pack_bits(bits), np.ones(len(bits)), make_encoding("binary", n).vertices, n)
    np.testing.assert_allclose(spectrum["prior"], counting_walsh_spectrum(n), atol=1e-15)
    np.testing.assert_allclose(spectrum["counting"], [math.comb(3, k) / 8 for k in range(4)])


@pytest.mark.parametrize("encoding", ["binary", "pm1", "gray"])
def test_spectrum_mean_is_walsh_degree(encoding):
    run = pysimbias.sample(prior="mlp", widths="6", n=4, encoding=encoding, samples=3000, seed=4)
    spectrum = run.manifest["walsh_spectrum"]
    mean = sum(k * w for k, w in zip(spectrum["degree"], spectrum["prior"]))
    np.testing.assert_allclose(mean, np.average(run.measures["walsh_degree"], weights=run.histogram.counts),
                               rtol=1e-12)
    np.testing.assert_allclose(sum(spectrum["prior"]), 1.0)


def test_plot_draws_the_spectrum_and_grid_functions(tmp_path):
    from pysimbias.plots import GRID_PLOT, WALSH_PLOT, plot_run

    cube = pysimbias.sample(prior="nngp", widths="2", n=3, samples=500, seed=1)
    (tmp_path / "cube").mkdir()
    assert WALSH_PLOT in [path.name for path in plot_run(cube, tmp_path / "cube")]
    grid = pysimbias.sample(prior="gp", encoding="grid:2:6", samples=500, seed=1)
    written = [path.name for path in plot_run(grid, tmp_path)]
    assert GRID_PLOT in written and WALSH_PLOT not in written


def test_run_directory_from_the_command_line(tmp_path, capsys):
    import json

    import pyarrow.parquet as pq

    import cli

    def run(*args):
        with pytest.raises(SystemExit) as info:
            cli.main(list(args))
        return info.value.code, capsys.readouterr()

    code, _ = run("sample", "--prior", "nngp", "--widths", "3", "--n", "3", "--samples", "2000", "--measures", "sop",
                  "--out", str(tmp_path / "cube"))
    assert code == 0
    manifest = json.loads((tmp_path / "cube" / "manifest.json").read_text())
    assert manifest["measures"][-1] == "sop" and len(manifest["walsh_spectrum"]["prior"]) == 4
    assert "sop" in pq.read_table(tmp_path / "cube" / "functions.parquet").column_names
    assert (tmp_path / "cube" / "walsh_spectrum.png").exists()
    in_memory = pysimbias.sample(prior="nngp", widths="3", n=3, samples=2000)
    np.testing.assert_allclose(in_memory.manifest["walsh_spectrum"]["prior"], manifest["walsh_spectrum"]["prior"])
    code, (out, _) = run("show", str(tmp_path / "cube"))
    assert code == 0 and "Walsh weight" in out
    code, _ = run("sample", "--prior", "gp", "--encoding", "grid:2:5", "--samples", "500", "--out", str(tmp_path / "g"))
    assert code == 0 and (tmp_path / "g" / "top_functions.png").exists()
    code, (_, err) = run("sample", "--prior", "gp", "--encoding", "grid:2:5", "--samples", "50", "--measures", "sop",
                         "--out", str(tmp_path / "bad"))
    assert code == 2 and "bit-vector" in err and not (tmp_path / "bad").exists()
