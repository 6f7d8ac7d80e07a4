"""ROI tables linked to the session's movie: same field, same frames, the movie's frame times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.conversion import get_interface_class
from nwbmotor.converters.segmentation import LabRoisInterface, Suite2pInterface
from nwbmotor.testing import (
    mock_nwbfile,
    write_lab_roi_session,
    write_scanimage_session,
    write_suite2p_plane,
)


@pytest.fixture(scope="module")
def movie(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("si4")
    write_scanimage_session(folder, n_frames=120, shape=(64, 64), frame_rate=28.0)
    return get_interface_class("scanimage")(folder)


def test_traces_take_the_movies_frame_times(movie, tmp_path: Path) -> None:
    write_suite2p_plane(
        tmp_path / "plane0", n_rois=4, n_frames=120, image_shape=(64, 64), frame_rate=30.0
    )
    segmentation = Suite2pInterface(tmp_path / "plane0")
    segmentation.link_session({"scanimage": movie, "suite2p": segmentation})
    nwbfile = mock_nwbfile()
    segmentation.add_to_nwbfile(nwbfile, segmentation.get_metadata())
    times = movie.get_timestamps()
    for container in ("Fluorescence", "DfOverF", "Deconvolved"):
        series = nwbfile.processing["ophys"][container]["RoiResponseSeries"]
        if series.timestamps is not None:
            np.testing.assert_allclose(series.timestamps, times)
        else:
            assert series.starting_time == pytest.approx(times[0])
            assert series.rate == pytest.approx(1 / np.mean(np.diff(times)))
            assert series.rate != 30.0  # not ops['fs']


def test_frame_count_differs_from_the_movie(movie, tmp_path: Path) -> None:
    write_suite2p_plane(tmp_path / "plane0", n_rois=4, n_frames=100, image_shape=(64, 64))
    segmentation = Suite2pInterface(tmp_path / "plane0")
    with pytest.raises(
        NwbMotorValueError, match=r"F\.npy: 100 frames, the session's 'scanimage' movie has 120"
    ):
        segmentation.link_session({"scanimage": movie, "suite2p": segmentation})


def test_roi_image_size_differs_from_the_movie(movie, tmp_path: Path) -> None:
    truth = write_lab_roi_session(tmp_path, n_rois=3, image_shape=(128, 128), n_frames=10)
    segmentation = LabRoisInterface(truth["roi_path"], image_shape=(128, 128))
    with pytest.raises(
        NwbMotorValueError,
        match=r"AP071_140301\.roi: the ROIs are on a 128 × 128 image, the session's 'scanimage' movie has 64 × 64",
    ):
        segmentation.link_session({"scanimage": movie, "lab_rois": segmentation})


@pytest.mark.parametrize(
    ("n_channels", "n_planes", "folder", "expected"),
    [
        (1, 1, "plane0", None),
        (2, 1, "plane0", "ImagingPlaneGreen"),
        (1, 3, "plane1", "ImagingPlanePlane1"),
        (2, 2, "plane1", "ImagingPlaneGreenPlane1"),
    ],
)
def test_rois_go_to_the_movies_plane_of_their_folder(
    tmp_path: Path, n_channels: int, n_planes: int, folder: str, expected: str | None
) -> None:
    from neuroconv import ConverterPipe
    from neuroconv.utils import dict_deep_update

    from nwbmotor.testing import mock_metadata

    write_scanimage_session(
        tmp_path / "si", n_frames=30, shape=(32, 32), frame_rate=28.0, n_channels=n_channels, n_planes=n_planes
    )
    write_suite2p_plane(tmp_path / "suite2p" / folder, n_rois=3, n_frames=30, image_shape=(32, 32), frame_rate=28.0)
    movie = get_interface_class("scanimage")(tmp_path / "si")
    segmentation = Suite2pInterface(tmp_path / "suite2p" / folder)
    interfaces = {"scanimage": movie, "suite2p": segmentation}
    segmentation.link_session(interfaces)
    assert segmentation.imaging_plane_name == expected
    pipe = ConverterPipe(data_interfaces=interfaces)
    nwbfile = pipe.create_nwbfile(metadata=dict_deep_update(pipe.get_metadata(), mock_metadata()))
    rois = nwbfile.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
    assert rois.imaging_plane.name == (expected or "ImagingPlane")
    assert len(nwbfile.imaging_planes) == n_channels * n_planes  # no plane of the ROIs' own


def test_multi_plane_movie_needs_the_rois_plane(tmp_path: Path) -> None:
    write_scanimage_session(tmp_path / "si", n_frames=30, shape=(32, 32), n_planes=2)
    truth = write_lab_roi_session(tmp_path / "rois", n_rois=3, image_shape=(32, 32), n_frames=10)
    movie = get_interface_class("scanimage")(tmp_path / "si")
    segmentation = LabRoisInterface(truth["roi_path"], image_shape=(32, 32))
    with pytest.raises(
        NwbMotorValueError,
        match=r"\.roi: the session's 'scanimage' movie has 2 planes \(ImagingPlanePlane0, ImagingPlanePlane1\); "
        r"pass imaging_plane_name=",
    ):
        segmentation.link_session({"scanimage": movie, "lab_rois": segmentation})
    named = LabRoisInterface(truth["roi_path"], image_shape=(32, 32), imaging_plane_name="ImagingPlanePlane1")
    named.link_session({"scanimage": movie, "lab_rois": named})
    assert named.imaging_plane_name == "ImagingPlanePlane1"
