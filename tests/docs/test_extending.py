"""The worked examples of docs/extending.md: a prior, an encoding and a measure, registered and used."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import pysimbias
from conftest import DOCS, EXAMPLES, ROOT, load_example
from pysimbias.errors import InvalidParameterError
from pysimbias.inputs.encodings import binary_points, make_encoding
from pysimbias.kernels.bits import pack_bits, unpack_bits
from pysimbias.measures import MeasureContext, compute_measures


def functions_of(run):
    """The sampled functions as a set of '0'/'1' strings."""
    return set(run.to_frame()["function"])


def juntas(n, k):
    """Every function of at most k of the n bits (the support of the k-junta prior), as text."""
    points = binary_points(n).astype(np.int64)
    found = set()
    for coordinates in np.array(np.meshgrid(*[range(n)] * k)).reshape(k, -1).T:
        index = points[:, coordinates] @ (1 << np.arange(k - 1, -1, -1)) if k else np.zeros(1 << n, np.int64)
        for table in range(1 << (1 << k)):
            found.add("".join(str((table >> int(i)) & 1) for i in index))
    return found


def test_every_example_file_is_on_the_page():
    page = (DOCS / "extending.md").read_text(encoding="utf-8")
    included = set(re.findall(r'--8<-- "([^"]+)"', page))
    assert included == {path.name for path in EXAMPLES.glob("*.py")}


def test_a_1_junta_gives_the_constants_dictators_and_anti_dictators(registries):
    load_example("junta_prior")
    n = 4
    run = pysimbias.sample(prior="junta", relevant_bits=1, n=n, samples=4_000, seed=0)
    points = binary_points(n).astype(int)
    dictators = {"".join(map(str, points[:, c])) for c in range(n)}
    anti = {"".join(str(1 - b) for b in points[:, c]) for c in range(n)}
    assert functions_of(run) == {"0" * 16, "1" * 16} | dictators | anti   # 2 + 2n functions
    frame = run.to_frame()
    constant = frame["function"].isin({"0" * 16, "1" * 16})
    assert abs(frame.loc[constant, "count"].sum() / 4_000 - 0.5) < 0.05   # a fair 2-entry table is constant half the time


def test_a_2_junta_stays_within_its_support_and_keeps_its_parameter(registries, tmp_path):
    load_example("junta_prior")
    run = pysimbias.sample(prior="junta", relevant_bits=2, n=3, samples=3_000, seed=5, threads=1)
    assert functions_of(run) <= juntas(3, 2)
    assert functions_of(run) == functions_of(pysimbias.sample(run.config.replace(seed=5), threads=2))
    assert run.config.to_dict()["relevant_bits"] == 2
    run.save(tmp_path / "junta", plots=False)
    assert pysimbias.load_run(tmp_path / "junta").config == run.config


@pytest.mark.parametrize("params, bad", [
    ({"relevant_bits": 20, "n": 5}, "relevant_bits"),
    ({"relevant_bits": 4, "n": 3}, "relevant_bits"),
    ({"relevant_bits": 1, "n": 3, "encoding": "gaussian:2"}, "encoding"),
])
def test_junta_rejects_bad_parameters(registries, params, bad):
    load_example("junta_prior")
    with pytest.raises(InvalidParameterError) as info:
        pysimbias.sample(prior="junta", samples=10, **params)
    assert info.value.param == bad


#: Runs ``pysimbias`` once per argument list in one fresh process that imports the junta example before
#: the command line; prints a JSON list of [exit status, stdout, stderr].
_CLI_AFTER_EXAMPLE = """
import contextlib, io, json, sys
sys.path.insert(0, sys.argv[1])
import junta_prior
import cli
results = []
for args in json.loads(sys.argv[2]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main(args)
        except SystemExit as exc:
            code = exc.code
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def test_a_prior_registered_before_the_command_line_gets_its_flag(registries, tmp_path):
    calls = [["sample", "--help"],
             ["sample", "--prior", "junta", "--relevant-bits", "1", "--n", "3", "--samples", "500", "--no-plots",
              "--out", str(tmp_path / "run")],
             ["sample", "--prior", "mlp", "--relevant-bits", "1", "--samples", "10", "--out", str(tmp_path / "no")]]
    process = subprocess.run([sys.executable, "-c", _CLI_AFTER_EXAMPLE, str(EXAMPLES), json.dumps(calls)], cwd=ROOT,
                             capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stderr
    helped, ran, refused = json.loads(process.stdout.splitlines()[-1])
    assert helped[0] == 0 and "--relevant-bits" in helped[1] and "junta:" in helped[1]
    assert ran[0] == 0, ran[2]
    load_example("junta_prior")     # to read the run here too
    assert len(pysimbias.load_run(tmp_path / "run").to_frame()) == 2 + 2 * 3
    assert refused[0] == 2
    assert "only --prior junta reads it" in refused[2] and not (tmp_path / "no").exists()


def test_the_thermometer_encoding_is_a_line(registries):
    load_example("thermometer_encoding")
    encoding = make_encoding("thermometer", 3)
    assert encoding.points.shape == (8, 7) and encoding.n is None
    distance = np.linalg.norm(encoding.points[:, None] - encoding.points[None, :], axis=2)
    steps = np.abs(np.subtract.outer(np.arange(8), np.arange(8)))
    assert np.allclose(distance, np.sqrt(steps))
    run = pysimbias.sample(prior="voronoi", centres=2, encoding="thermometer", n=4, samples=2_000, seed=0)
    assert run.graph.spec == "knn:4"
    # two centres on a line: every function changes value at most once along the counting order
    for text in functions_of(run):
        assert sum(a != b for a, b in zip(text, text[1:])) <= 1
    with pytest.raises(InvalidParameterError, match="malformed"):
        make_encoding("thermometer:3", 3)


def reference_sensitivity(bits, vertices, n):
    """Max over inputs of the cube neighbours with the other value, input by input."""
    by_vertex = np.empty_like(bits)
    by_vertex[:, vertices] = bits
    return np.array([max(sum(row[x] != row[x ^ (1 << c)] for c in range(n)) for x in range(row.size))
                     for row in by_vertex])


def test_sensitivity_matches_a_direct_count(registries):
    load_example("sensitivity_measure")
    n = 5
    encoding = make_encoding("permuted:2", n)
    context = MeasureContext.for_encoding(encoding, pysimbias.inputs.graphs.make_graph("auto", encoding))
    cube = encoding.points.astype(bool)
    named = np.stack([np.zeros(32, bool), cube[:, 0], cube.sum(axis=1) % 2 == 1])   # constant, dictator, parity
    random = np.random.default_rng(0).integers(0, 2, (50, 32)).astype(bool)
    keys = pack_bits(np.vstack([named, random]))
    values = compute_measures(keys, context, ["sensitivity"])["sensitivity"]
    assert values[:3].tolist() == [0, 1, n]
    assert values.tolist() == reference_sensitivity(unpack_bits(keys, 32), encoding.vertices, n).tolist()


def test_a_registered_measure_becomes_a_column(registries, tmp_path):
    load_example("sensitivity_measure")
    load_example("junta_prior")
    run = pysimbias.sample(prior="junta", relevant_bits=1, n=4, samples=1_000, seed=0)
    frame = run.to_frame()
    assert frame["sensitivity"].tolist() == [0 if len(set(text)) == 1 else 1 for text in frame["function"]]
    run.save(tmp_path / "saved", plots=False)
    assert "sensitivity" in pysimbias.load_run(tmp_path / "saved").to_frame().columns
