"""A random k-junta: a uniformly random function of K randomly chosen input bits.

Sample j of a chunk with key ``(key0, key1)`` uses the generator
``numpy.random.Generator(numpy.random.Philox(stream_seed(key0, key1, j)))``
and nothing else: it picks K distinct coordinates, then a fair random truth
table on them, so samples are independent of chunking and threads.  A
1-junta gives the 2 constant functions and the 2n dictators and
anti-dictators; an n-junta is the counting measure.
"""

import numpy as np

from pysimbias.checks import check_int
from pysimbias.errors import InvalidParameterError
from pysimbias.kernels.bits import n_words, pack_bits
from pysimbias.kernels.rng import stream_seed
from pysimbias.priors import Param, register_prior


class JuntaPrior:
    """Uniformly random functions of ``relevant_bits`` random input coordinates."""

    def __init__(self, config, encoding):
        if encoding.n is None:
            raise InvalidParameterError("encoding", "junta needs bit-vector inputs (binary, pm1, gray, permuted)")
        if config.relevant_bits > encoding.n:
            raise InvalidParameterError("relevant_bits", f"must be at most the number of input bits, {encoding.n}")
        self.m = encoding.m
        self.n_words = n_words(self.m)
        self.k = int(config.relevant_bits)
        shifts = np.arange(encoding.n - 1, -1, -1, dtype=np.int64)
        self.bits = (encoding.vertices[:, None] >> shifts) & 1  # (m, n): coordinate c of input i

    def sample_chunk(self, key, count):
        """Packed functions of the first ``count`` samples of chunk ``key``."""
        functions = np.empty((int(count), self.m), dtype=bool)
        weights = np.int64(1) << np.arange(self.k - 1, -1, -1, dtype=np.int64)
        for j in range(int(count)):
            rng = np.random.Generator(np.random.Philox(int(stream_seed(key[0], key[1], j))))
            coordinates = rng.choice(self.bits.shape[1], size=self.k, replace=False)
            table = rng.integers(0, 2, size=1 << self.k).astype(bool)
            functions[j] = table[self.bits[:, coordinates] @ weights]
        return pack_bits(functions)

    def describe(self):
        """Manifest entry."""
        return {"name": "junta", "relevant_bits": self.k}


register_prior("junta", JuntaPrior, "a uniformly random function of --relevant-bits random input bits", params=(
    Param("relevant_bits", 2, lambda v: check_int(v, "relevant_bits", 0, 16),
          "Input bits a junta depends on (0 to 16).", int),
))
