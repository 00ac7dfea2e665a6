"""The Python API and the run directory: sampling, saving, loading, damage detection."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats

import pysimbias
from pysimbias import InvalidParameterError, RunDirectoryError, SampleConfig
from pysimbias.kernels.bits import pack_bits


def test_sample_returns_histogram_with_measures():
    run = pysimbias.sample(prior="mlp", widths=(5,), n=4, samples=3000, seed=3)
    frame = run.to_frame()
    assert list(frame.columns[:2]) == ["function", "count"]
    assert {"ones", "entropy", "lz76", "klz", "lz78"} <= set(frame.columns)
    assert frame["count"].sum() == 3000
    assert frame["function"].str.len().eq(16).all()
    assert (np.diff(frame["count"].to_numpy()) <= 0).all()
    ones = frame["function"].str.count("1").to_numpy()
    np.testing.assert_array_equal(ones, frame["ones"].to_numpy())


def test_same_seed_same_result_and_different_seed_differs():
    a = pysimbias.sample(prior="mlp", widths=(8, 8), n=5, samples=5000, seed=11)
    b = pysimbias.sample(prior="mlp", widths=(8, 8), n=5, samples=5000, seed=11)
    c = pysimbias.sample(prior="mlp", widths=(8, 8), n=5, samples=5000, seed=12)
    np.testing.assert_array_equal(a.histogram.keys, b.histogram.keys)
    np.testing.assert_array_equal(a.histogram.counts, b.histogram.counts)
    assert not (a.histogram.keys.shape == c.histogram.keys.shape
                and np.array_equal(a.histogram.keys, c.histogram.keys))


def test_result_independent_of_threads():
    kwargs = dict(prior="mlp", widths=(6,), n=6, samples=70_000, seed=5)
    one = pysimbias.sample(threads=1, **kwargs)
    two = pysimbias.sample(threads=2, **kwargs)
    np.testing.assert_array_equal(one.histogram.keys, two.histogram.keys)
    np.testing.assert_array_equal(one.histogram.counts, two.histogram.counts)


def test_sample_prefix_property_across_chunks():
    """A longer run with the same seed contains the shorter run's samples."""
    short = pysimbias.sample(prior="perceptron", n=5, samples=70_000, seed=2)
    long = pysimbias.sample(prior="perceptron", n=5, samples=140_000, seed=2)
    short_counts = dict(zip(map(bytes, short.histogram.keys), short.histogram.counts))
    long_counts = dict(zip(map(bytes, long.histogram.keys), long.histogram.counts))
    assert all(long_counts.get(k, 0) >= c for k, c in short_counts.items())


@pytest.mark.parametrize("law", ["gaussian", "uniform"])
def test_bias_free_perceptron_gives_uniform_ones(law):
    """Mingard et al. 2019: P(t) = 2^-n for t < 2^n, P(2^n) = 0."""
    run = pysimbias.sample(prior="perceptron", bias=False, n=7, law=law, samples=300_000, seed=1)
    p_t = np.bincount(run.measures["ones"], weights=run.histogram.counts, minlength=129)
    assert p_t[128] == 0
    assert stats.chisquare(p_t[:128]).pvalue > 1e-4


def test_uniform_prior_is_the_counting_measure():
    run = pysimbias.sample(prior="uniform", n=3, samples=80_000, seed=0)
    assert run.histogram.distinct == 256
    assert stats.chisquare(run.histogram.counts).pvalue > 1e-4
    ones = pysimbias.sample(prior="uniform", n=7, samples=20_000, seed=0).measures["ones"]
    assert abs(ones.mean() - 64) < 0.5


def test_large_n_keys_have_many_words():
    run = pysimbias.sample(prior="mlp", widths=(4,), n=12, samples=200, seed=0)
    assert run.histogram.keys.shape[1] == 64
    assert run.to_frame()["function"].str.len().eq(4096).all()


def test_edge_sizes_n1_width1():
    run = pysimbias.sample(prior="mlp", widths=(1,), n=1, samples=2000, seed=0)
    assert set(run.histogram.texts()) <= {"00", "01", "10", "11"}
    assert run.histogram.samples == 2000


@pytest.mark.parametrize(
    "params, param",
    [
        ({"n": 0}, "n"),
        ({"n": 40}, "n"),
        ({"samples": -5}, "samples"),
        ({"samples": "1.5"}, "samples"),
        ({"widths": "40,,x"}, "widths"),
        ({"sigma_w": float("nan")}, "sigma_w"),
        ({"sigma_b": -1.0}, "sigma_b"),
        ({"prior": "nope"}, "prior"),
        ({"activation": "gelu2"}, "activation"),
        ({"law": "cauchy"}, "law"),
        ({"encoding": "nope"}, "encoding"),
        ({"seed": -1}, "seed"),
        ({"bogus": 1}, "params"),
    ],
)
def test_bad_parameters_raise_with_the_parameter_named(params, param):
    with pytest.raises(InvalidParameterError) as info:
        pysimbias.sample(samples=params.pop("samples", 10), **params)
    assert info.value.param == param


def test_save_load_roundtrip(tmp_path):
    run = pysimbias.sample(prior="mlp", widths=(4, 4), n=5, samples=4000, seed=9)
    run.save(tmp_path / "r", plots=False)
    loaded = pysimbias.load_run(tmp_path / "r")
    np.testing.assert_array_equal(loaded.histogram.keys, run.histogram.keys)
    np.testing.assert_array_equal(loaded.histogram.counts, run.histogram.counts)
    for name, values in run.measures.items():
        np.testing.assert_array_equal(loaded.measures[name], values)
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["config"] == run.config.to_dict()
    assert manifest["samples"] == 4000 and manifest["distinct"] == run.histogram.distinct
    assert {"numpy", "numba", "pysimbias"} <= set(manifest["versions"])
    table = pq.read_table(tmp_path / "r" / "functions.parquet")
    keys = pack_bits(np.array([[c == "1" for c in t] for t in table.column("function").to_pylist()]))
    np.testing.assert_array_equal(keys, run.histogram.keys)


def test_refuses_non_empty_directory_without_force(tmp_path):
    (tmp_path / "keep.txt").write_text("precious")
    run = pysimbias.sample(prior="perceptron", n=3, samples=100, seed=0)
    with pytest.raises(RunDirectoryError, match="--force"):
        run.save(tmp_path, plots=False)
    assert (tmp_path / "keep.txt").read_text() == "precious"
    run.save(tmp_path, force=True, plots=False)
    assert pysimbias.load_run(tmp_path).histogram.samples == 100


def test_damaged_run_directory_is_reported(tmp_path):
    run = pysimbias.sample(prior="perceptron", n=3, samples=100, seed=0)
    run.save(tmp_path / "r", plots=False)
    parquet = tmp_path / "r" / "functions.parquet"
    data = bytearray(parquet.read_bytes())
    data[len(data) // 2] ^= 0xFF
    parquet.write_bytes(bytes(data))
    with pytest.raises(RunDirectoryError, match="checksum"):
        pysimbias.load_run(tmp_path / "r")
    (tmp_path / "r" / "manifest.json").write_text("{not json")
    with pytest.raises(RunDirectoryError, match="damaged"):
        pysimbias.load_run(tmp_path / "r")
    with pytest.raises(RunDirectoryError, match="no manifest.json"):
        pysimbias.load_run(tmp_path)


def test_config_roundtrip():
    cfg = SampleConfig(prior="mlp", widths=(3, 2), samples="1e3").validated()
    assert cfg.samples == 1000
    assert SampleConfig.from_dict(cfg.to_dict()) == cfg
