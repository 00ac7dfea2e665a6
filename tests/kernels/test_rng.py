"""Statistical and reproducibility checks of pysimbias.kernels.rng.

All tests use fixed seeds, so they are deterministic: a tolerance of "5
standard errors" below is a statement about these particular draws, and
numpy's own generator is put through the same checks to show that the
tolerances are fair.

Seeds and keys are always handed to the kernels as ``np.uint64`` (see
``test_python_int_seeds_match_uint64_seeds`` for why).
"""

import math
import platform
import re

import numba
import numpy as np
import pytest
from scipy import stats

import pysimbias
from pysimbias.kernels import rng
from reference import exact_normal_tail, reference_normal_pair, reference_normals, reference_pack

N = 10 ** 6
SQRT3 = math.sqrt(3.0)


@numba.njit
def pairs_of_halves(radius, angle):
    """The generator's two values of each (radius, angle) pair of 32-bit halves (int32 arrays holding their bits)."""
    x = np.empty(radius.shape[0], dtype=np.float32)
    y = np.empty(radius.shape[0], dtype=np.float32)
    for i in range(radius.shape[0]):
        x[i], y[i] = rng._normal_pair(radius[i], angle[i])
    return x, y


def pairs_of(k1, k2):
    """The generator's values of the 32-bit integers ``k1`` (radius) and ``k2`` (angle), as float64."""
    as_int32 = [np.asarray(k, dtype=np.int64).astype(np.uint32).view(np.int32) for k in (k1, k2)]
    return tuple(v.astype(np.float64) for v in pairs_of_halves(*as_int32))


def ulps(got, want):
    """|got - want| in units of the float32 spacing at |want|."""
    return np.abs(got - want) / np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)


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


@pytest.mark.slow
def test_normal_tail_probabilities_within_binomial_intervals():
    # P(|Z| > t) and both one-sided tails for t = 1..5 on 10^8 draws (5 sigma:
    # about 57 expected), each inside its 99.99% binomial interval.
    streams, per = 20, 5 * 10 ** 6
    edges = np.arange(1.0, 6.0)
    above = np.zeros(edges.size, dtype=np.int64)
    below = np.zeros(edges.size, dtype=np.int64)
    largest = 0.0
    for j in range(streams):
        x = normals(seed_of(1000 + j), per)
        above += (x[:, None] > edges).sum(axis=0)
        below += (x[:, None] < -edges).sum(axis=0)
        largest = max(largest, float(np.abs(x).max()))
    n = streams * per
    for t, up, down in zip(edges, above, below):
        p = exact_normal_tail(t)
        for count, prob, label in ((up, p / 2, "upper"), (down, p / 2, "lower"), (up + down, p, "both")):
            low, high = stats.binom.interval(0.9999, n, prob)
            assert low <= count <= high, f"{label} {t}: {count} not in [{low}, {high}]"
    # Not truncated below the tail limit: the largest of 10^8 draws is near 5.9.
    assert 5.2 < largest <= rng.TAIL_LIMIT


def test_normal_tail_shape():
    # Beyond |x| = 3, |x| must follow the normal tail:
    # P(|x| > s | |x| > 3) = erfc(s / sqrt 2) / erfc(3 / sqrt 2).
    edge = 3.0
    x = np.abs(normals(seed_of(8), 5 * N).astype(np.float64))
    tail = x[x > edge]
    _assert_poisson_close(tail.size, 5 * N * exact_normal_tail(edge), "tail count")
    norm_edge = exact_normal_tail(edge)
    assert stats.kstest(tail, lambda s: 1.0 - 2.0 * stats.norm.sf(s) / norm_edge).pvalue > 1e-3


def test_normals_match_the_float64_reference():
    # The kernel's float32 arithmetic against the same definition in float64
    # (tests/reference.py): two streams, hashing included.
    for seed in (seed_of(21), seed_of(22)):
        for n in (5001, 5000):
            assert np.max(ulps(normals(seed, n).astype(np.float64), reference_normals(seed, n))) <= 6


