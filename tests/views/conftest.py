"""Session files for the view tests, written once per test session by the public generators.

The lab session is planted, written as the lab's raw files and converted by nwbmotor's
own converters (``nwbmotor.testing.write_lab_session``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nwbmotor.testing import (
    LabSessionTruth,
    write_foreign_ophys_session,
    write_lab_session,
    write_model_session_file,
)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> LabSessionTruth:
    """A 24-ROI, 12-trial (~90 s) converted lab session with light trials; ROI 3 is dead (dF/F invalid)."""
    path = tmp_path_factory.mktemp("lab") / "sub-AP071_ses-day01.nwb"
    return write_lab_session(path, n_rois=24, n_trials=12, seed=3, invalid_rois=(3,), opto_fraction=0.4)


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30-unit toy centre-out model session, 16 trials of 1 s laid end to end."""
    path = tmp_path_factory.mktemp("model") / "model.nwb"
    return write_model_session_file(path, n_units=30, n_targets=8, n_repeats=2, n_steps=100)


@pytest.fixture(scope="session")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """Files in the layouts of other tools (bare pynwb, NeuroConv Suite2p), by layout name."""
    folder = tmp_path_factory.mktemp("foreign")
    out = {}
    for layout in ("suite2p-classic", "suite2p-single-container", "pynwb-timestamps"):
        path = folder / f"{layout}.nwb"
        out[layout] = (path, write_foreign_ophys_session(path, layout=layout, seed=7))
    return out
