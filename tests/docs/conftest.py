"""Shared by the documentation tests: the docs' files, and registries restored after each test."""

import importlib.util
import sys
from pathlib import Path

import pytest

from pysimbias.inputs.encodings import ENCODINGS
from pysimbias.learning import TASK_PARAMETERS
from pysimbias.measures import registry as measure_registry
from pysimbias.priors import PARAMETERS, PRIORS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"


def load_example(name):
    """A fresh copy of ``docs/examples/NAME.py`` (importing it registers what it defines)."""
    spec = importlib.util.spec_from_file_location(f"docs_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def registries():
    """Undo every registration a test makes, so that examples cannot leak into other tests."""
    tables = (PRIORS, PARAMETERS, ENCODINGS, TASK_PARAMETERS, measure_registry._REGISTRY)
    saved = [dict(table) for table in tables]
    path = list(sys.path)
    yield
    for table, copy in zip(tables, saved):
        table.clear()
        table.update(copy)
    sys.path[:] = path
    for example in EXAMPLES.glob("*.py"):
        sys.modules.pop(example.stem, None)
