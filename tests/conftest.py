"""Shared fixtures. Tests run against the installed nwbmotor (scripts/test.sh)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import nwbmotor
from nwbmotor.testing import DemoDataset, write_demo_dataset


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("NWBMOTOR_TEST_INSTALLED") == "1":
        where = Path(nwbmotor.__file__).resolve()
        if "site-packages" not in where.parts:
            raise pytest.UsageError(
                f"tests must run against the installed package, but nwbmotor was imported from {where}"
            )


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoDataset:
    """Two mice (one with light trials), two short sessions each, in the rig's formats."""
    root: Path = tmp_path_factory.mktemp("demo")
    return write_demo_dataset(root, n_mice=2, n_sessions=2, n_trials=10, n_cells=16, image_shape=(64, 64))
