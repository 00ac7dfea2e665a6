"""Statistical and reproducibility checks of pysimbias.kernels.rng.

All tests use fixed seeds, so they are deterministic: a tolerance of "5
standard errors" below is a statement about these particular draws, and
numpy's own generator is put through the same checks to show that the
tolerances are fair.

Seeds and keys are always handed to the kernels as ``np.uint64`` (see
``test_python_int_seeds_match_uint64_seeds`` for why).
"""

import math

import numpy as np
import pytest
from scipy import stats

from pysimbias.kernels import rng
from reference import exact_normal_tail, reference_pack

N = 10 ** 6
ZIGGURAT_R = rng._ZIG_R  # base strip edge of the ziggurat: beyond it, the exact tail
SQRT3 = math.sqrt(3.0)


def u64(x):
    return np.uint64(int(x) & (2 ** 64 - 1))


def seed_of(j, key=(12345, 67890)):
    """A stream seed as the kernels derive it (sample j of a chunk)."""
    return u64(rng.stream_seed(u64(key[0]), u64(key[1]), j))


def normals(seed, n=N, scale=1.0):
    out = np.empty(n, dtype=np.float32)
    rng.fill_normal(u64(seed), out, scale)
    return out


def uniforms(seed, n=N, scale=1.0):
    out = np.empty(n, dtype=np.float32)
    rng.fill_uniform(u64(seed), out, scale)
    return out


@pytest.fixture(scope="module")
def big_normal():
    return normals(seed_of(7)).astype(np.float64)


@pytest.fixture(scope="module")
def numpy_normal():
    return np.random.default_rng(0).standard_normal(N)


def _assert_standard_normal_moments(x, label):
    n = x.shape[0]
    se = {  # standard errors of the sample moments of n standard normals
        "mean": 1 / math.sqrt(n),
        "var": math.sqrt(2 / n),
        "skew": math.sqrt(6 / n),
        "kurt": math.sqrt(24 / n),
    }
    got = {
        "mean": x.mean(),
        "var": x.var(),
        "skew": stats.skew(x),
        "kurt": stats.kurtosis(x),  # excess kurtosis
    }
    want = {"mean": 0.0, "var": 1.0, "skew": 0.0, "kurt": 0.0}
    for k in se:
        assert abs(got[k] - want[k]) < 5 * se[k], f"{label}: {k} = {got[k]:.5f}"


# --- seeding -----------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 12345, 2 ** 40 + 3, 2 ** 63 + 11])
def test_chunk_key_matches_seedsequence_spawn(seed):
    children = np.random.SeedSequence(seed).spawn(18)
    for k in (0, 1, 2, 5, 17):
        expected = children[k].generate_state(2, np.uint64)
        got = rng.chunk_key(seed, k)
        assert got.dtype == np.uint64
        np.testing.assert_array_equal(got, expected)


def test_chunk_keys_distinct():
    keys = {tuple(int(w) for w in rng.chunk_key(s, k)) for s in range(5) for k in range(50)}
    assert len(keys) == 250


def test_stream_seeds_distinct_and_deterministic():
    k0, k1 = rng.chunk_key(3, 0)
    seeds = [int(rng.stream_seed(k0, k1, j)) for j in range(10000)]
    assert len(set(seeds)) == len(seeds)
    assert seeds == [int(rng.stream_seed(k0, k1, j)) for j in range(10000)]
    # Another chunk's streams are different ones.
    c0, c1 = rng.chunk_key(3, 1)
    assert not set(seeds) & {int(rng.stream_seed(c0, c1, j)) for j in range(10000)}
    # Stream seeds are evenly spread over all 64 bits (bit 63 included).
    bits = np.array([[(s >> b) & 1 for b in range(64)] for s in seeds], dtype=float)
    assert np.all(np.abs(bits.mean(axis=0) - 0.5) < 5 * 0.5 / math.sqrt(len(seeds)))


def test_python_int_seeds_match_uint64_seeds():
    s = 5
    a = np.empty(1000, dtype=np.float32)
    b = np.empty(1000, dtype=np.float32)
    rng.fill_normal(s, a, 1.0)
    rng.fill_normal(np.uint64(s), b, 1.0)
    assert (a > 0).mean() < 0.6  # with the bug: 1.0
    np.testing.assert_array_equal(a, b)
    assert rng.stream_seed(1, 2, 0) == rng.stream_seed(np.uint64(1), np.uint64(2), 0)


# --- normals -----------------------------------------------------------------


def test_normal_moments(big_normal, numpy_normal):
    _assert_standard_normal_moments(big_normal, "pysimbias")
    _assert_standard_normal_moments(numpy_normal, "numpy")


