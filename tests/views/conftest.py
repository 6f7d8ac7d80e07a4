"""Session files for the view tests, written once per test session by the public generators."""

from __future__ import annotations

from pathlib import Path

import pytest

from nwbmotor.testing import (
    LabSessionTruth,
    simulate_lab_session,
    write_foreign_ophys_session,
    write_lab_session,
    write_model_session_file,
)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> LabSessionTruth:
    """A 24-ROI, 90 s lab session with dF/F, fluorescence and deconvolved traces; ROI 3 has a NaN stretch."""
    path = tmp_path_factory.mktemp("lab") / "sub-AP071_ses-day01.nwb"
    truth = simulate_lab_session(n_rois=24, duration=90.0, seed=3, nan_rois=(3,), fraction_opto=0.4)
    return write_lab_session(path, truth=truth, activity=("dff", "fluorescence", "deconvolved"))


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
