"""Tests of pysimbias.measures: kernels against plain references and external oracles."""

import itertools
import math

import antropy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lempel_ziv_complexity import lempel_ziv_complexity
from scipy.stats import entropy as scipy_entropy

from pysimbias.kernels.bits import keys_to_text, pack_bits, text_to_keys
from pysimbias.errors import InvalidParameterError
from pysimbias.measures import (
    Measure,
    MeasureContext,
    available_measures,
    compute_measures,
    get_measure,
    register_measure,
    registry,
)
from pysimbias.kernels.lz import count_ones, lz76, lz78

BOUNDARY_LENGTHS = [63, 64, 65, 127, 128, 129, 191, 192, 193]


# ---------------------------------------------------------------- references


def lz76_reference(s):
    """Kaspar & Schuster (1987) LZ76 complexity, written plainly."""
    n = len(s)
    if n == 1:
        return 1
    c, l, i, k, k_max = 1, 1, 0, 1, 1
    while True:
        if s[i + k - 1] == s[l + k - 1]:
            k += 1
            if l + k > n:
                c += 1
                break
        else:
            k_max = max(k, k_max)
            i += 1
            if i == l:
                c += 1
                l += k_max
                if l + 1 > n:
                    break
                i, k, k_max = 0, 1, 1
            else:
                k = 1
    return c


def lz78_reference(s):
    """Distinct phrases of the LZ78 parse; an unfinished last phrase is dropped."""
    seen = set()
    phrase = ""
    for ch in s:
        phrase += ch
        if phrase not in seen:
            seen.add(phrase)
            phrase = ""
    return len(seen)


def klz_reference(s):
    m = len(s)
    if s.count("1") in (0, m):
        return math.log2(m)
    return math.log2(m) * (lz76_reference(s) + lz76_reference(s[::-1])) / 2


def kernel_values(texts):
    """(ones, lz76, lz76 reversed, lz78) of the kernels on '0'/'1' strings of one length."""
    keys, m = text_to_keys(texts)
    return count_ones(keys, m), lz76(keys, m, False), lz76(keys, m, True), lz78(keys, m)


def check_against_oracles(texts, use_reference=True):
    ones, fwd, rev, z78 = kernel_values(texts)
    for i, s in enumerate(texts):
        assert ones[i] == s.count("1"), s
        assert fwd[i] == antropy.lziv_complexity(s, normalize=False), s
        assert rev[i] == antropy.lziv_complexity(s[::-1], normalize=False), s
        assert z78[i] == lempel_ziv_complexity(s), s
        if use_reference:
            assert fwd[i] == lz76_reference(s), s
            assert rev[i] == lz76_reference(s[::-1]), s
            assert z78[i] == lz78_reference(s), s


def random_texts(rng, count, m, p_one):
    bits = rng.random((count, m)) < p_one
    return [t.decode() for t in keys_to_text(pack_bits(bits), m)]


def boolean_function(n, rule):
    """Text form of f(input i) = rule(bits of i, MSB first) on {0,1}^n."""
    rows = [[(i >> (n - 1 - j)) & 1 for j in range(n)] for i in range(2**n)]
    return "".join("1" if rule(bits) else "0" for bits in rows)


# ------------------------------------------------- references versus oracles


def test_references_match_oracles_exhaustively():
    for m in range(1, 11):
        for chars in itertools.product("01", repeat=m):
            s = "".join(chars)
            assert lz76_reference(s) == antropy.lziv_complexity(s, normalize=False), s
            assert lz78_reference(s) == lempel_ziv_complexity(s), s


# ------------------------------------------------------------------- kernels


@pytest.mark.parametrize("m", range(1, 11))
def test_kernels_exhaustive_short_strings(m):
    texts = ["".join(c) for c in itertools.product("01", repeat=m)]
    check_against_oracles(texts)