def test_normal_ks_one_sample(big_normal):
    assert stats.kstest(big_normal, "norm").pvalue > 1e-3


def test_normal_ks_against_numpy(big_normal, numpy_normal):
    assert stats.ks_2samp(big_normal, numpy_normal).pvalue > 1e-3


def _assert_poisson_close(count, expected, label):
    assert abs(count - expected) < 5 * math.sqrt(expected) + 1, f"{label}: {count} vs {expected:.1f}"


def test_normal_tails(big_normal, numpy_normal):
    # Beyond the ziggurat's base strip the draws come from the exact tail
    # algorithm; both tails must carry the exact normal mass.
    for x, label in ((big_normal, "pysimbias"), (numpy_normal, "numpy")):
        for edge in (ZIGGURAT_R, 4.0):
            p = exact_normal_tail(edge)
            _assert_poisson_close(int(np.sum(x > edge)), N * p / 2, f"{label} upper {edge}")
            _assert_poisson_close(int(np.sum(x < -edge)), N * p / 2, f"{label} lower {edge}")
            _assert_poisson_close(int(np.sum(np.abs(x) > edge)), N * p, f"{label} both {edge}")
        # The tail is not truncated: the largest of 10**6 draws is near 4.9.
        assert 4.4 < np.abs(x).max() < 6.0


def test_normal_tail_shape():
    # Given |x| > R (the ziggurat's exact-tail branch), |x| must follow the
    # normal tail: P(|x| > s | |x| > R) = erfc(s / sqrt 2) / erfc(R / sqrt 2).
    x = np.abs(normals(seed_of(8), 5 * N).astype(np.float64))
    tail = x[x > ZIGGURAT_R]
    _assert_poisson_close(tail.size, 5 * N * exact_normal_tail(ZIGGURAT_R), "tail count")
    norm_r = exact_normal_tail(ZIGGURAT_R)

    def cdf(s):
        return 1.0 - 2.0 * stats.norm.sf(s) / norm_r

    assert stats.kstest(tail, cdf).pvalue > 1e-3
    # Just inside the edge: the top ziggurat layers (slow path) are right too.
    inner = x[(x > 2.5) & (x <= ZIGGURAT_R)]
    want = 5 * N * (exact_normal_tail(2.5) - exact_normal_tail(ZIGGURAT_R))
    _assert_poisson_close(inner.size, want, "2.5 < |x| <= R")


def test_normal_histogram_chi_square(big_normal):
    # 100 equiprobable bins of the standard normal (the outer bins reach into
    # the tails, where the ziggurat's slow paths produce the draws).
    edges = stats.norm.ppf(np.linspace(0, 1, 101)[1:-1])
    counts = np.bincount(np.searchsorted(edges, big_normal), minlength=100)
    assert stats.chisquare(counts).pvalue > 1e-4


def test_normal_from_many_short_streams():
    # The kernels draw a few dozen normals from each of very many streams:
    # check that this combination is normal too, and that neither draws
    # within a stream nor first draws of neighbouring streams correlate.
    n_streams, per = 20000, 50
    x = np.empty((n_streams, per), dtype=np.float64)
    for j in range(n_streams):
        x[j] = normals(seed_of(j), per)
    flat = x.ravel()
    _assert_standard_normal_moments(flat, "short streams")
    assert stats.kstest(flat, "norm").pvalue > 1e-3
    se = 1 / math.sqrt(n_streams)
    for a, b in ((0, 1), (1, 2), (0, per - 1)):
        assert abs(np.corrcoef(x[:, a], x[:, b])[0, 1]) < 5 * se
    assert abs(np.corrcoef(x[:-1, 0], x[1:, 0])[0, 1]) < 5 * se
    # Each position (column) is standard normal on its own.
    for col in (0, 1, per - 1):
        assert stats.kstest(x[:, col], "norm").pvalue > 1e-4


def test_normal_scale():
    unit = normals(seed_of(1), 10000)
    scaled = normals(seed_of(1), 10000, scale=2.5)
    np.testing.assert_allclose(scaled, 2.5 * unit.astype(np.float64), rtol=1e-6)


def test_normal_determinism_and_prefix():
    a, b = normals(seed_of(2), 5000), normals(seed_of(2), 5000)
    np.testing.assert_array_equal(a, b)
    # Counter-based: a shorter fill is a prefix of a longer one.
    np.testing.assert_array_equal(normals(seed_of(2), 1234), a[:1234])
    c = normals(seed_of(3), 5000)
    assert not np.any(a == c) or np.mean(a == c) < 1e-3
    assert abs(np.corrcoef(a, c)[0, 1]) < 5 / math.sqrt(5000)


