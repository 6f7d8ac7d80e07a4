from __future__ import annotations

from pathlib import Path

import pytest

from nwbmotor.testing import DemoDataset, write_demo_dataset


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoDataset:
    """One mouse with light trials, two short sessions, in the rig's formats."""
    root: Path = tmp_path_factory.mktemp("demo")
    return write_demo_dataset(root, n_mice=2, n_sessions=2, n_trials=10, n_cells=16, image_shape=(64, 64))
