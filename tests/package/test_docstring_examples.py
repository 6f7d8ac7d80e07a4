"""Every docstring example in the installed package runs and prints what it says.

The modules are found by walking the installed ``nwbmotor`` package, so a new module's
examples are checked without a line here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import nwbmotor


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(nwbmotor.__path__, prefix="nwbmotor."):
        if info.name.endswith("__main__") or ".extensions.ndx-motor-learning" in info.name:
            continue
        names.append(info.name)
    return sorted(names)


MODULES = _modules()


def test_the_walk_finds_every_layer() -> None:
    layers = {name.split(".")[1] for name in MODULES}
    assert {"methods", "conversion", "sharing", "views", "analysis", "models", "workflows", "testing",
            "converters"} <= layers


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(mod, module, globs={"np": np, **vars(mod)}):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {module} failed (output above)"