@pytest.mark.slow
def test_normal_large_sample_chi_square():
    # 2 * 10**7 draws from 20 streams, 1000 equiprobable bins plus the tail
    # beyond 4.5 sigma.
    x = np.concatenate([normals(seed_of(100 + j)) for j in range(20)]).astype(np.float64)
    edges = stats.norm.ppf(np.linspace(0, 1, 1001)[1:-1])
    counts = np.bincount(np.searchsorted(edges, x), minlength=1000)
    assert stats.chisquare(counts).pvalue > 1e-4
    _assert_poisson_close(int(np.sum(np.abs(x) > 4.5)), x.size * exact_normal_tail(4.5), "4.5 sigma")
    _assert_standard_normal_moments(x, "2e7 draws")


# --- uniforms ----------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 0.3])
def test_uniform_law(scale):
    x = uniforms(seed_of(11), scale=scale).astype(np.float64)
    half_width = SQRT3 * scale
    assert np.all(np.abs(x) <= half_width * (1 + 1e-6))
    # Range is filled out to both ends.
    assert x.max() > half_width * (1 - 1e-4) and x.min() < -half_width * (1 - 1e-4)
    n = x.size
    var_se = math.sqrt(0.8 / n) * scale ** 2  # Var(X^2) = (9/5 - 1) scale^4
    assert abs(x.mean()) < 5 * scale / math.sqrt(n)
    assert abs(x.var() - scale ** 2) < 5 * var_se
    assert abs(stats.skew(x)) < 5 * math.sqrt(2.06 / n)  # asymptotic se of a uniform's sample skew
    assert abs(stats.kurtosis(x) - (-1.2)) < 0.02
    assert stats.kstest(x, "uniform", args=(-half_width, 2 * half_width)).pvalue > 1e-3
    # Symmetric about 0: counts in mirror-image bins agree.
    hist, _ = np.histogram(x, bins=50, range=(-half_width, half_width))
    mirrored = hist[::-1]
    a, b = hist[:25].astype(float), mirrored[:25].astype(float)
    assert stats.chi2.sf(np.sum((a - b) ** 2 / (a + b)), df=25) > 1e-4


def test_uniform_resolution_and_mirror_symmetry():
    n = 200000
    x = uniforms(seed_of(12), n).astype(np.float64)
    assert np.all(x != 0)
    # 24-bit resolution: among n draws from 2**24 equally likely values about
    # n**2 / 2**25 coincide (a coarser grid would give far more).
    expected_dupes = n * n / 2 ** 25
    dupes = n - np.unique(x).size
    assert abs(dupes - expected_dupes) < 5 * math.sqrt(expected_dupes)
    # The negative half is the mirror image of the positive half.
    assert stats.ks_2samp(-x[x < 0], x[x > 0]).pvalue > 1e-3
    assert abs(np.mean(x > 0) - 0.5) < 5 * 0.5 / math.sqrt(n)


def test_uniform_determinism():
    np.testing.assert_array_equal(uniforms(seed_of(4), 1000), uniforms(seed_of(4), 1000))
    assert np.mean(uniforms(seed_of(4), 1000) == uniforms(seed_of(5), 1000)) < 1e-2


# --- random bits -------------------------------------------------------------


