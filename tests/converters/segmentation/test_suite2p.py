"""Suite2p plane folders into NWB: exact round trips, labels, dF/F, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwbmotor import NwbMotorValueError, write_nwbfile
from nwbmotor.converters.segmentation import Suite2pInterface
from nwbmotor.methods import dff_from_fluorescence
from nwbmotor.testing import assert_valid_nwb, mock_nwbfile, write_suite2p_plane

N_ROIS, N_FRAMES, SHAPE = 50, 2000, (128, 128)


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("s2p") / "suite2p" / "plane0"
    return write_suite2p_plane(folder, n_rois=N_ROIS, n_frames=N_FRAMES, image_shape=SHAPE, seed=4)


@pytest.fixture(scope="module")
def written(plane: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    interface = Suite2pInterface(plane["folder"], input_source="motor thalamus")
    nwbfile = mock_nwbfile()
    interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    path = write_nwbfile(nwbfile, tmp_path_factory.mktemp("out") / "s2p.nwb")
    assert_valid_nwb(path)
    return path


def test_traces_round_trip_exactly(plane: dict, written: Path) -> None:
    with NWBHDF5IO(written, "r") as io:
        ophys = io.read().processing["ophys"]
        F = ophys["Fluorescence"]["RoiResponseSeries"]
        np.testing.assert_array_equal(F.data[:], plane["F"].T)
        np.testing.assert_array_equal(ophys["Fluorescence"]["Neuropil"].data[:], plane["Fneu"].T)
        np.testing.assert_array_equal(
            ophys["Deconvolved"]["RoiResponseSeries"].data[:], plane["spks"].T
        )
        assert F.rate == 30.0 and F.starting_time == 0.0
        assert list(F.rois.data[:]) == list(range(N_ROIS))
        np.testing.assert_array_equal(
            ophys["SegmentationImages"]["mean"].data[:], plane["mean_image"]
        )


def test_pixel_masks_and_labels_round_trip(plane: dict, written: Path) -> None:
    with NWBHDF5IO(written, "r") as io:
        table = io.read().processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
        assert len(table) == N_ROIS
        for i in (0, 17, N_ROIS - 1):
            mask = np.array(table["pixel_mask"][i].tolist())
            y, x, lam = plane["masks"][i]
            # NWB x is the first image axis (Suite2p's ypix), as NeuroConv writes Suite2p
            np.testing.assert_array_equal(mask[:, 0], y)
            np.testing.assert_array_equal(mask[:, 1], x)
            np.testing.assert_allclose(mask[:, 2], lam, rtol=1e-6)
        np.testing.assert_array_equal(table["iscell"].data[:], plane["iscell"][:, 0] > 0.5)
        np.testing.assert_array_equal(table["iscell_probability"].data[:], plane["iscell"][:, 1])
        np.testing.assert_array_equal(table["redcell"].data[:], plane["redcell"][:, 0] > 0.5)
        assert list(table["cell_type"].data[:]) == list(plane["cell_type"])
        assert set(table["cell_type"].data[:]) == {"excitatory", "inhibitory"}
        assert list(table["input_source"].data[:]) == ["motor thalamus"] * N_ROIS
        assert table.imaging_plane.location == "MOp"


def test_dff_uses_the_default_baseline_and_records_it(plane: dict, written: Path) -> None:
    corrected = plane["F"].astype(np.float64) - 0.7 * plane["Fneu"].astype(np.float64)
    expected, _, valid = dff_from_fluorescence(corrected, 30.0, preset="nwbmotor")
    with NWBHDF5IO(written, "r") as io:
        ophys = io.read().processing["ophys"]
        series = ophys["DfOverF"]["RoiResponseSeries"]
        np.testing.assert_allclose(
            series.data[:], expected.T.astype(np.float32), rtol=1e-6, atol=1e-7
        )
        assert "nwbmotor" in series.description
        assert json.loads(series.comments)["dff_baseline"]["preset"] == "nwbmotor"
        np.testing.assert_array_equal(
            ophys["ImageSegmentation"]["PlaneSegmentation"]["dff_valid"].data[:], valid
        )
    # planted truth: F - 0.7 Fneu = F0 (1 + dF/F) + noise, so the transients come back at their size
    truth = plane["dff"]
    active = truth > 0.5
    ratio = np.median(expected[active] / truth[active])
    assert 0.8 < ratio < 1.2


def test_cell_type_csv_overrides_redcell(plane: dict, tmp_path: Path) -> None:
    csv = tmp_path / "types.csv"
    csv.write_text("roi,cell_type\n0,inhibitory\n1,unknown\n")
    interface = Suite2pInterface(plane["folder"], cell_types=csv)
    nwbfile = mock_nwbfile()
    interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    types = list(
        nwbfile.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]["cell_type"].data
    )
    assert types[:2] == ["inhibitory", "unknown"]
    assert types[2:] == list(plane["cell_type"][2:])


def test_without_redcell_cell_type_is_unknown(tmp_path: Path) -> None:
    write_suite2p_plane(
        tmp_path / "plane0", n_rois=5, n_frames=300, image_shape=(64, 64), redcell=False
    )
    interface = Suite2pInterface(tmp_path / "plane0")
    nwbfile = mock_nwbfile()
    interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    table = nwbfile.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
    assert list(table["cell_type"].data) == ["unknown"] * 5
    assert "redcell" not in table.colnames and "input_source" not in table.colnames


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (
            "roi,kind\n0,x\n",
            r"types\.csv: columns \['roi', 'kind'\]; expected 'roi' and 'cell_type'",
        ),
        (
            "roi,cell_type\n0,pyramidal\n",
            r"types\.csv, line 2: cell_type 'pyramidal'; expected one of",
        ),
        ("roi,cell_type\n99,inhibitory\n", r"roi 99 out of range; the ROI table has 5 ROIs"),
        ("roi,cell_type\n1,inhibitory\n1,excitatory\n", r"line 3: roi 1 is listed twice"),
    ],
)
def test_bad_cell_type_csv(tmp_path: Path, content: str, match: str) -> None:
    write_suite2p_plane(tmp_path / "plane0", n_rois=5, n_frames=100, image_shape=(64, 64))
    (tmp_path / "types.csv").write_text(content)
    with pytest.raises(NwbMotorValueError, match=match):
        Suite2pInterface(tmp_path / "plane0", cell_types=tmp_path / "types.csv")


# --------------------------------------------------------------------------- bad folders
@pytest.fixture
def small(tmp_path: Path) -> Path:
    folder = tmp_path / "suite2p" / "plane0"
    write_suite2p_plane(folder, n_rois=6, n_frames=200, image_shape=(64, 64))
    return folder


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "plane0").mkdir()
    with pytest.raises(
        NwbMotorValueError, match=r"plane0: the folder is empty; expected Suite2p plane output"
    ):
        Suite2pInterface(tmp_path / "plane0")


def test_suite2p_root_instead_of_plane(small: Path) -> None:
    with pytest.raises(
        NwbMotorValueError, match=r"missing Suite2p file.*point folder_path at one plane"
    ):
        Suite2pInterface(small.parent)


def test_missing_file(small: Path) -> None:
    (small / "spks.npy").unlink()
    with pytest.raises(NwbMotorValueError, match=r"missing Suite2p file\(s\) \['spks\.npy'\]"):
        Suite2pInterface(small)


@pytest.mark.parametrize(
    ("name", "array", "match"),
    [
        (
            "Fneu.npy",
            np.ones((5, 200), np.float32),
            r"Fneu\.npy: has 5 ROIs, F\.npy has 6; the ROI counts must match",
        ),
        (
            "spks.npy",
            np.ones((6, 199), np.float32),
            r"spks\.npy: has 199 frames, F\.npy has 200; the frame counts must match",
        ),
        ("iscell.npy", np.ones((7, 2)), r"iscell\.npy: has shape \(7, 2\); expected \(6, 2\)"),
        ("redcell.npy", np.ones((6, 3)), r"redcell\.npy: has shape \(6, 3\); expected \(6, 2\)"),
        ("F.npy", np.ones(200, np.float32), r"F\.npy: expected a 2-D array, got shape \(200,\)"),
        (
            "F.npy",
            np.ones((0, 200), np.float32),
            r"F\.npy: has shape \(0, 200\); expected at least one ROI",
        ),
    ],
)
def test_mismatched_arrays(small: Path, name: str, array: np.ndarray, match: str) -> None:
    np.save(small / name, array)
    with pytest.raises(NwbMotorValueError, match=match):
        Suite2pInterface(small)


def test_stat_count_mismatch(small: Path) -> None:
    from nwbmotor.converters.segmentation import load_npy

    stat = load_npy(small / "stat.npy")
    np.save(small / "stat.npy", stat[:4], allow_pickle=True)
    with pytest.raises(NwbMotorValueError, match=r"stat\.npy: has 4 ROIs, F\.npy has 6"):
        Suite2pInterface(small)


def test_nan_in_F(small: Path) -> None:
    F = np.load(small / "F.npy")
    F[3, 120] = np.nan
    np.save(small / "F.npy", F)
    with pytest.raises(
        NwbMotorValueError, match=r"F\.npy: 1 non-finite value\(s\) .* first at ROI 3, frame 120"
    ):
        Suite2pInterface(small)


def test_nframes_in_ops_disagrees(small: Path) -> None:
    from nwbmotor.converters.segmentation import load_npy

    ops = load_npy(small / "ops.npy")
    ops["nframes"] = 500
    np.save(small / "ops.npy", ops, allow_pickle=True)
    with pytest.raises(
        NwbMotorValueError, match=r"ops\.npy: 'nframes' is 500, F\.npy has 200 frames"
    ):
        Suite2pInterface(small)


def test_roi_pixels_outside_the_image(small: Path) -> None:
    from nwbmotor.converters.segmentation import load_npy

    stat = load_npy(small / "stat.npy")
    stat[2]["xpix"] = stat[2]["xpix"] + 64
    np.save(small / "stat.npy", stat, allow_pickle=True)
    with pytest.raises(
        NwbMotorValueError, match=r"stat\.npy: ROI 2: pixels outside the 64 × 64 image"
    ):
        Suite2pInterface(small)


def test_existing_output_is_not_overwritten(small: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.nwb"
    target.write_bytes(b"precious")
    interface = Suite2pInterface(small)
    nwbfile = mock_nwbfile()
    interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    with pytest.raises(
        NwbMotorValueError, match=r"out\.nwb: the output exists; pass overwrite=True"
    ):
        write_nwbfile(nwbfile, target)
    assert target.read_bytes() == b"precious"


def test_the_movies_imaging_plane_metadata_wins(plane: dict) -> None:
    from nwbmotor.converters._ophys import ophys_metadata

    interface = Suite2pInterface(plane["folder"])
    movie_metadata = ophys_metadata(
        indicator="GCaMP6s", location="MOs", image_shape=SHAPE, imaging_rate=30.0
    )
    nwbfile = mock_nwbfile()
    interface.add_to_nwbfile(nwbfile, {**interface.get_metadata(), **movie_metadata})
    imaging_plane = nwbfile.processing["ophys"]["ImageSegmentation"][
        "PlaneSegmentation"
    ].imaging_plane
    assert (imaging_plane.indicator, imaging_plane.location) == ("GCaMP6s", "MOs")
    # without a movie, a default plane for this image size: 470 µm over 512 px scaled to 128 px
    nwbfile = mock_nwbfile()
    interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    imaging_plane = nwbfile.imaging_planes["ImagingPlane"]
    np.testing.assert_allclose(imaging_plane.grid_spacing, [500e-6 / 512, 470e-6 / 512])


def test_scratch_dff_is_removed_once_written(small: Path, tmp_path: Path) -> None:
    interface = Suite2pInterface(small)
    nwbfile = mock_nwbfile()
    interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    scratch = [Path(p) for p in interface._scratch_folders]
    assert scratch and all((p / "dff.npy").exists() for p in scratch)
    path = write_nwbfile(nwbfile, tmp_path / "out.nwb", finalizers=[interface])
    assert not any(p.exists() for p in scratch)
    with NWBHDF5IO(path, "r") as io:
        dff = io.read().processing["ophys"]["DfOverF"]["RoiResponseSeries"].data[:]
    expected, _ = Suite2pInterface(small).compute_dff()
    np.testing.assert_array_equal(dff, expected.T)