@pytest.mark.parametrize("m", [2, 3, 5, 17, 31, 32, 33, *BOUNDARY_LENGTHS, 255, 256, 257, 300])
@pytest.mark.parametrize("p_one", [0.5, 0.1, 0.9, 0.01])
def test_kernels_random_batches(m, p_one):
    rng = np.random.default_rng([m, int(p_one * 100)])
    check_against_oracles(random_texts(rng, 40, m, p_one), use_reference=m <= 130)


def _bit_strings():
    lengths = st.one_of(st.integers(2, 300), st.sampled_from(BOUNDARY_LENGTHS))
    free = lengths.flatmap(lambda m: st.text("01", min_size=m, max_size=m))
    periodic = st.tuples(st.text("01", min_size=1, max_size=9), lengths).map(
        lambda pm: (pm[0] * pm[1])[: pm[1]]
    )
    return st.one_of(free, periodic)


@settings(max_examples=300, deadline=None)
@given(_bit_strings())
def test_kernels_property(s):
    check_against_oracles([s])


EDGE_CASES = {
    "m=2": ["00", "01", "10", "11"],
    "constant-0": ["0" * m for m in (1, 3, 64, 65, 128, 300)],
    "constant-1": ["1" * m for m in (1, 3, 64, 65, 128, 300)],
    "alternating": [("01" * 200)[:m] for m in (3, 63, 64, 65, 128, 129)]
    + [("10" * 200)[:m] for m in (3, 64, 129)],
    "single-one-start": ["1" + "0" * (m - 1) for m in (2, 64, 65, 128, 129)],
    "single-one-end": ["0" * (m - 1) + "1" for m in (2, 64, 65, 128, 129)],
}


@pytest.mark.parametrize("case", EDGE_CASES)
def test_kernels_edge_cases(case):
    for s in EDGE_CASES[case]:
        check_against_oracles([s])


def test_kernels_long_strings():
    rng = np.random.default_rng(4096)
    m = 4096
    texts = random_texts(rng, 2, m, 0.5) + [
        "0" * m,
        "0" * (m - 1) + "1",
        "01" * (m // 2),
        ("0110100" * m)[:m],
    ]
    check_against_oracles(texts, use_reference=False)
    assert lz76(text_to_keys(texts[:1])[0], m, False)[0] == lz76_reference(texts[0])


def test_lz78_drops_unfinished_last_phrase():
    # '0' / '00' / '000' / then '00' again, unfinished: 3 phrases, not 4.
    assert lempel_ziv_complexity("00000000") == 3
    assert lz78(text_to_keys(["00000000"])[0], 8)[0] == 3
    assert lz78(text_to_keys(["00"])[0], 2)[0] == 1


def test_kernels_empty_batch():
    keys = np.zeros((0, 2), dtype=np.uint64)
    for kernel in (count_ones, lz78):
        assert kernel(keys, 128).shape == (0,)
    for reverse in (False, True):
        assert lz76(keys, 128, reverse).shape == (0,)


# ------------------------------------------------------------------ measures


def measures_of(texts, names=None):
    keys, m = text_to_keys(texts)
    n = int(math.log2(m)) if 2 ** int(math.log2(m)) == m else None
    return compute_measures(keys, MeasureContext(m=m, n=n), names)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0" * 128, 7.0),
        ("1" * 128, 7.0),
        (boolean_function(7, lambda b: sum(b) % 2), 91.0),
        (boolean_function(7, lambda b: sum(b) >= 4), 70.0),
    ],
    ids=["zeros", "ones", "parity", "majority"],
)
def test_klz_exact_values(text, expected):
    assert measures_of([text], ["klz"])["klz"][0] == expected


def test_klz_mean_of_uniform_random_functions():
    keys = np.random.default_rng(149).integers(0, 2**64, size=(20000, 2), dtype=np.uint64)
    klz = compute_measures(keys, MeasureContext(m=128, n=7), ["klz"])["klz"]
    assert 147 < klz.mean() < 151