def test_normal_pairs_against_float64_over_the_edges_and_a_dense_sample():
    # 2^22 random (radius, angle) pairs and the edges: radii from the ends
    # of the 32-bit range (u near 0: the tail; u near 1: small radii, where
    # -2 log u comes from the exact complement) and from around u = 1/2 and
    # u = sqrt(1/2); angles at and around every multiple of pi / 4.
    generator = np.random.default_rng(5)
    edge_radii = np.concatenate([np.arange(2000), 2 ** 32 - 1 - np.arange(2000), 2 ** 31 + np.arange(-1000, 1000),
                                 int(2 ** 32 * math.sqrt(0.5)) + np.arange(-1000, 1000)])
    edge_angles = (np.arange(8)[:, None] * 2 ** 29 + np.arange(-300, 300)[None, :]).ravel() % 2 ** 32
    k1 = np.concatenate([generator.integers(0, 2 ** 32, 2 ** 22), np.repeat(edge_radii, 3),
                         generator.integers(0, 2 ** 32, edge_angles.size)])
    k2 = np.concatenate([generator.integers(0, 2 ** 32, 2 ** 22), generator.integers(0, 2 ** 32, 3 * edge_radii.size),
                         edge_angles])
    got, want = pairs_of(k1, k2), reference_normal_pair(k1, k2)
    for g, w in zip(got, want):
        err = ulps(g, w)
        assert err.max() <= 6 and err.mean() < 0.6  # measured: 5.03 and 0.554 on 2^23 random pairs
    # The largest radius, at angle 0: the tail limit; nothing beyond it.
    x, _ = pairs_of([0], [0])
    assert x[0] == pytest.approx(rng.TAIL_LIMIT, rel=1e-6)
    assert max(np.abs(got[0]).max(), np.abs(got[1]).max()) <= rng.TAIL_LIMIT * (1 + 2 ** -22)
    assert rng.TAIL_LIMIT == pytest.approx(math.sqrt(66 * math.log(2)), rel=1e-15)


@numba.njit
def fill_work(seed, out, work):
    rng.fill_normal_work(seed, out, np.float32(1.0), work)


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="reads x86 assembly")
def test_normal_loops_vectorize():
    """The compiled fills hold packed float32 arithmetic and a packed square root: LLVM vectorized the maps."""
    fill_work(seed_of(1), np.empty(100, dtype=np.float32), np.empty(rng.normal_work_size(100), dtype=np.uint64))
    fill_columns(np.zeros(8, dtype=np.uint64), np.empty((3, 8), dtype=np.float32), np.empty((2, 8), dtype=np.uint64))
    for kernel in (fill_work, fill_columns):
        asm = kernel.inspect_asm(kernel.signatures[0])
        assert len(re.findall(r"\bv(?:mul|add|sub|fn?m(?:add|sub)\d+)ps\s+[^\n]*%[yz]mm", asm)) >= 20
        assert re.search(r"\bvsqrtps\s+[^\n]*%[yz]mm", asm)


@pytest.mark.slow
def test_normal_ks_and_moments_on_ten_million_draws():
    x = np.concatenate([normals(seed_of(300 + j)) for j in range(10)]).astype(np.float64)
    assert stats.kstest(x, "norm").pvalue > 1e-3
    _assert_standard_normal_moments(x, "1e7 draws")


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


def test_work_array_fill_equals_fill_normal():
    for n in (1, 2, 7, 8, 9, 2001):
        want = normals(seed_of(n), n)
        out = np.empty(n, dtype=np.float32)
        work = np.full(rng.normal_work_size(n), 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)  # stale contents
        rng.fill_normal_work(seed_of(n), out, 1.0, work)
        np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("n", [1, 2, 8, 19, 64])
@pytest.mark.parametrize("lanes", [1, 7, 64, 1000])
def test_column_fill_gives_every_stream_its_own_normals(n, lanes):
    seeds = np.array([seed_of(j, key=(n, lanes)) for j in range(lanes)], dtype=np.uint64)
    out = np.empty((n, lanes), dtype=np.float32)
    draws = np.full(((n + 1) // 2, lanes), 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)  # stale contents
    fill_columns(seeds, out, draws)
    want = np.stack([normals(seed, n) for seed in seeds], axis=1)
    np.testing.assert_array_equal(out, want)


@numba.njit
def fill_columns(seeds, out, draws):
    rng.fill_normal_columns(seeds, out, draws)


def test_whole_mlp_run_is_independent_of_thread_count():
    runs = [pysimbias.sample(prior="mlp", n=5, widths=(8, 8), samples=4000, seed=3, threads=t) for t in (1, 2)]
    np.testing.assert_array_equal(runs[0].histogram.keys, runs[1].histogram.keys)
    np.testing.assert_array_equal(runs[0].histogram.counts, runs[1].histogram.counts)
