"""The lab's MATLAB ROI files into NWB: masks, labels, dF/F, and bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwbmotor import NwbMotorValueError, write_nwbfile
from nwbmotor.converters.segmentation import LabRoisInterface, read_roi_labels, read_roi_polygons
from nwbmotor.testing import (
    assert_valid_nwb,
    mock_nwbfile,
    write_lab_roi_session,
    write_roi_dff_file,
    write_roi_file,
    write_roilabel_file,
)

SHAPE = (128, 128)


def _rectangle(col0: int, row0: int, n_cols: int, n_rows: int) -> np.ndarray:
    """A polygon whose inside holds exactly the pixels rows row0.., cols col0.. (0-based)."""
    x0, y0 = col0 + 0.5, row0 + 0.5  # MATLAB: pixel (r, c) has its centre at (c + 1, r + 1)
    return np.array([[x0, y0], [x0 + n_cols, y0], [x0 + n_cols, y0 + n_rows], [x0, y0 + n_rows]])


def _masks(nwbfile_path: Path) -> tuple[np.ndarray, dict]:
    with NWBHDF5IO(nwbfile_path, "r") as io:
        table = io.read().processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
        return table["image_mask"].data[:], {
            c: table[c].data[:] for c in table.colnames if c != "image_mask"
        }


def test_session_round_trip(tmp_path: Path) -> None:
    truth = write_lab_roi_session(
        tmp_path / "raw", n_rois=30, image_shape=SHAPE, n_frames=2000, seed=2
    )
    interface = LabRoisInterface(
        truth["roi_path"],
        image_shape=SHAPE,
        dff_path=truth["dff_path"],
        frame_rate=28.0,
        input_source="contralateral M1",
    )
    assert interface.labels_path == truth["labels_path"]  # found beside the .roi file
    nwbfile = mock_nwbfile()
    interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    path = write_nwbfile(nwbfile, tmp_path / "lab.nwb")
    assert_valid_nwb(path)
    masks, columns = _masks(path)
    assert masks.shape == (30, *SHAPE)
    # each mask covers its polygon: pixel count ≈ polygon area, centroid ≈ polygon centroid
    for mask, polygon in zip(masks, truth["polygons"]):
        x, y = polygon[:, 0], polygon[:, 1]
        cross = x * np.roll(y, -1) - np.roll(x, -1) * y
        area = cross.sum() / 2
        cx, cy = (
            ((x + np.roll(x, -1)) * cross).sum() / (6 * area),
            ((y + np.roll(y, -1)) * cross).sum() / (6 * area),
        )
        perimeter = np.hypot(*np.diff(np.vstack([polygon, polygon[:1]]), axis=0).T).sum()
        assert abs(mask.sum() - abs(area)) < perimeter / 2
        rows, cols = np.nonzero(mask)
        assert abs(cols.mean() + 1 - cx) < 0.5 and abs(rows.mean() + 1 - cy) < 0.5
    assert list(columns["cell_type"]) == list(truth["cell_type"])
    np.testing.assert_array_equal(columns["excluded"], truth["excluded"])
    assert list(columns["tags"]) == [";".join(t) for t in truth["labels"]]
    assert set(columns["input_source"]) == {"contralateral M1"}
    assert columns["background_image_mask"].shape == (30, *SHAPE)
    assert (columns["background_image_mask"].sum(axis=(1, 2)) > masks.sum(axis=(1, 2))).all()
    with NWBHDF5IO(path, "r") as io:
        series = io.read().processing["ophys"]["DfOverF"]["RoiResponseSeries"]
        np.testing.assert_array_equal(series.data[:], truth["dff"].T)
        assert series.rate == 28.0


def test_rectangles_rasterise_exactly(tmp_path: Path) -> None:
    polygons = [_rectangle(10, 20, 4, 3), _rectangle(0, 0, 2, 2), _rectangle(60, 61, 4, 3)]
    path = write_roi_file(tmp_path / "rect.roi", polygons)
    interface = LabRoisInterface(path, image_shape=(64, 64))
    masks = interface.image_masks()
    expected = np.zeros((3, 64, 64), dtype=bool)
    expected[0, 20:23, 10:14] = True
    expected[1, 0:2, 0:2] = True
    expected[2, 61:64, 60:64] = True
    np.testing.assert_array_equal(masks, expected)
    nwbfile = mock_nwbfile()
    interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    table = nwbfile.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
    assert list(table["cell_type"].data) == ["unknown"] * 3  # no label file
    assert list(table["excluded"].data) == [False] * 3


def test_a_single_roi_survives_matlab_squeezing(tmp_path: Path) -> None:
    polygon = _rectangle(5, 6, 3, 3)
    roi = write_roi_file(tmp_path / "one.roi", [polygon], background=[_rectangle(3, 4, 7, 7)])
    write_roilabel_file(tmp_path / "one_roilabels.roilabel", [["gad", "filled"]])
    write_roi_dff_file(tmp_path / "one_data.mat", np.arange(10.0)[None, :])
    rois, background = read_roi_polygons(roi, image_shape=(32, 32))
    assert len(rois) == 1 and len(background) == 1
    np.testing.assert_array_equal(rois[0], polygon)
    assert read_roi_labels(tmp_path / "one_roilabels.roilabel") == [["gad", "filled"]]
    interface = LabRoisInterface(
        roi, image_shape=(32, 32), dff_path=tmp_path / "one_data.mat", frame_rate=30.0
    )
    nwbfile = mock_nwbfile()
    interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    table = nwbfile.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
    assert list(table["cell_type"].data) == ["inhibitory"] and list(table["excluded"].data) == [
        True
    ]
    np.testing.assert_array_equal(
        nwbfile.processing["ophys"]["DfOverF"]["RoiResponseSeries"].data, np.arange(10.0)[:, None]
    )


def test_label_variants(tmp_path: Path) -> None:
    labels = [[], ["GAD"], ["filled", "dendrite"], ["gad"]]
    write_roilabel_file(tmp_path / "x_roilabels.roilabel", labels)
    assert read_roi_labels(tmp_path / "x_roilabels.roilabel") == [
        [],
        ["gad"],
        ["filled", "dendrite"],
        ["gad"],
    ]


# --------------------------------------------------------------------------- bad input
def test_polygon_outside_the_image(tmp_path: Path) -> None:
    path = write_roi_file(tmp_path / "a.roi", [_rectangle(5, 5, 3, 3), _rectangle(60, 10, 10, 3)])
    with pytest.raises(
        NwbMotorValueError, match=r"a\.roi: polygon\.ROI\{2\}: vertices outside the 64 × 64 image"
    ):
        LabRoisInterface(path, image_shape=(64, 64))


def test_polygons_of_a_bigger_movie_name_the_fix(tmp_path: Path) -> None:
    truth = write_lab_roi_session(tmp_path, n_rois=5, image_shape=(128, 128), n_frames=10)
    with pytest.raises(
        NwbMotorValueError, match=r"Pass the movie's size as image_shape=\(height, width\)"
    ):
        LabRoisInterface(truth["roi_path"], image_shape=(32, 32))


def test_malformed_polygon(tmp_path: Path) -> None:
    path = write_roi_file(tmp_path / "a.roi", [np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])])
    with pytest.raises(
        NwbMotorValueError,
        match=r"polygon\.ROI\{1\}: expected an m × 2 array of at least 3 vertices",
    ):
        LabRoisInterface(path, image_shape=(64, 64))


def test_roilabel_count_differs_from_roi_count(tmp_path: Path) -> None:
    roi = write_roi_file(tmp_path / "a.roi", [_rectangle(5, 5, 3, 3), _rectangle(20, 5, 3, 3)])
    labels = write_roilabel_file(tmp_path / "b_roilabels.roilabel", [["gad"], [], ["filled"]])
    with pytest.raises(NwbMotorValueError, match=r"roi_labels has 3 entries, .*a\.roi has 2 ROIs"):
        LabRoisInterface(roi, labels_path=labels, image_shape=(64, 64))


def test_dff_row_count_differs(tmp_path: Path) -> None:
    roi = write_roi_file(tmp_path / "a.roi", [_rectangle(5, 5, 3, 3), _rectangle(20, 5, 3, 3)])
    dff = write_roi_dff_file(tmp_path / "d.mat", np.zeros((3, 50)))
    with pytest.raises(
        NwbMotorValueError, match=r"d\.mat: im\.roi_trace_df has 3 ROIs, .*a\.roi has 2"
    ):
        LabRoisInterface(roi, dff_path=dff, frame_rate=28.0, image_shape=(64, 64))


def test_dff_without_frame_rate(tmp_path: Path) -> None:
    roi = write_roi_file(tmp_path / "a.roi", [_rectangle(5, 5, 3, 3)])
    dff = write_roi_dff_file(tmp_path / "d.mat", np.zeros((1, 50)))
    interface = LabRoisInterface(roi, dff_path=dff, image_shape=(64, 64))
    with pytest.raises(
        NwbMotorValueError, match=r"d\.mat: the traces need a frame rate; pass frame_rate="
    ):
        interface.add_to_nwbfile(mock_nwbfile(), interface.get_metadata())


def test_not_a_roi_file(tmp_path: Path) -> None:
    from scipy.io import savemat

    savemat(tmp_path / "other.mat", {"something": np.zeros(3)})
    with pytest.raises(
        NwbMotorValueError,
        match=r"other\.mat: no polygon\.ROI; expected a struct 'polygon'.*'something'",
    ):
        LabRoisInterface(tmp_path / "other.mat", image_shape=(64, 64))
    (tmp_path / "text.roi").write_text("not a mat file")
    with pytest.raises(NwbMotorValueError, match=r"text\.roi: not a readable MATLAB MAT-file"):
        LabRoisInterface(tmp_path / "text.roi", image_shape=(64, 64))


def test_matlab_v73_file(tmp_path: Path) -> None:
    import h5py

    path = tmp_path / "v73.roi"
    with h5py.File(path, "w", userblock_size=512) as f:
        f["polygon/ROI"] = np.zeros(3)
    with open(path, "r+b") as fh:  # MATLAB's v7.3 header in the user block
        fh.write(
            b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02IM"
        )
    with pytest.raises(
        NwbMotorValueError, match=r"v73\.roi: a MATLAB v7\.3 \(HDF5\) MAT-file; expected a v5/v7"
    ):
        LabRoisInterface(path, image_shape=(64, 64))


def test_empty_roi_file(tmp_path: Path) -> None:
    path = write_roi_file(tmp_path / "empty.roi", [])
    with pytest.raises(
        NwbMotorValueError, match=r"empty\.roi: polygon\.ROI is empty; expected at least one"
    ):
        LabRoisInterface(path, image_shape=(64, 64))
