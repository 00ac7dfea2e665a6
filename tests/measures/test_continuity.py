"""Continuity-aware measures and the Walsh degree against slow references and exact identities."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysimbias.kernels.bits import keys_to_text, pack_bits
from pysimbias.inputs.encodings import make_encoding
from pysimbias.inputs.graphs import graph_from_pairs, hypercube_pairs, make_graph, xor_differences
from pysimbias.measures import MeasureContext, compute_measures
from pysimbias.kernels.graph import (critical_inputs, cube_counts, edge_disagreements, xor_critical_inputs,
                                              xor_disagreements)
from pysimbias.measures.continuity import cube_disagreements, generalization_complexity
from reference_metric import (bits_of, boundary_reference, csr_reference, gc_reference, hamming_pairs,
                              total_influence_reference, walsh_degree_reference)

CONTINUITY = ["boundary", "csr", "gc", "walsh_degree"]


def measures_on(spec, n, bits_rows, graph="auto", names=CONTINUITY):
    encoding = make_encoding(spec, n)
    context = MeasureContext.for_encoding(encoding, make_graph(graph, encoding))
    return encoding, compute_measures(pack_bits(np.asarray(bits_rows, dtype=bool)), context, names)


def random_rows(m, count, seed):
    rows = np.random.default_rng(seed).random((count, m)) < np.random.default_rng(seed + 1).random((count, 1))
    rows[0] = False
    rows[1] = True
    return rows


@pytest.mark.parametrize("spec", ["binary", "pm1", "gray", "permuted:4"])
@pytest.mark.parametrize("n", [1, 2, 4, 6])
def test_cube_measures_against_references(spec, n):
    rows = random_rows(2 ** n, 12, seed=n)
    encoding, values = measures_on(spec, n, rows)
    points = encoding.points.tolist()
    edges = hamming_pairs(points, 1)
    for r, bits in enumerate(rows.astype(int).tolist()):
        assert values["boundary"][r] == pytest.approx(boundary_reference(bits, edges), abs=1e-12)
        assert values["csr"][r] == pytest.approx(csr_reference(bits, edges), abs=1e-12)
        assert values["gc"][r] == pytest.approx(gc_reference(bits, points), abs=1e-12)
        assert values["walsh_degree"][r] == pytest.approx(walsh_degree_reference(bits, points), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 8), data=st.data())
def test_total_influence_identity(n, data):
    """Σ_S |S| f̂(S)^2 equals the total influence, which is n times the hypercube boundary share."""
    m = 2 ** n
    bits = data.draw(st.lists(st.integers(0, 1), min_size=m, max_size=m))
    spec = data.draw(st.sampled_from(["binary", "pm1", "gray", "permuted:9"]))
    encoding, values = measures_on(spec, n, [bits])
    assert values["walsh_degree"][0] == pytest.approx(n * values["boundary"][0], abs=1e-12)
    if n <= 5:
        assert values["walsh_degree"][0] == pytest.approx(
            total_influence_reference(bits, encoding.points.tolist()), abs=1e-12)


def test_known_values():
    n = 5
    points = make_encoding("binary", n).points.astype(int)
    parity = points.sum(axis=1) % 2
    dictator = points[:, 0]
    majority = (points.sum(axis=1) > n / 2).astype(int)
    constant = np.zeros(2 ** n, dtype=int)
    _, values = measures_on("binary", n, [parity, dictator, majority, constant])
    np.testing.assert_allclose(values["walsh_degree"], [5, 1, 5 * 6 / 16, 0])  # majority: n * C(4,2) / 2^4
    np.testing.assert_allclose(values["boundary"], [1, 1 / 5, 3 / 8, 0])
    np.testing.assert_allclose(values["csr"], [1, 1, 20 / 32, 0])
    np.testing.assert_allclose(values["gc"][[0, 1, 3]], [1, 1 / 5 + 4 / 10, 0])


def test_order_free_measures_do_not_see_the_enumeration():
    """The same function on the same points, written in another order, has the same continuity measures."""
    n = 6
    rng = np.random.default_rng(3)
    on_points = rng.random((20, 2 ** n)) < 0.3   # values at cube vertex v
    for spec in ("gray", "permuted:1"):
        encoding = make_encoding(spec, n)
        rows = on_points[:, encoding.vertices]   # character i = value at the point of input i
        _, base = measures_on("binary", n, on_points)
        _, other = measures_on(spec, n, rows)
        for name in CONTINUITY:
            np.testing.assert_allclose(other[name], base[name], atol=1e-12)


@pytest.mark.parametrize("spec, graph", [("gaussian:3", "knn:3"), ("grid:2:5", "radius:0.6"), ("onehot", "auto")])
def test_graph_measures_on_non_cube_encodings(spec, graph):
    encoding = make_encoding(spec, 4)
    built = make_graph(graph, encoding)
    rows = random_rows(encoding.m, 10, seed=5)
    context = MeasureContext.for_encoding(encoding, built)
    values = compute_measures(pack_bits(rows), context)
    assert "gc" not in values and "walsh_degree" not in values
    u, v = built.edges()
    edges = list(zip(u.tolist(), v.tolist()))
    for r, text in enumerate(keys_to_text(pack_bits(rows), encoding.m).astype(str)):
        bits = bits_of(text)
        assert values["boundary"][r] == pytest.approx(boundary_reference(bits, edges), abs=1e-12)
        assert values["csr"][r] == pytest.approx(csr_reference(bits, edges), abs=1e-12)


def test_onehot_boundary_depends_on_ones_only():
    """With no metric (complete graph) the boundary share is 2 t (m - t) / (m (m - 1))."""
    encoding = make_encoding("onehot", 5)
    rows = random_rows(32, 30, seed=2)
    context = MeasureContext.for_encoding(encoding, make_graph("auto", encoding))
    values = compute_measures(pack_bits(rows), context, ["ones", "boundary"])
    t = values["ones"]
    np.testing.assert_allclose(values["boundary"], 2 * t * (32 - t) / (32 * 31))


@settings(max_examples=30, deadline=None)
@given(m=st.integers(2, 200), data=st.data())
def test_graph_kernels_on_random_graphs(m, data):
    """The kernels count edges and critical inputs exactly, across word boundaries."""
    bits = np.array(data.draw(st.lists(st.booleans(), min_size=m, max_size=m)))
    pairs = data.draw(st.lists(st.tuples(st.integers(0, m - 1), st.integers(0, m - 1)), min_size=1, max_size=60))
    pairs = sorted({(min(a, b), max(a, b)) for a, b in pairs if a != b})
    if not pairs:
        return
    u = np.array([a for a, _ in pairs], dtype=np.int64)
    v = np.array([b for _, b in pairs], dtype=np.int64)
    keys = pack_bits(bits[None, :])
    assert edge_disagreements(keys, u, v)[0] == sum(bits[a] != bits[b] for a, b in pairs)
    graph = graph_from_pairs("test", m, u, v)
    assert critical_inputs(keys, graph.indptr, graph.indices)[0] == round(
        csr_reference(bits.astype(int).tolist(), pairs) * m)


def _xor_pairs(m, diffs):
    u = np.array([i for d in diffs for i in range(m) if i < i ^ d], dtype=np.int64)
    v = np.array([i ^ d for d in diffs for i in range(m) if i < i ^ d], dtype=np.int64)
    return u, v


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 8), data=st.data())
def test_xor_kernels_equal_the_edge_kernels(n, data):
    """On graphs of XOR classes the word-parallel kernels count what the per-edge kernels count."""
    m = 1 << n
    diffs = sorted(data.draw(st.sets(st.integers(1, m - 1), min_size=1, max_size=min(m - 1, 12))))
    u, v = _xor_pairs(m, diffs)
    order = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).permutation(u.shape[0])
    u, v = u[order], v[order]  # any edge order, either end first
    flip = order % 2 == 1
    u[flip], v[flip] = v[flip], u[flip].copy()
    assert xor_differences(u, v, m).tolist() == diffs
    density = data.draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    rows = np.random.default_rng(n).random((40, m)) < density
    keys = pack_bits(rows)
    np.testing.assert_array_equal(xor_disagreements(keys, np.array(diffs)), edge_disagreements(keys, u, v))
    graph = graph_from_pairs("test", m, u, v)
    np.testing.assert_array_equal(xor_critical_inputs(keys, np.array(diffs)),
                                  critical_inputs(keys, graph.indptr, graph.indices))


def edge_case_rows(m, seed):
    """All-zeros, all-ones, alternating, one 1, then random rows of several densities."""
    fixed = np.array([np.zeros(m, bool), np.ones(m, bool), np.arange(m) % 2 == 1, np.arange(m) == m - 1])
    generator = np.random.default_rng(seed)
    return np.concatenate([fixed, generator.random((60, m)) < generator.random((60, 1))])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 6, 7, 8, 9])
def test_cube_counts_equal_the_per_measure_kernels(n):
    """The fused cube pass counts what the edge kernels count at distance 1 and 2, on any word count."""
    m = 1 << n
    keys = pack_bits(edge_case_rows(m, seed=n))
    counts = cube_counts(keys, n)
    u1, v1 = hypercube_pairs(np.arange(m), 1)
    u2, v2 = hypercube_pairs(np.arange(m), 2)
    np.testing.assert_array_equal(counts[:, 0], edge_disagreements(keys, u1, v1))
    graph = graph_from_pairs("cube", m, u1, v1)
    np.testing.assert_array_equal(counts[:, 1], critical_inputs(keys, graph.indptr, graph.indices))
    np.testing.assert_array_equal(counts[:, 2], edge_disagreements(keys, u2, v2))


@pytest.mark.parametrize("n", [1, 2, 7, 8])
def test_fused_cube_measures_are_bit_identical(n):
    """boundary, csr, gc and walsh_degree through the shared cube pass equal the unfused formulas exactly."""
    m = 1 << n
    keys = pack_bits(edge_case_rows(m, seed=10 + n))
    encoding = make_encoding("binary", n)
    values = compute_measures(keys, MeasureContext.for_encoding(encoding, make_graph("auto", encoding)), CONTINUITY)
    vertices = np.arange(m)
    u, v = hypercube_pairs(vertices, 1)
    graph = graph_from_pairs("cube", m, u, v)
    np.testing.assert_array_equal(values["gc"], generalization_complexity(keys, vertices))
    np.testing.assert_array_equal(values["walsh_degree"], 2.0 * cube_disagreements(keys, vertices, 1)[0] / m)
    np.testing.assert_array_equal(values["boundary"], edge_disagreements(keys, u, v) / u.shape[0])
    np.testing.assert_array_equal(values["csr"], critical_inputs(keys, graph.indptr, graph.indices) / m)


def test_xor_differences_only_for_whole_xor_classes():
    u, v = _xor_pairs(16, [1, 6])
    assert xor_differences(u, v, 16).tolist() == [1, 6]
    assert xor_differences(u[1:], v[1:], 16) is None  # one pair missing
    assert xor_differences(np.r_[u, u[:1]], np.r_[v, v[:1]], 16) is None  # one pair twice
    w = v.copy()
    w[0], w[1] = v[1], v[0]  # same differences' count, wrong pairs
    assert xor_differences(u, w, 16) is None
    assert xor_differences(u, v, 24) is None  # m not a power of two
    cube = make_graph("auto", make_encoding("binary", 4))
    assert xor_differences(*cube.edges(), 16).tolist() == [1, 2, 4, 8]
    shuffled = make_graph("auto", make_encoding("permuted:3", 4))
    assert xor_differences(*shuffled.edges(), 16) is None


def test_measures_apply_only_with_their_structure():
    keys = pack_bits(np.array([[0, 1, 1, 0]], dtype=bool))
    plain = compute_measures(keys, MeasureContext(m=4, n=2))
    assert not set(CONTINUITY) & set(plain)
    encoding = make_encoding("binary", 2)
    full = compute_measures(keys, MeasureContext.for_encoding(encoding, make_graph("auto", encoding)))
    assert set(CONTINUITY) <= set(full)
