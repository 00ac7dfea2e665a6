"""Slow, obviously correct references for the encodings, graphs, continuity measures and new priors.

Plain Python loops over plain lists and floats, written for clarity, so that
the vectorised and Numba code can be checked against them.  The prior
references consume the same raw 64-bit draws as the kernels (documented in
:mod:`pysimbias.kernels.priors`), so they must reproduce the kernels' samples
exactly.
"""

import itertools
import math

import numpy as np

from pysimbias.kernels.rng import fill_bits, fill_normal, stream_seed

__all__ = [
    "raw_draws",
    "below",
    "sample_seed",
    "bits_of",
    "hamming_pairs",
    "knn_pairs_reference",
    "radius_pairs_reference",
    "boundary_reference",
    "csr_reference",
    "gc_reference",
    "walsh_degree_reference",
    "total_influence_reference",
    "voronoi_reference",
    "tree_reference",
    "gp_reference",
    "fixed_ones_reference",
    "shuffled_reference",
]


def raw_draws(seed, count):
    """The first ``count`` raw 64-bit draws of stream ``seed``, as Python ints."""
    out = np.empty(count, dtype=np.uint64)
    fill_bits(np.uint64(seed), out, 64 * count)
    return [int(x) for x in out]


def below(draw, bound):
    """The integer below ``bound`` that a draw stands for: the high word of draw * bound."""
    return (draw * bound) >> 64


def sample_seed(key, j):
    """Stream seed of sample j of the chunk with key ``key``, as a Python int."""
    return int(stream_seed(np.uint64(key[0]), np.uint64(key[1]), j))


def bits_of(text):
    """The list of 0/1 values of a '0'/'1' string."""
    return [1 if c == "1" else 0 for c in text]


def hamming_pairs(points, distance):
    """Index pairs (i < j) whose bit-vector points differ in exactly ``distance`` coordinates."""
    pairs = []
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            differ = sum(1 for a, b in zip(points[i], points[j]) if a != b)
            if differ == distance:
                pairs.append((i, j))
    return pairs


def _distance(p, q):
    return math.sqrt(sum((a - b) ** 2 for a, b in zip(p, q)))


def knn_pairs_reference(points, k):
    """Pairs (i < j) where j is among i's k nearest others (ties at the k-th distance kept) or vice versa."""
    m = len(points)
    linked = set()
    for i in range(m):
        dists = sorted(_distance(points[i], points[j]) for j in range(m) if j != i)
        kth = dists[k - 1]
        for j in range(m):
            if j != i and _distance(points[i], points[j]) <= kth * (1 + 1e-9) + 1e-9:
                linked.add((min(i, j), max(i, j)))
    return sorted(linked)


def radius_pairs_reference(points, radius):
    """Pairs (i < j) at Euclidean distance at most ``radius``."""
    m = len(points)
    return [(i, j) for i in range(m) for j in range(i + 1, m) if _distance(points[i], points[j]) <= radius]


def boundary_reference(bits, pairs):
    """Share of pairs whose two ends get different outputs."""
    return sum(1 for i, j in pairs if bits[i] != bits[j]) / len(pairs)


def csr_reference(bits, pairs):
    """Share of inputs with at least one paired input of a different output."""
    critical = set()
    for i, j in pairs:
        if bits[i] != bits[j]:
            critical.update((i, j))
    return len(critical) / len(bits)


def gc_reference(bits, points):
    """Franco's C1 + C2 straight from the definition (points are bit vectors)."""
    total = 0.0
    for distance in (1, 2):
        pairs = hamming_pairs(points, distance)
        if pairs:
            total += boundary_reference(bits, pairs)
    return total


def walsh_degree_reference(bits, points):
    """Σ_S |S| f̂(S)^2 with f̂(S) = 2^-n Σ_x (-1)^f(x) (-1)^{Σ_{i in S} x_i}, by direct sums."""
    n = len(points[0])
    m = len(points)
    low = min(min(p) for p in points)
    coords = [[1 if c != low else 0 for c in p] for p in points]
    total = 0.0
    for size in range(n + 1):
        for subset in itertools.combinations(range(n), size):
            coefficient = sum((-1) ** bits[i] * (-1) ** sum(coords[i][a] for a in subset) for i in range(m)) / m
            total += size * coefficient ** 2
    return total


