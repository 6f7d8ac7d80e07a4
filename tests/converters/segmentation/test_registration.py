"""Cross-session identity: the matcher's accuracy, the three methods, the record, bad tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwbmotor import NwbMotorValueError, write_nwbfile
from nwbmotor.converters.segmentation import (
    CellRegistrationInterface,
    LabRoisInterface,
    Suite2pInterface,
    match_rois,
    phase_correlation_shift,
)
from nwbmotor.testing import (
    assert_valid_nwb,
    make_registration_sessions,
    mock_nwbfile,
    write_lab_roi_session,
    write_registration_table,
    write_roi_file,
    write_suite2p_plane,
)

SHAPE = (128, 128)


def _truth(reference: dict, session: dict) -> np.ndarray:
    where = {cell: roi for roi, cell in enumerate(reference["cell_ids"])}
    return np.array([where.get(cell, -1) for cell in session["cell_ids"]])


@pytest.mark.parametrize("use_images", [True, False], ids=["mean-images", "mask-footprints"])
def test_matcher_accuracy_with_drift_jitter_and_turnover(use_images: bool) -> None:
    """>= 95 % of true matches found and <= 2 % of reported matches wrong.

    Realistic day-to-day changes: rigid drift up to 10 px in each axis, each cell's
    centre jittered by 1 px (s.d. per axis) with a 5 % size change and a ragged rim,
    and 20 % of cells missing from each session (different ones each time).
    """
    n_true = n_found = n_reported = n_wrong = 0
    for seed in range(4):
        out = make_registration_sessions(
            60, 4, SHAPE, max_shift=10, jitter=1.0, turnover=0.2, seed=seed
        )
        reference = out["sessions"][0]
        for session in out["sessions"][1:]:
            result = match_rois(
                [m[:2] for m in reference["masks"]],
                [m[:2] for m in session["masks"]],
                SHAPE,
                reference_image=reference["mean_image"] if use_images else None,
                image=session["mean_image"] if use_images else None,
            )
            truth = _truth(reference, session)
            reported = result.reference_roi >= 0
            n_true += int((truth >= 0).sum())
            n_reported += int(reported.sum())
            n_found += int((reported & (result.reference_roi == truth)).sum())
            n_wrong += int((reported & (result.reference_roi != truth)).sum())
            assert np.all(np.isnan(result.distance[~reported])) and np.all(
                result.iou[reported] >= 0.2
            )
    found, wrong = n_found / n_true, n_wrong / n_reported
    print(
        f"matcher ({'mean images' if use_images else 'footprints'}): found {found:.4f} ({n_found}/{n_true}), "
        f"wrong {wrong:.4f} ({n_wrong}/{n_reported})"
    )
    assert n_true > 400
    assert found >= 0.95
    assert wrong <= 0.02


def test_phase_correlation_recovers_the_drift() -> None:
    out = make_registration_sessions(60, 4, SHAPE, max_shift=8, seed=11)
    reference = out["sessions"][0]
    for session in out["sessions"][1:]:
        shift = phase_correlation_shift(reference["mean_image"], session["mean_image"])
        np.testing.assert_allclose(shift, session["shift"], atol=0.3)


def test_matcher_refuses_bad_thresholds() -> None:
    with pytest.raises(NwbMotorValueError, match=r"min_iou must be in \(0, 1\], got 0"):
        match_rois([], [], SHAPE, min_iou=0.0)


# --------------------------------------------------------------------------- through the interfaces
@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("reg")
    out = make_registration_sessions(40, 3, SHAPE, max_shift=6, jitter=0.7, turnover=0.15, seed=21)
    for k, session in enumerate(out["sessions"]):
        write_suite2p_plane(root / f"day0{k + 1}" / "plane0", session=session, n_frames=300, seed=k)
    return {"root": root, **out}


def _convert(segmentation, registration, tmp_path: Path, session_id: str = "day02") -> Path:
    registration.link_session({"suite2p": segmentation, "registration": registration})
    nwbfile = mock_nwbfile(session_id=session_id)
    metadata = segmentation.get_metadata()
    metadata["NWBFile"] = {"session_id": session_id}
    registration.add_to_nwbfile(nwbfile, metadata)  # before the ROI table: order does not matter
    segmentation.add_to_nwbfile(nwbfile, metadata)
    path = write_nwbfile(nwbfile, tmp_path / f"{session_id}.nwb")
    assert_valid_nwb(path)
    return path


def test_matcher_interface_writes_global_ids_and_record(sessions: dict, tmp_path: Path) -> None:
    root = sessions["root"]
    segmentation = Suite2pInterface(root / "day03" / "plane0")
    registration = CellRegistrationInterface(
        folder_path=root / "day01" / "plane0", reference_session="day01"
    )
    assert registration.method == "matcher"
    path = _convert(segmentation, registration, tmp_path, "day03")
    expected = _truth(sessions["sessions"][0], sessions["sessions"][2])
    with NWBHDF5IO(path, "r") as io:
        ophys = io.read().processing["ophys"]
        table = ophys["ImageSegmentation"]["PlaneSegmentation"]
        np.testing.assert_array_equal(table["global_id"].data[:], expected)
        record = ophys["CellRegistration"]
        assert record.method == "matcher" and record.reference_session == "day01"
        assert record["roi"].table.object_id == table.object_id
        np.testing.assert_array_equal(record["global_id"].data[:], expected)
        np.testing.assert_array_equal(record["reference_roi"].data[:], expected)
        quality = record["match_quality"].data[:]
        assert (quality[expected >= 0] >= 0.2).all() and (quality[expected < 0] == 0).all()
        import json

        parameters = json.loads(record.parameters)
        np.testing.assert_allclose(
            [parameters["shift_y_pixels"], parameters["shift_x_pixels"]],
            sessions["sessions"][2]["shift"],
            atol=0.3,
        )


def test_matcher_on_the_reference_itself_is_the_identity(sessions: dict) -> None:
    folder = sessions["root"] / "day01" / "plane0"
    segmentation = Suite2pInterface(folder)
    registration = CellRegistrationInterface(folder_path=folder)
    registration.link_session({"suite2p": segmentation})
    ids = registration.global_ids(segmentation, {})
    np.testing.assert_array_equal(ids, np.arange(segmentation.n_rois()))


def test_table_interface(sessions: dict, tmp_path: Path) -> None:
    cells = {f"day0{k + 1}": s["cell_ids"] for k, s in enumerate(sessions["sessions"])}
    cells["day02"] = cells["day02"][:-3]  # three ROIs not registered
    table = write_registration_table(tmp_path / "registration.csv", cells)
    segmentation = Suite2pInterface(sessions["root"] / "day02" / "plane0")
    registration = CellRegistrationInterface(
        table, reference_session="day01"
    )  # session from the metadata
    path = _convert(segmentation, registration, tmp_path)
    n = segmentation.n_rois()
    expected = np.concatenate([cells["day02"], [-1, -1, -1]])
    with NWBHDF5IO(path, "r") as io:
        ophys = io.read().processing["ophys"]
        np.testing.assert_array_equal(
            ophys["ImageSegmentation"]["PlaneSegmentation"]["global_id"].data[:], expected
        )
        record = ophys["CellRegistration"]
        assert record.method == "table"
        np.testing.assert_array_equal(
            record["match_quality"].data[:], np.r_[np.ones(n - 3), np.zeros(3)]
        )
        reference_position = {c: i for i, c in enumerate(cells["day01"])}
        expected_reference = [reference_position.get(c, -1) if c >= 0 else -1 for c in expected]
        np.testing.assert_array_equal(record["reference_roi"].data[:], expected_reference)


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        (
            "session,roi,cell\nday01,0,5\nday01,1,6\nday01,0,7\n",
            r"line 4: duplicate \(session, roi\) = \('day01', 0\), first on line 2",
        ),
        (
            "session,roi,cell\nday01,0,5\nday01,1,5\n",
            r"line 3: session 'day01' maps ROIs 0 \(line 2\) and 1 to the same cell 5",
        ),
        ("session,roi\nday01,0\n", r"missing column\(s\) \['cell'\]"),
        ("session,roi,cell\nday01,x,5\n", r"line 2: roi 'x' is not an integer"),
        ("session,roi,cell\nday01,0,-2\n", r"line 2: cell -2 is negative"),
        ("session,roi,cell\n", r"the registration table has no rows"),
    ],
)
def test_bad_registration_table(tmp_path: Path, rows: str, match: str) -> None:
    path = tmp_path / "registration.csv"
    path.write_text(rows)
    with pytest.raises(NwbMotorValueError, match=match):
        CellRegistrationInterface(path)


def test_table_without_this_session_or_with_too_many_rois(sessions: dict, tmp_path: Path) -> None:
    segmentation = Suite2pInterface(sessions["root"] / "day02" / "plane0")
    table = write_registration_table(tmp_path / "r.csv", {"day01": [0, 1]})
    registration = CellRegistrationInterface(table, session="day05")
    registration.link_session({"suite2p": segmentation})
    with pytest.raises(
        NwbMotorValueError,
        match=r"r\.csv: no rows for session 'day05'; the table has sessions \['day01'\]",
    ):
        segmentation.add_to_nwbfile(mock_nwbfile(), segmentation.get_metadata())
    n = segmentation.n_rois()
    table = write_registration_table(tmp_path / "big.csv", {"day02": list(range(n + 2))})
    segmentation = Suite2pInterface(sessions["root"] / "day02" / "plane0")
    registration = CellRegistrationInterface(table, session="day02")
    registration.link_session({"suite2p": segmentation})
    with pytest.raises(
        NwbMotorValueError, match=rf"lists roi {n + 1}, but its ROI table has {n} ROIs"
    ):
        segmentation.add_to_nwbfile(mock_nwbfile(), segmentation.get_metadata())


def test_reused_polygon_file(tmp_path: Path) -> None:
    truth = write_lab_roi_session(
        tmp_path, n_rois=12, image_shape=(64, 64), n_frames=20, background=False
    )
    segmentation = LabRoisInterface(truth["roi_path"], image_shape=(64, 64))
    registration = CellRegistrationInterface(truth["roi_path"], reference_session="day01")
    assert registration.method == "reused_polygons"
    registration.link_session({"lab_rois": segmentation, "registration": registration})
    nwbfile = mock_nwbfile()
    segmentation.add_to_nwbfile(nwbfile, segmentation.get_metadata())
    registration.add_to_nwbfile(nwbfile, {})
    path = write_nwbfile(nwbfile, tmp_path / "reused.nwb")
    assert_valid_nwb(path)
    with NWBHDF5IO(path, "r") as io:
        ophys = io.read().processing["ophys"]
        np.testing.assert_array_equal(
            ophys["ImageSegmentation"]["PlaneSegmentation"]["global_id"].data[:], np.arange(12)
        )
        assert ophys["CellRegistration"].method == "reused_polygons"


def test_reused_polygon_file_that_differs(tmp_path: Path) -> None:
    truth = write_lab_roi_session(
        tmp_path, n_rois=5, image_shape=(64, 64), n_frames=20, background=False
    )
    moved = [p + (1.0 if i == 3 else 0.0) for i, p in enumerate(truth["polygons"])]
    other = write_roi_file(tmp_path / "other.roi", moved)
    segmentation = LabRoisInterface(truth["roi_path"], image_shape=(64, 64))
    registration = CellRegistrationInterface(other)
    registration.link_session({"lab_rois": segmentation})
    with pytest.raises(
        NwbMotorValueError,
        match=r"polygon\.ROI\{4\} differs from that of the registration polygon file",
    ):
        segmentation.add_to_nwbfile(mock_nwbfile(), segmentation.get_metadata())
    fewer = write_roi_file(tmp_path / "fewer.roi", truth["polygons"][:4])
    segmentation = LabRoisInterface(truth["roi_path"], image_shape=(64, 64))
    registration = CellRegistrationInterface(fewer)
    registration.link_session({"lab_rois": segmentation})
    with pytest.raises(
        NwbMotorValueError, match=r"has 5 ROIs, the registration polygon file .*fewer\.roi has 4"
    ):
        segmentation.add_to_nwbfile(mock_nwbfile(), segmentation.get_metadata())


def test_registration_needs_a_roi_table(sessions: dict, tmp_path: Path) -> None:
    table = write_registration_table(tmp_path / "r.csv", {"day01": [0]})
    registration = CellRegistrationInterface(table)
    with pytest.raises(
        NwbMotorValueError,
        match=r"needs a 'suite2p' or 'lab_rois' source in the same session \(found \['spines'\]\)",
    ):
        registration.link_session({"spines": object()})
    with pytest.raises(NwbMotorValueError, match=r"the registration is not linked to a ROI table"):
        registration.add_to_nwbfile(mock_nwbfile(), {})
    with pytest.raises(
        NwbMotorValueError, match=r"give exactly one of file_path .* and folder_path"
    ):
        CellRegistrationInterface()
    (tmp_path / "r.txt").write_text("x")
    with pytest.raises(NwbMotorValueError, match=r"r\.txt: cannot tell the registration method"):
        CellRegistrationInterface(tmp_path / "r.txt")


def test_matcher_with_lab_polygon_files(tmp_path: Path) -> None:
    out = make_registration_sessions(30, 2, SHAPE, max_shift=6, jitter=0.5, turnover=0.15, seed=5)
    files = [
        write_lab_roi_session(tmp_path / f"day0{k + 1}", session=s, n_frames=10, seed=k)
        for k, s in enumerate(out["sessions"])
    ]
    segmentation = LabRoisInterface(files[1]["roi_path"], image_shape=SHAPE)
    registration = CellRegistrationInterface(
        files[0]["roi_path"], method="matcher", reference_session="day01"
    )
    registration.link_session({"lab_rois": segmentation})
    ids = registration.global_ids(segmentation, {})
    expected = _truth(out["sessions"][0], out["sessions"][1])
    assert (ids == expected).mean() >= 0.95
    assert ((ids >= 0) & (ids != expected)).sum() == 0
