"""One Suite2p folder through nwbmotor and through NeuroConv: the same ROI coordinates.

NeuroConv's ``Suite2pSegmentationInterface`` writes Suite2p's ``ypix`` as the pixel mask's
``x`` (NWB's first image axis) and ``xpix`` as ``y``; nwbmotor writes the same, and the
session view reads ``unit_x`` / ``unit_y`` from those fields, scaled by the imaging plane's
``grid_spacing`` (x, y). The image is not square and the two spacings differ, so a swap of
the axes or of the spacings changes every value.
"""

from __future__ import annotations

import copy
from pathlib import Path

import h5py
import numpy as np
import pytest
from neuroconv import NWBConverter
from neuroconv.datainterfaces import Suite2pSegmentationInterface

from nwbmotor.converters.segmentation import Suite2pInterface
from nwbmotor.testing import assert_valid_nwb, mock_metadata, write_suite2p_plane
from nwbmotor.views import open_session

SHAPE = (40, 72)  # (Ly, Lx): rows, columns
GRID_SPACING_M = [2.0e-6, 0.5e-6]  # NWB (x, y): between rows, between columns

PLANE = {
    "name": "ImagingPlane",
    "description": "Layer 2/3 of the caudal forelimb area, 80 x 36 um.",
    "device_metadata_key": "scope",
    "excitation_lambda": 925.0,
    "indicator": "GCaMP6f",
    "location": "MOp",
    "imaging_rate": 30.0,
    "grid_spacing": GRID_SPACING_M,
    "grid_spacing_unit": "meters",
    "optical_channel": [{"name": "Green", "description": "GCaMP emission.", "emission_lambda": 510.0}],
}
DEVICES = {"scope": {"name": "Microscope", "description": "Two-photon microscope."}}


class _Nwbmotor(NWBConverter):
    data_interface_classes = {"rois": Suite2pInterface}


class _NeuroConv(NWBConverter):
    data_interface_classes = {"rois": Suite2pSegmentationInterface}


def _metadata(converter: NWBConverter, plane_key: str | None) -> dict:
    metadata = converter.get_metadata()
    for level, values in mock_metadata().items():
        metadata.setdefault(level, {}).update(values)
    metadata["Devices"] = copy.deepcopy(DEVICES)
    ophys = metadata.setdefault("Ophys", {})
    if plane_key is None:  # nwbmotor: the plane under its own name
        ophys["ImagingPlanes"] = {"ImagingPlane": copy.deepcopy(PLANE)}
    else:  # NeuroConv: its segmentation's own plane entry, told the same
        ophys["ImagingPlanes"] = {plane_key: copy.deepcopy(PLANE)}
        for entry in ophys["PlaneSegmentations"].values():
            entry["imaging_plane_metadata_key"] = plane_key
    return metadata


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, Path]:
    root = tmp_path_factory.mktemp("s2p-both")
    truth = write_suite2p_plane(root / "suite2p" / "plane0", n_rois=8, n_frames=90, image_shape=SHAPE, seed=3)
    ours = _Nwbmotor(source_data={"rois": {"folder_path": str(truth["folder"])}})
    theirs = _NeuroConv(source_data={"rois": {"folder_path": str(root / "suite2p")}})
    key = theirs.data_interface_objects["rois"].metadata_key
    ours.run_conversion(nwbfile_path=str(root / "nwbmotor.nwb"), metadata=_metadata(ours, None))
    theirs.run_conversion(nwbfile_path=str(root / "neuroconv.nwb"), metadata=_metadata(theirs, key))
    return truth, root / "nwbmotor.nwb", root / "neuroconv.nwb"


def _planted_centroids_um(truth: dict) -> tuple[np.ndarray, np.ndarray]:
    """Weighted centroid of each planted mask in NWB's (x = row, y = column), in µm."""
    x, y = [], []
    for roi in truth["stat"]:
        w = np.asarray(roi["lam"], dtype=np.float64)
        x.append(np.sum(np.asarray(roi["ypix"]) * w) / w.sum() * GRID_SPACING_M[0] * 1e6)
        y.append(np.sum(np.asarray(roi["xpix"]) * w) / w.sum() * GRID_SPACING_M[1] * 1e6)
    return np.array(x), np.array(y)


def test_both_files_hold_the_same_pixel_masks(converted: tuple[dict, Path, Path]) -> None:
    truth, ours, theirs = converted
    assert_valid_nwb(ours)
    path = "processing/ophys/ImageSegmentation/PlaneSegmentation"
    with h5py.File(ours) as a, h5py.File(theirs) as b:
        np.testing.assert_array_equal(a[f"{path}/pixel_mask_index"][()], b[f"{path}/pixel_mask_index"][()])
        mine, neuroconv = a[f"{path}/pixel_mask"][()], b[f"{path}/pixel_mask"][()]
        np.testing.assert_array_equal(mine["x"], neuroconv["x"])
        np.testing.assert_array_equal(mine["y"], neuroconv["y"])
        np.testing.assert_allclose(mine["weight"], neuroconv["weight"], rtol=1e-6)
        # the planted truth: x is Suite2p's ypix, y its xpix
        first = int(a[f"{path}/pixel_mask_index"][0])
        np.testing.assert_array_equal(mine["x"][:first], truth["stat"][0]["ypix"])
        np.testing.assert_array_equal(mine["y"][:first], truth["stat"][0]["xpix"])


def test_views_of_both_conversions_give_the_planted_coordinates(converted: tuple[dict, Path, Path]) -> None:
    truth, ours, theirs = converted
    expected_x, expected_y = _planted_centroids_um(truth)
    for path in (ours, theirs):
        ds = open_session(path)
        assert ds["unit_x"].attrs["units"] == "um" and ds["unit_y"].attrs["units"] == "um"
        np.testing.assert_allclose(ds["unit_x"].values, expected_x, rtol=1e-6)
        np.testing.assert_allclose(ds["unit_y"].values, expected_y, rtol=1e-6)
    a, b = open_session(ours), open_session(theirs)
    np.testing.assert_allclose(a["unit_x"].values, b["unit_x"].values, rtol=1e-9)
    np.testing.assert_allclose(a["unit_y"].values, b["unit_y"].values, rtol=1e-9)


def test_movie_field_of_view_is_in_the_same_axis_order(tmp_path: Path) -> None:
    """The movie's dimension and field of view follow grid_spacing's (x, y) = (rows, columns)."""
    from nwbmotor.converters.imaging import TiffMovieInterface
    from nwbmotor.testing import SyntheticMovie, mock_nwbfile, write_tiff_movie

    path = write_tiff_movie(tmp_path / "m.tif", SyntheticMovie(n_frames=4, shape=SHAPE))
    movie = TiffMovieInterface(path, sampling_frequency=30.0, field_of_view_um=(72.0, 80.0))  # (wide, high)
    nwbfile = mock_nwbfile()
    movie.add_to_nwbfile(nwbfile, movie.get_metadata())
    series = nwbfile.acquisition["TwoPhotonSeries"]
    assert list(series.dimension) == [SHAPE[0], SHAPE[1]]
    np.testing.assert_allclose(series.imaging_plane.grid_spacing, [80e-6 / 40, 72e-6 / 72])
    np.testing.assert_allclose(series.field_of_view, [80e-6, 72e-6])
