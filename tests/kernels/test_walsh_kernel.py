"""The Walsh-spectrum kernel against direct sums over the cube."""

import numpy as np
import pytest

from pysimbias.inputs.encodings import make_encoding
from pysimbias.kernels.bits import pack_bits
from pysimbias.kernels.walsh import walsh_degree_weights


def walsh_weights_reference(bits, vertices, n):
    """Σ_{|S|=k} F̂(S)^2, F = (-1)^f on the cube, by direct sums."""
    sign = {int(v): 1 - 2 * int(b) for v, b in zip(vertices, bits)}
    weights = [0.0] * (n + 1)
    for s in range(1 << n):
        coefficient = sum(sign[x] * (-1) ** bin(s & x).count("1") for x in range(1 << n)) / (1 << n)
        weights[bin(s).count("1")] += coefficient ** 2
    return weights


@pytest.mark.parametrize("encoding, n", [("binary", 1), ("binary", 4), ("gray", 4), ("permuted:1", 4),
                                         ("pm1", 7)])
def test_kernel_matches_direct_sums(encoding, n):
    enc = make_encoding(encoding, n)
    bits = np.random.default_rng(n).integers(0, 2, (12, enc.m)).astype(bool)
    parity = np.array([bin(int(v)).count("1") % 2 for v in enc.vertices], dtype=bool)
    bits = np.vstack([bits, np.zeros(enc.m, bool), np.ones(enc.m, bool), parity])
    fast = walsh_degree_weights(pack_bits(bits), enc.vertices, n)
    np.testing.assert_allclose(fast, [walsh_weights_reference(row, enc.vertices, n) for row in bits], atol=1e-12)
    assert fast[-3].tolist() == fast[-2].tolist() == [1.0] + [0.0] * n   # constants: all weight at degree 0
    assert fast[-1].tolist() == [0.0] * n + [1.0]                         # parity of all bits: degree n


def hadamard_weights(bits, vertices, n):
    """W_k by a dense Sylvester–Hadamard matrix product in integers, divided by m² once (exact)."""
    m = 1 << n
    hadamard = np.ones((1, 1), dtype=np.int64)
    for _ in range(n):
        hadamard = np.block([[hadamard, hadamard], [hadamard, -hadamard]])
    signs = np.empty((bits.shape[0], m), dtype=np.int64)
    signs[:, vertices] = 1 - 2 * bits.astype(np.int64)
    degree = np.array([bin(s).count("1") for s in range(m)])
    squares = (signs @ hadamard.T) ** 2
    return np.stack([np.bincount(degree, row, minlength=n + 1) for row in squares]) / float(m * m)


@pytest.mark.parametrize("n", [0, 1, 3, 6, 7, 8, 9, 10])
@pytest.mark.parametrize("order", ["counting", "shuffled"])
def test_both_transforms_equal_dense_hadamard_exactly(n, order):
    """The parity-table path (n <= 8) and the fast transform (n > 8) give the exact weights, in any vertex order."""
    m = 1 << n
    vertices = np.arange(m) if order == "counting" else np.random.default_rng(n).permutation(m)
    generator = np.random.default_rng(100 + n)
    bits = np.vstack([np.zeros(m, bool), np.ones(m, bool), np.arange(m) % 2 == 1,
                      generator.random((20, m)) < generator.random((20, 1))])
    np.testing.assert_array_equal(walsh_degree_weights(pack_bits(bits), vertices, n),
                                  hadamard_weights(bits, vertices, n))


@pytest.mark.parametrize("n", [0, 3, 7, 9])
def test_count_weighted_totals_are_exact_integers(n):
    """Σ_f c_f m² W_k(f) by the kernel equals the dense Hadamard weights' integers, counts large or small."""
    from pysimbias.kernels.walsh import walsh_degree_totals

    m = 1 << n
    generator = np.random.default_rng(200 + n)
    bits = np.vstack([np.zeros(m, bool), generator.random((2500, m)) < 0.5])
    counts = generator.integers(1, 1000, bits.shape[0])
    integers = np.rint(hadamard_weights(bits, np.arange(m), n) * m * m).astype(np.int64)
    want = [int(v) for v in counts @ integers]
    assert walsh_degree_totals(pack_bits(bits), counts, np.arange(m), n).tolist() == want


def test_spectrum_totals_split_rows_before_int64_overflows():
    """Counts whose weighted sums pass 2^63 are summed in pieces, exactly, as Python integers."""
    from pysimbias.measures.walsh import walsh_degree_totals, walsh_spectrum

    n, m = 3, 8
    bits = np.random.default_rng(5).random((40, m)) < 0.5
    # rows of 2^57 (times m² = 64: 2^63 alone) among runs of rows of 2^53 (a few fit in one kernel call)
    counts = np.where(np.arange(40) % 7 == 0, 2 ** 57, 2 ** 53).astype(np.int64)
    integers = np.rint(hadamard_weights(bits, np.arange(m), n) * m * m).astype(np.int64)
    want = [sum(int(c) * int(v) for c, v in zip(counts, column)) for column in integers.T]
    assert walsh_degree_totals(pack_bits(bits), counts, np.arange(m), n) == want
    samples = sum(int(c) for c in counts)
    assert walsh_spectrum(pack_bits(bits), counts, np.arange(m), n)["prior"] == [w / (samples * 64) for w in want]