def fill(seed, m):
    out = np.empty((m + 63) // 64, dtype=np.uint64)
    rng.fill_bits(u64(seed), out, m)
    return out


@pytest.mark.parametrize("m", [1, 2, 7, 63, 64, 65, 100, 127, 128, 129, 200, 256, 300])
def test_fill_bits_masks_unused_bits(m):
    for j in range(200):
        key = fill(seed_of(j), m)
        rem = m % 64
        if rem:
            assert int(key[-1]) >> rem == 0
        # Packing the key's own bits reproduces it (nothing beyond bit m-1).
        bits = [(int(key[i // 64]) >> (i % 64)) & 1 for i in range(m)]
        assert reference_pack(bits) == [int(w) for w in key]


def test_fill_bits_fair():
    m, n = 200, 20000
    keys = np.stack([fill(seed_of(j), m) for j in range(n)])
    bits = np.unpackbits(keys.view(np.uint8), axis=1, bitorder="little")[:, :m].astype(float)
    p = bits.mean(axis=0)
    assert np.all(np.abs(p - 0.5) < 5 * 0.5 / math.sqrt(n))  # every position, bit 63 included
    assert abs(bits.mean() - 0.5) < 5 * 0.5 / math.sqrt(bits.size)
    # Number of ones per key ~ Binomial(m, 1/2).
    t = bits.sum(axis=1)
    assert abs(t.var() - m / 4) < 5 * (m / 4) * math.sqrt(2 / n)
    # Neighbouring bits are uncorrelated.
    assert abs(np.corrcoef(bits[:, 0], bits[:, 1])[0, 1]) < 5 / math.sqrt(n)


def test_sample_random_keys():
    k0, k1 = rng.chunk_key(9, 4)
    m = 129
    whole = rng.sample_random_keys(k0, k1, 0, 1000, m)
    assert whole.shape == (1000, 3) and whole.dtype == np.uint64
    assert np.all(whole[:, -1] >> np.uint64(1) == 0)
    # Sample j is fill_bits of stream j, whatever the range it is drawn in.
    for j in (0, 1, 500, 999):
        np.testing.assert_array_equal(whole[j], fill(rng.stream_seed(k0, k1, j), m))
    parts = [rng.sample_random_keys(k0, k1, s, c, m) for s, c in ((0, 1), (1, 300), (301, 699))]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    np.testing.assert_array_equal(rng.sample_random_keys(k0, k1, 0, 1000, m), whole)
    bits = np.unpackbits(whole.view(np.uint8), axis=1, bitorder="little")[:, :m]
    assert abs(bits.mean() - 0.5) < 5 * 0.5 / math.sqrt(bits.size)


@pytest.mark.parametrize("layers, r, v", [(128, 3.442619855899, 9.91256303526217e-3),
                                          (256, 3.6541528853610088, 4.92867323399e-3)])
def test_ziggurat_edge_matches_marsaglia_tsang(layers, r, v):
    # The published constants of the 128- and 256-layer normal ziggurats.
    got_r, got_v = rng._ziggurat_edge(layers)
    assert got_r == pytest.approx(r, abs=1e-10)
    assert got_v == pytest.approx(v, rel=1e-9)


def test_ziggurat_tables_are_consistent():
    # Layer scales grow towards the base strip, acceptance bounds stay within
    # the magnitude range, and the top layer's density is the peak.
    assert rng._WN[-1] * (1 << (31 - rng._LAYER_BITS)) == pytest.approx(rng._ZIG_R)
    assert np.all(np.diff(rng._WN[1:]) > 0)
    assert np.all((rng._KN[2:] > 0) & (rng._KN[2:] < (1 << (31 - rng._LAYER_BITS))))
    assert rng._FN[0] == 1.0 and np.all(np.diff(rng._FN) < 0)


def test_work_array_fill_equals_fill_normal():
    for n in (1, 2, 7, 8, 9, 2001):
        want = normals(seed_of(n), n)
        out = np.empty(n, dtype=np.float32)
        work = np.full(rng.normal_work_size(n), 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)  # stale contents
        rng.fill_normal_work(seed_of(n), out, 1.0, work)
        np.testing.assert_array_equal(out, want)


def test_scalar_and_vector_fills_agree():
    # Short fills take a scalar single pass; they must give the values the
    # three-pass fill gives (a short fill is a prefix of a long one).
    for j in range(3000):
        seed = seed_of(j, key=(5, 6))
        long = normals(seed, 1000)
        for n in (1, 7, 8, 64):
            np.testing.assert_array_equal(normals(seed, n), long[:n])


@pytest.mark.parametrize("n", [1, 2, 8, 19, 64])
def test_column_fill_gives_every_stream_its_own_normals(n):
    # Enough streams that the ziggurat rejects values, the base strip's tail included.
    lanes = 4096
    seeds = np.array([seed_of(j, key=(n, 9)) for j in range(lanes)], dtype=np.uint64)
    out = np.empty((n, lanes), dtype=np.float32)
    draws = np.full(((n + 1) // 2, lanes), 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)  # stale contents
    flags = np.ones((n, lanes), dtype=np.uint8)
    rng.fill_normal_columns(seeds, out, draws, flags)
    want = np.stack([normals(seed, n) for seed in seeds], axis=1)
    np.testing.assert_array_equal(out, want)
    assert flags.sum() > 0 or n < 8


def test_column_fill_resolves_rejections_in_the_flags_tail():
    # Flags are scanned eight at a time; when n * lanes is not a multiple of
    # eight the last few are scanned one by one.  Sweep small sizes over many
    # streams until rejections have fallen in such tails.
    tails = 0
    for lanes in range(1, 10):
        for n in (1, 3, 7, 31):
            for batch in range(60):
                seeds = np.array([seed_of(j, key=(lanes, 1000 * n + batch)) for j in range(lanes)], dtype=np.uint64)
                out = np.empty((n, lanes), dtype=np.float32)
                flags = np.empty((n, lanes), dtype=np.uint8)
                rng.fill_normal_columns(seeds, out, np.empty(((n + 1) // 2, lanes), dtype=np.uint64), flags)
                np.testing.assert_array_equal(out, np.stack([normals(seed, n) for seed in seeds], axis=1))
                tails += int(flags.reshape(-1)[8 * (flags.size // 8):].any())
    assert tails >= 5
