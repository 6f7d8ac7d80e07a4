"""The package's layers keep the data flow of DESIGN.md: who may import whom, and no cycle.

The rules are checked on the source of the installed package (every import statement,
at module level or inside functions), so a new module is held to them without a line here.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import nwbmotor

#: The layer of a module is its first folder below nwbmotor ("core" for the root modules).
#: Each layer may import the layers listed here (and itself). The root's modules other
#: than the front door (``_errors``, ``_lazy``, ``_io``, ``_write``, ``_jobs``) are "front".
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "methods": {"core"},
    "models": {"core", "methods"},
    "analysis": {"core", "methods"},
    # conversion drives the converters (builds and aligns a session's interfaces)
    "conversion": {"core", "methods", "converters", "extensions"},
    "converters": {"core", "methods", "conversion", "extensions", "models"},
    "extensions": {"core"},
    "sharing": {"core", "conversion", "extensions"},
    "views": {"core", "methods", "extensions"},
    "workflows": {"core", "methods", "models", "analysis", "conversion", "converters", "extensions",
                  "sharing", "views", "testing"},
    "testing": {"core", "methods", "models", "analysis", "conversion", "converters", "extensions",
                "sharing", "views"},
    "front": {"core", "methods", "models", "analysis", "conversion", "converters", "extensions", "sharing",
              "views", "workflows", "testing"},
}
NO_NWB = {"methods": ("pynwb", "hdmf", "h5py", "xarray", "zarr"), "analysis": ("pynwb", "hdmf", "h5py", "zarr"),
          "models": ("pynwb", "hdmf", "h5py", "zarr")}
CORE = {"nwbmotor._errors", "nwbmotor._lazy", "nwbmotor._io", "nwbmotor._write", "nwbmotor._jobs",
        "nwbmotor._hdf5_guard", "nwbmotor._safe_yaml"}


def _modules() -> dict[str, Path]:
    out = {}
    for info in pkgutil.walk_packages(nwbmotor.__path__, prefix="nwbmotor."):
        if "ndx-motor-learning" in info.name:
            continue
        spec = importlib.util.find_spec(info.name)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            out[info.name] = Path(spec.origin)
    return out


MODULES = _modules()


def _layer(module: str) -> str:
    parts = module.split(".")
    if module == "nwbmotor" or module in CORE:
        return "core"
    if parts[1].startswith("_"):
        return "front"
    return parts[1]


def _imports(module: str, path: Path) -> list[str]:
    """Absolute names of every module imported by ``module`` (``from pkg import name`` counts as pkg.name if a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    type_checking_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in ast.walk(node):
                type_checking_lines.add(getattr(sub, "lineno", -1))
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in type_checking_lines:
            continue
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES)
    return names


def test_every_layer_is_found() -> None:
    assert {"methods", "analysis", "models", "conversion", "converters", "sharing", "views", "workflows",
            "testing"} <= {_layer(m) for m in MODULES}


@pytest.mark.parametrize("layer", sorted(NO_NWB))
def test_compute_layers_import_no_nwb_library(layer: str) -> None:
    bad = [(m, i) for m, p in MODULES.items() if _layer(m) == layer for i in _imports(m, p)
           if i.split(".")[0] in NO_NWB[layer]]
    assert not bad, f"{layer} must not import {NO_NWB[layer]}: {bad}"


def test_layers_import_only_the_layers_below() -> None:
    bad = []
    for m, p in MODULES.items():
        mine = _layer(m)
        for i in _imports(m, p):
            if not i.startswith("nwbmotor.") or i in ("nwbmotor",):
                continue
            target = _layer(".".join(i.split(".")[:3]) if i.count(".") >= 2 else i)
            if target != mine and target not in ALLOWED[mine]:
                bad.append(f"{m} ({mine}) imports {i} ({target})")
    assert not bad, "\n".join(bad)


def test_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for m, p in MODULES.items():
        for i in _imports(m, p):
            while i and i not in MODULES:
                i = i.rpartition(".")[0]
            if i and i != m and not i.endswith("__init__") and not MODULES[i].name == "__init__.py":
                graph[m].add(i)
    # iterative DFS for a cycle among non-package modules
    colour: dict[str, int] = {}
    stack_path: list[str] = []

    def visit(start: str) -> list[str] | None:
        todo = [(start, iter(sorted(graph[start])))]
        colour[start] = 1
        stack_path.append(start)
        while todo:
            node, children = todo[-1]
            for child in children:
                if colour.get(child, 0) == 1:
                    return stack_path[stack_path.index(child):] + [child]
                if colour.get(child, 0) == 0:
                    colour[child] = 1
                    stack_path.append(child)
                    todo.append((child, iter(sorted(graph[child]))))
                    break
            else:
                colour[node] = 2
                stack_path.pop()
                todo.pop()
        return None

    for m in sorted(graph):
        if colour.get(m, 0) == 0:
            cycle = visit(m)
            assert cycle is None, "import cycle: " + " -> ".join(cycle)
