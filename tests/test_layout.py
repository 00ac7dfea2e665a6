"""The package's floor plan: no import cycles, kernels import nothing above them, the CLI stays thin."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pysimbias"


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _resolve(importer, is_package, level, module):
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([module] if module else []))


def _imports(name, path, modules):
    """pysimbias modules that module ``name`` imports anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            target = (_resolve(name, path.name == "__init__.py", node.level, node.module) if node.level
                      else node.module or "")
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module in modules and module != name}


def _graph():
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_package_has_no_import_cycle():
    graph = _graph()
    assert "pysimbias.priors.nulls" in graph and graph["pysimbias.config"], "the import graph was not read"
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_cycles():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("folder", ["kernels"])
def test_kernels_import_nothing_above_them(folder):
    graph = _graph()
    inside = f"pysimbias.{folder}"
    kernels = [name for name in graph if name.startswith(inside)]
    assert len(kernels) > 5
    for name in kernels:
        above = sorted(dep for dep in graph[name] if not dep.startswith(inside))
        assert not above, f"{name} imports {above}"


def test_the_cli_reaches_the_kernels_only_through_the_api():
    modules = _modules()
    imported = _imports("cli", ROOT / "cli.py", modules)
    assert "pysimbias" in imported
    assert not [name for name in imported if name.startswith("pysimbias.kernels")]
