"""The code-generation target: 512-bit vectors on AVX-512 CPUs, and results that do not depend on the width."""

import os
import subprocess
import sys

import pytest
from numba.core import codegen

from pysimbias import kernels

#: Hashes every vectorized kernel's output on fixed inputs: the normal
#: generator, the float32 activations, the default measures of random
#: functions on the 7-cube.
_OUTPUTS = """
import hashlib
import numpy as np
from pysimbias.kernels import rng
from pysimbias.kernels.activations import ACTIVATIONS, activation32
from pysimbias.measures import MeasureContext, compute_measures

digest = hashlib.sha256()
out = np.empty(100_003, dtype=np.float32)
for seed in (0, 1, 2**63 + 5):
    rng.fill_normal(np.uint64(seed), out, np.float32(1.0))
    digest.update(out.tobytes())
x = np.linspace(-12.0, 12.0, 200_001, dtype=np.float32)
for code in ACTIVATIONS.values():
    digest.update(activation32(x, code).tobytes())
keys = np.random.default_rng(7).integers(0, 2**63, size=(5_000, 2), dtype=np.uint64)
for name, values in compute_measures(keys, MeasureContext(m=128, n=7)).items():
    digest.update(name.encode() + np.ascontiguousarray(values).tobytes())
print(digest.hexdigest())
"""


def test_full_width_vectors_only_on_avx512(monkeypatch):
    monkeypatch.setattr(kernels.codegen, "get_host_cpu_features", lambda: "+avx,+avx2,-avx512f")
    environ = {}
    assert not kernels.full_width_vectors(environ)
    assert environ == {}
    monkeypatch.setattr(kernels.codegen, "get_host_cpu_features", lambda: "+avx2,+avx512f")
    assert kernels.full_width_vectors(environ)
    assert environ == {"NUMBA_CPU_FEATURES": "+avx2,+avx512f,-prefer-256-bit"}


@pytest.mark.parametrize("name", ["NUMBA_CPU_FEATURES", "NUMBA_CPU_NAME"])
def test_full_width_vectors_keeps_the_users_choice(monkeypatch, name):
    monkeypatch.setattr(kernels.codegen, "get_host_cpu_features", lambda: "+avx2,+avx512f")
    environ = {name: "generic"}
    assert not kernels.full_width_vectors(environ)
    assert environ == {name: "generic"}


@pytest.mark.slow
@pytest.mark.skipif("+avx512f" not in codegen.get_host_cpu_features().split(","),
                    reason="the vector width only changes on an AVX-512 CPU")
def test_results_do_not_depend_on_the_vector_width(tmp_path):
    """The same outputs, byte for byte, with 512-bit vectors and with LLVM's default 256-bit preference."""
    assert "-prefer-256-bit" in os.environ.get("NUMBA_CPU_FEATURES", "")
    digests = []
    for cpu_name in (None, codegen.ll.get_host_cpu_name()):
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CPU")}
        if cpu_name is not None:  # naming the CPU keeps LLVM's tuning, 256-bit vectors included
            env["NUMBA_CPU_NAME"] = cpu_name
        env["NUMBA_CACHE_DIR"] = str(tmp_path / ("default" if cpu_name is None else "named"))
        done = subprocess.run([sys.executable, "-c", _OUTPUTS], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        digests.append(done.stdout.strip())
    assert len(digests[0]) == 64
    assert digests[0] == digests[1]