def total_influence_reference(bits, points):
    """Σ_i Pr_x[f(x) != f(x with coordinate i flipped)] (points are bit vectors)."""
    index = {tuple(p): i for i, p in enumerate(points)}
    low = min(min(p) for p in points)
    high = max(max(p) for p in points)
    n = len(points[0])
    total = 0.0
    for a in range(n):
        flips = 0
        for i, p in enumerate(points):
            q = list(p)
            q[a] = high if q[a] == low else low
            flips += bits[i] != bits[index[tuple(q)]]
        total += flips / len(points)
    return total


def voronoi_reference(points, n_centres, seed):
    """One Voronoi labelling, drawn from stream ``seed`` as the kernel documents."""
    m = len(points)
    draws = raw_draws(seed, n_centres + (n_centres + 63) // 64)
    order = list(range(m))
    for t in range(n_centres):
        j = t + below(draws[t], m - t)
        order[t], order[j] = order[j], order[t]
    labels = [(draws[n_centres + t // 64] >> (t % 64)) & 1 for t in range(n_centres)]
    bits = []
    for i in range(m):
        dists = [sum((a - b) ** 2 for a, b in zip(points[i], points[order[t]])) for t in range(n_centres)]
        nearest = [t for t in range(n_centres) if dists[t] == min(dists)]
        winner = min(nearest, key=lambda t: int(stream_seed(np.uint64(seed), i, t)))
        bits.append(labels[winner])
    return bits


def tree_reference(points, depth, seed):
    """One random complete decision tree's outputs, drawn as the kernel documents."""
    d = len(points[0])
    n_internal = 2 ** depth - 1
    draws = raw_draws(seed, 2 * n_internal + (2 ** depth + 63) // 64)
    lows = [min(p[a] for p in points) for a in range(d)]
    highs = [max(p[a] for p in points) for a in range(d)]
    nodes = {}
    for node in range(1, n_internal + 1):
        feature = below(draws[2 * (node - 1)], d)
        unit = (draws[2 * node - 1] >> 11) / 2.0 ** 53
        nodes[node] = (feature, lows[feature] + unit * (highs[feature] - lows[feature]))
    bits = []
    for p in points:
        node = 1
        for _ in range(depth):
            feature, threshold = nodes[node]
            node = 2 * node if p[feature] <= threshold else 2 * node + 1
        leaf = node - 2 ** depth
        bits.append((draws[2 * n_internal + leaf // 64] >> (leaf % 64)) & 1)
    return bits


def gp_reference(chol, seed):
    """GP values L z in float64 for the normals z of stream ``seed``; output bit is value > 0."""
    z = np.empty(chol.shape[0], dtype=np.float32)
    fill_normal(np.uint64(seed), z, np.float32(1.0))
    return np.tril(chol) @ z.astype(np.float64)


def _pick(cumulative, draw):
    target = below(draw, int(cumulative[-1]))
    return next(k for k, c in enumerate(cumulative) if c > target)


def fixed_ones_reference(m, cumulative, seed):
    """One fixed-ones sample, drawn as the kernel documents."""
    draws = raw_draws(seed, 1 + m // 2)
    t = _pick(cumulative, draws[0])
    chosen = min(t, m - t)
    order = list(range(m))
    for k in range(chosen):
        j = k + below(draws[1 + k], m - k)
        order[k], order[j] = order[j], order[k]
    value = 1 if chosen == t else 0
    bits = [1 - value] * m
    for position in order[:chosen]:
        bits[position] = value
    return bits


def shuffled_reference(reference_bits, cumulative, seed):
    """One shuffled sample: a reference function with its inputs permuted, as the kernel documents."""
    m = len(reference_bits[0])
    draws = raw_draws(seed, m)
    row = reference_bits[_pick(cumulative, draws[0])]
    perm = list(range(m))
    for i in range(m - 1, 0, -1):
        j = below(draws[m - i], i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return [row[perm[i]] for i in range(m)]
