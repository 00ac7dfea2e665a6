"""Neighbour graphs against direct constructions from the points."""

import numpy as np
import pytest

from pysimbias.inputs.encodings import make_encoding
from pysimbias.errors import InvalidParameterError
from pysimbias.inputs.graphs import check_graph_spec, hypercube_pairs, make_graph, resolve_graph_spec
from reference_metric import hamming_pairs, knn_pairs_reference, radius_pairs_reference


def edge_list(graph):
    u, v = graph.edges()
    return sorted(zip(u.tolist(), v.tolist()))


def check_csr(graph):
    """Symmetric, sorted, without self-loops."""
    for i in range(graph.m):
        neighbours = graph.indices[graph.indptr[i]:graph.indptr[i + 1]]
        assert np.all(np.diff(neighbours) > 0) and i not in neighbours
        for j in neighbours:
            assert i in graph.indices[graph.indptr[j]:graph.indptr[j + 1]]


@pytest.mark.parametrize("spec", ["binary", "pm1", "gray", "permuted:3"])
@pytest.mark.parametrize("n", [1, 3, 5])
def test_hypercube_graph_is_hamming_distance_one(spec, n):
    encoding = make_encoding(spec, n)
    graph = make_graph("auto", encoding)
    assert graph.spec == "hypercube"
    assert edge_list(graph) == hamming_pairs(encoding.points.tolist(), 1)
    assert graph.n_edges == n * 2 ** (n - 1)
    check_csr(graph)


@pytest.mark.parametrize("distance", [1, 2, 3])
def test_hypercube_pairs_at_any_distance(distance):
    encoding = make_encoding("permuted:1", 4)
    u, v = hypercube_pairs(encoding.vertices, distance)
    assert sorted(zip(u.tolist(), v.tolist())) == hamming_pairs(encoding.points.tolist(), distance)


@pytest.mark.parametrize("spec, k", [("gaussian:3", 1), ("gaussian:3", 4), ("gaussian:5:2", 7), ("grid:2:4", 4),
                                     ("grid:2:4", 3), ("onehot", 2)])
def test_knn_graph_against_brute_force(spec, k):
    encoding = make_encoding(spec, 4)
    graph = make_graph(f"knn:{k}", encoding)
    assert edge_list(graph) == knn_pairs_reference(encoding.points.tolist(), k)
    check_csr(graph)


def test_knn_ties_make_onehot_complete_and_order_free():
    """Every one-hot input is equidistant from all others, so any K links all pairs."""
    graph = make_graph("auto", make_encoding("onehot", 4))
    assert graph.spec == "knn:4"
    assert graph.n_edges == 16 * 15 // 2


@pytest.mark.parametrize("radius", [0.5, 1.0, 1.5, 2.9])
def test_radius_graph_against_brute_force(radius):
    encoding = make_encoding("grid:2:5", 4)
    graph = make_graph(f"radius:{radius}", encoding)
    assert edge_list(graph) == radius_pairs_reference(encoding.points.tolist(), radius)
    check_csr(graph)


def test_graph_follows_the_points_not_the_order():
    """Re-enumerating the inputs relabels the graph and changes nothing else."""
    binary = make_encoding("binary", 5)
    permuted = make_encoding("permuted:2", 5)
    relabel = permuted.vertices  # input i of permuted is input vertices[i] of binary
    for spec in ("hypercube", "knn:3", "radius:1.0"):
        mapped = sorted(tuple(sorted((int(relabel[a]), int(relabel[b])))) for a, b in
                        edge_list(make_graph(spec, permuted)))
        assert mapped == edge_list(make_graph(spec, binary))


def test_resolve_auto():
    assert resolve_graph_spec("auto", make_encoding("binary", 7)) == "hypercube"
    assert resolve_graph_spec("auto", make_encoding("gaussian:7", 7)) == "knn:7"
    assert resolve_graph_spec("auto", make_encoding("grid:2:5", 7)) == "knn:5"
    assert resolve_graph_spec("radius:2", make_encoding("binary", 3)) == "radius:2"


@pytest.mark.parametrize("spec", ["nope", "knn", "knn:0", "knn:x", "radius:-1", "radius:nan", "hypercube:2",
                                  "auto:1"])
def test_bad_graph_specs(spec):
    with pytest.raises(InvalidParameterError) as info:
        check_graph_spec(spec)
    assert info.value.param == "graph"


def test_graphs_that_cannot_be_built():
    with pytest.raises(InvalidParameterError, match="bit-vector"):
        make_graph("hypercube", make_encoding("gaussian:3", 3))
    with pytest.raises(InvalidParameterError, match="at most m - 1"):
        make_graph("knn:8", make_encoding("binary", 3))
    with pytest.raises(InvalidParameterError, match="joins no two inputs"):
        make_graph("radius:0.5", make_encoding("binary", 3))


def test_describe():
    description = make_graph("auto", make_encoding("binary", 4)).describe()
    assert description == {"spec": "hypercube", "edges": 32, "mean_degree": 4.0, "isolated": 0}