@pytest.mark.parametrize("m", [2, 8, 100, 128, 129])
def test_measures_match_definitions(m):
    rng = np.random.default_rng(m)
    texts = random_texts(rng, 30, m, 0.3) + ["0" * m, "1" * m]
    values = measures_of(texts)
    for i, s in enumerate(texts):
        t = s.count("1")
        assert values["ones"][i] == t
        assert values["entropy"][i] == pytest.approx(scipy_entropy([t, m - t], base=2), abs=1e-12)
        assert values["lz76"][i] == antropy.lziv_complexity(s)
        assert values["klz"][i] == pytest.approx(klz_reference(s), rel=1e-12)
        assert values["lz78"][i] == lempel_ziv_complexity(s)


def test_default_measures_order_and_dtypes():
    assert available_measures()[:5] == ["ones", "entropy", "lz76", "klz", "lz78"]
    values = measures_of(["0110", "1111"])
    assert list(values) == ["ones", "entropy", "lz76", "klz", "lz78"]
    for name, column in values.items():
        assert column.dtype == np.dtype(get_measure(name).dtype)
        assert column.shape == (2,)


def test_requested_measures_only_in_requested_order():
    values = measures_of(["0110"], ["lz78", "klz"])
    assert list(values) == ["lz78", "klz"]


# ------------------------------------------------------------------ registry


@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations inside a test do not leak into the global registry."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def test_duplicate_name_rejected(scratch_registry):
    with pytest.raises(ValueError, match="already registered"):
        register_measure(get_measure("ones"))


def test_unknown_requirement_rejected(scratch_registry):
    with pytest.raises(ValueError, match="unregistered"):
        register_measure(Measure("x", "int64", "x", lambda k, c: None, requires=("nope",)))


def test_unknown_measure_name():
    message = "unknown measure 'nope'; choose from 'ones', 'entropy'"
    with pytest.raises(InvalidParameterError, match=message) as err:
        get_measure("nope")
    assert err.value.param == "measures"
    with pytest.raises(InvalidParameterError):
        measures_of(["01"], ["nope"])


def test_new_measure_plugs_in(scratch_registry):
    register_measure(
        Measure(
            "zeros",
            "int64",
            "number of inputs mapped to 0 (count)",
            lambda keys, ctx: ctx.m - ctx.results["ones"],
            requires=("ones",),
        )
    )
    register_measure(
        Measure(
            "needs_n",
            "int64",
            "number of input bits (bits)",
            lambda keys, ctx: np.full(len(keys), ctx.n),
            applies=lambda ctx: ctx.n is not None,
        )
    )
    keys, m = text_to_keys(["0111", "0000"])
    assert list(compute_measures(keys, MeasureContext(m=m, n=2))) == [
        "ones", "entropy", "lz76", "klz", "lz78", "zeros", "needs_n"
    ]
    without_n = compute_measures(keys, MeasureContext(m=m, n=None))
    assert "needs_n" not in without_n
    assert list(compute_measures(keys, MeasureContext(m=m, n=None), ["zeros"])["zeros"]) == [1, 4]
    with pytest.raises(InvalidParameterError, match="does not apply"):
        compute_measures(keys, MeasureContext(m=m, n=None), ["needs_n"])


def test_keys_must_fit_context():
    with pytest.raises(InvalidParameterError, match="expected shape"):
        compute_measures(np.zeros((3, 1), dtype=np.uint64), MeasureContext(m=65, n=None))


def test_context_validation():
    with pytest.raises(InvalidParameterError):
        MeasureContext(m=0, n=None)
    with pytest.raises(InvalidParameterError):
        MeasureContext(m=4, n=-1)


@pytest.mark.parametrize("m", [64, 100, 128])
def test_lockstep_lz76_across_many_blocks(m):
    # m <= 128 runs many strings in lockstep, 512 per work item: a batch
    # spanning several items (the last one partial) with mixed densities.
    rng = np.random.default_rng(m)
    texts = [t for p in (0.5, 0.05, 0.95) for t in random_texts(rng, 450, m, p)]
    check_against_oracles(texts, use_reference=False)
