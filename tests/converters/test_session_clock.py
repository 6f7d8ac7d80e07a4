"""Imaging, lever and trials end up on one session clock (the acquisition board's)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwbmotor import convert, open_session
from nwbmotor.testing import DemoDataset, assert_valid_nwb


@pytest.fixture(scope="module")
def converted(small_demo: DemoDataset, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    result = convert(small_demo.spec_path, output_dir=tmp_path_factory.mktemp("nwb"), progress=False)
    assert result.ok, result.summary()
    return result.paths


def _frame_pulses(small_demo: DemoDataset, subject: str, session: str) -> np.ndarray:
    from nwbmotor.converters.lever import XsglogLeverInterface

    folder = small_demo.root / "rig" / subject / session
    return XsglogLeverInterface(folder).frame_times()


def test_movie_and_traces_start_at_the_frame_pulses(small_demo: DemoDataset, converted: list[Path]) -> None:
    path = converted[0]
    pulses = _frame_pulses(small_demo, "AP071", "day01")
    assert pulses[0] > 0.5  # the microscope starts well after the acquisition board
    with NWBHDF5IO(path, "r") as io:
        nwbfile = io.read()
        movie = next(iter(nwbfile.acquisition.values()))
        n = movie.data.shape[0]
        np.testing.assert_allclose(movie.get_timestamps()[:n], pulses[:n], atol=0.5 / movie.rate)
        dff = nwbfile.processing["ophys"]["DfOverF"]
        series = next(iter(dff.roi_response_series.values()))
        np.testing.assert_allclose(series.get_timestamps()[:n], pulses[:n], atol=0.5 / movie.rate)
    assert_valid_nwb(path)


def test_view_puts_activity_and_lever_on_one_clock(small_demo: DemoDataset, converted: list[Path]) -> None:
    ds = open_session(converted[0])
    pulses = _frame_pulses(small_demo, "AP071", "day01")
    assert abs(float(ds["time"][0]) - pulses[0]) < 0.02
    assert float(ds["time_behavior"][0]) == 0.0
    onsets = ds["movement_onset"].values
    finite = onsets[np.isfinite(onsets)]
    assert finite.size and np.all((finite > float(ds["time"][0])) & (finite < float(ds["time"][-1])))
