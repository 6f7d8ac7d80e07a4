from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest
from neuroconv.utils import dict_deep_update
from pynwb import NWBHDF5IO

from nwbmotor import NwbMotorValueError, write_nwbfile
from nwbmotor.conversion import get_interface_class
from nwbmotor.converters.imaging import ScanImageMovieInterface, TiffMovieInterface
from nwbmotor.testing import SyntheticMovie, assert_valid_nwb, mock_metadata, write_scanimage_session, write_tiff_movie


def _write(interface, path: Path, **kwargs) -> Path:
    metadata = dict_deep_update(interface.get_metadata(), mock_metadata())
    nwbfile = interface.create_nwbfile(metadata=metadata)
    return write_nwbfile(nwbfile, path, finalizers=[interface], **kwargs)


def test_registry_names_these_classes() -> None:
    assert get_interface_class("scanimage") is ScanImageMovieInterface
    assert get_interface_class("tiff") is TiffMovieInterface


def test_scanimage_session_round_trip(tmp_path: Path) -> None:
    s = write_scanimage_session(tmp_path / "raw", n_frames=300, shape=(64, 64), n_files=3, n_channels=2, frame_rate=28.0, zoom=2.0)
    interface = ScanImageMovieInterface(s.folder, fov_um_at_zoom_1=(940.0, 1000.0), location="MOp", excitation_lambda=930.0)
    path = _write(interface, tmp_path / "out.nwb")
    assert_valid_nwb(path)
    with NWBHDF5IO(path, "r") as io:
        nwbfile = io.read()
        for c, name in enumerate(("Green", "Red")):
            series = nwbfile.acquisition[f"TwoPhotonSeries{name}"]
            np.testing.assert_array_equal(series.data[:], s.frames(c))  # every pixel
            assert series.rate == pytest.approx(28.0) and series.starting_time == 0.0
            plane = series.imaging_plane
            assert plane.name == f"ImagingPlane{name}" and plane.optical_channel[0].name == name
            assert (plane.location, plane.indicator, plane.excitation_lambda) == ("MOp", "GCaMP6f", 930.0)
            # FOV at zoom 1 / zoom 2 over 64 px, in NWB (x, y) = (rows, columns) order
            np.testing.assert_allclose(plane.grid_spacing[:], [500e-6 / 64, 470e-6 / 64])
            np.testing.assert_allclose(series.field_of_view[:], [500e-6, 470e-6])
            assert plane.device.name == "Microscope"
    with h5py.File(path, "r") as f:
        d = f["acquisition/TwoPhotonSeriesGreen/data"]
        assert (d.compression, d.compression_opts, d.shuffle) == ("gzip", 4, True)
        assert d.id.get_storage_size() < 0.75 * d.size * 2


def test_planes_get_their_own_series_and_start_times(tmp_path: Path) -> None:
    s = write_scanimage_session(tmp_path / "raw", n_frames=30, shape=(16, 16), n_planes=3, frame_rate=30.0)
    interface = ScanImageMovieInterface(s.folder)
    assert interface.n_frames == interface.get_num_frames() == 30  # volumes
    np.testing.assert_allclose(interface.get_timestamps(), np.arange(30) * 0.1, atol=1e-6)
    path = _write(interface, tmp_path / "out.nwb")
    assert_valid_nwb(path)
    with NWBHDF5IO(path, "r") as io:
        nwbfile = io.read()
        for z in range(3):
            series = nwbfile.acquisition[f"TwoPhotonSeriesPlane{z}"]
            np.testing.assert_array_equal(series.data[:], s.frames(0, z))
            assert series.rate == pytest.approx(10.0)
            assert series.starting_time == pytest.approx(z / 30.0)
            assert series.imaging_plane.name == f"ImagingPlanePlane{z}"


def test_irregular_timestamps_are_kept(tmp_path: Path) -> None:
    from nwbmotor.testing import si4_header, write_tiff_pages

    times = np.array([0.0, 0.0357, 0.0714, 0.2, 0.2357])  # a pause after frame 3
    header = si4_header({"scanFrameRate": 28.0, "channelsSave": 1})
    frames = SyntheticMovie(n_frames=5, shape=(8, 8)).frames()
    descs = [f"frameNumbers = {k + 1}\nframeTimestamps_sec = {t}\n{header}" for k, t in enumerate(times)]
    (tmp_path / "raw").mkdir()
    write_tiff_pages(tmp_path / "raw" / "x_001.tif", frames, descriptions=descs)
    path = _write(ScanImageMovieInterface(tmp_path / "raw"), tmp_path / "out.nwb")
    with NWBHDF5IO(path, "r") as io:
        series = io.read().acquisition["TwoPhotonSeries"]
        np.testing.assert_allclose(series.timestamps[:], times)
        np.testing.assert_array_equal(series.data[:], frames)


@pytest.mark.filterwarnings("ignore:The metadata passed to NeuroConv is in the old list-based format:FutureWarning")
def test_tiff_movie_round_trip_and_run_conversion(tmp_path: Path) -> None:
    movie = SyntheticMovie(n_frames=150, shape=(48, 40), seed=9)
    tif = write_tiff_movie(tmp_path / "movie.tif", movie)
    interface = TiffMovieInterface(tif, sampling_frequency=15.0, starting_time=2.5, indicator="GCaMP6s", chunk_frames=7)
    path = _write(interface, tmp_path / "out.nwb")
    assert_valid_nwb(path)
    with NWBHDF5IO(path, "r") as io:
        series = io.read().acquisition["TwoPhotonSeries"]
        np.testing.assert_array_equal(series.data[:], movie.frames())
        assert (series.rate, series.starting_time, series.imaging_plane.indicator) == (15.0, 2.5, "GCaMP6s")
        assert series.data.chunks == (7, 48, 40)
    # NeuroConv's own run_conversion (no finalize hook) gives the same, complete file
    other = TiffMovieInterface(tif, sampling_frequency=15.0)
    other.run_conversion(nwbfile_path=tmp_path / "rc.nwb", metadata=dict_deep_update(other.get_metadata(), mock_metadata()), overwrite=True)
    assert_valid_nwb(tmp_path / "rc.nwb")
    with h5py.File(tmp_path / "rc.nwb", "r") as f:
        np.testing.assert_array_equal(f["acquisition/TwoPhotonSeries/data"][()], movie.frames())


@pytest.mark.parametrize("told", [True, False])
def test_zarr_backend(tmp_path: Path, told: bool) -> None:
    """Zarr gets shuffle + zlib chunks when told the backend, and a complete (default-codec) copy when not."""
    from hdmf_zarr.nwb import NWBZarrIO

    movie = SyntheticMovie(n_frames=40, shape=(16, 16), seed=4)
    interface = TiffMovieInterface(write_tiff_movie(tmp_path / "m.tif", movie), sampling_frequency=10.0, chunk_frames=8)
    metadata = dict_deep_update(interface.get_metadata(), mock_metadata())
    nwbfile = interface.create_nwbfile(metadata=metadata, **({"backend": "zarr"} if told else {}))
    path = write_nwbfile(nwbfile, tmp_path / "out.nwb.zarr", backend="zarr", finalizers=[interface])
    assert_valid_nwb(path)
    with NWBZarrIO(str(path), "r") as io:
        data = io.read().acquisition["TwoPhotonSeries"].data
        np.testing.assert_array_equal(data[:], movie.frames())
        assert data.chunks == (8, 16, 16)
        if told:
            assert data.compressor.codec_id == "zlib" and data.filters[0].codec_id == "shuffle"


def test_conversion_spec_with_scanimage_source(tmp_path: Path) -> None:
    import yaml

    from nwbmotor import convert

    s = write_scanimage_session(tmp_path / "raw" / "day01", n_frames=30, shape=(16, 16), n_files=2)
    spec = {
        "metadata": {"lab": "Motor learning lab", "institution": "UCSD", "experimenter": ["Peters, Andrew"],
                     "keywords": ["motor learning"], "experiment_description": "Lever-press learning with imaging."},
        "subjects": [{"subject_id": "AP071", "species": "Mus musculus", "sex": "F", "age": "P60D", "genotype": "GAD-Cre;tdTomato",
                      "description": "head-fixed mouse",
                      "sessions": [{"session_id": "day01", "session_start_time": "2014-03-01T10:00:00-08:00",
                                    "session_description": "lever-press training day 1",
                                    "sources": {"scanimage": {"folder_path": "raw/day01", "indicator": "GCaMP6s"}}}]}],
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    result = convert(tmp_path / "spec.yaml", output_dir=tmp_path / "nwb", progress=False)
    assert result.ok, [o.message for o in result.outcomes]
    assert_valid_nwb(result.paths[0])
    with NWBHDF5IO(result.paths[0], "r") as io:
        series = io.read().acquisition["TwoPhotonSeries"]
        np.testing.assert_array_equal(series.data[:], s.frames())
        assert series.imaging_plane.indicator == "GCaMP6s"


def test_existing_output_is_not_overwritten(tmp_path: Path) -> None:
    interface = TiffMovieInterface(write_tiff_movie(tmp_path / "m.tif", SyntheticMovie(n_frames=4, shape=(8, 8))), sampling_frequency=10.0)
    target = tmp_path / "out.nwb"
    target.write_bytes(b"previous")
    with pytest.raises(NwbMotorValueError, match=r"out\.nwb: the output exists; pass overwrite=True"):
        _write(interface, target)
    assert target.read_bytes() == b"previous"


def test_failure_mid_write_leaves_nothing(tmp_path: Path) -> None:
    tif = write_tiff_movie(tmp_path / "m.tif", SyntheticMovie(n_frames=60, shape=(32, 32)))
    interface = TiffMovieInterface(tif, sampling_frequency=10.0, chunk_frames=4)
    os.truncate(tif, tif.stat().st_size // 2)  # the file is cut after it was indexed
    with pytest.raises(NwbMotorValueError, match=r"m\.tif: truncated file"):
        _write(interface, tmp_path / "out" / "out.nwb")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: p.mkdir(), r"the folder holds no TIFF files"),
        (lambda p: None, r"folder_path does not exist"),
    ],
)
def test_bad_scanimage_folders(tmp_path: Path, make, match: str) -> None:
    folder = tmp_path / "session"
    make(folder)
    with pytest.raises(NwbMotorValueError, match=match):
        ScanImageMovieInterface(folder)


def test_plain_tiff_is_not_a_scanimage_session(tmp_path: Path) -> None:
    write_tiff_movie(tmp_path / "plain.tif", SyntheticMovie(n_frames=3, shape=(8, 8)))
    with pytest.raises(NwbMotorValueError, match=r"plain\.tif: ImageDescription: no ScanImage header.*'tiff' source kind"):
        ScanImageMovieInterface(tmp_path)


@pytest.mark.parametrize("rate", [0, -5, "fast"])
def test_tiff_needs_a_rate(tmp_path: Path, rate) -> None:
    tif = write_tiff_movie(tmp_path / "m.tif", SyntheticMovie(n_frames=3, shape=(8, 8)))
    with pytest.raises(NwbMotorValueError, match=r"m\.tif: sampling_frequency is"):
        TiffMovieInterface(tif, sampling_frequency=rate)


def test_scanimage_2016_is_read_through_roiextractors(tmp_path: Path) -> None:
    s = write_scanimage_session(tmp_path / "raw", n_frames=40, shape=(16, 24), n_files=2, n_channels=2, version="2016", frame_rate=30.0)
    interface = ScanImageMovieInterface(s.folder)
    assert interface.version == "SI2016"
    path = _write(interface, tmp_path / "out.nwb")
    assert_valid_nwb(path)
    with NWBHDF5IO(path, "r") as io:
        nwbfile = io.read()
        for c, name in enumerate(("Green", "Red")):
            series = nwbfile.acquisition[f"TwoPhotonSeries{name}"]
            np.testing.assert_array_equal(series.data[:], s.frames(c))
            assert series.rate == pytest.approx(30.0)


def test_finalize_fills_a_movie_left_empty_by_the_write(tmp_path: Path) -> None:
    movie = SyntheticMovie(n_frames=30, shape=(16, 16), seed=8)
    interface = TiffMovieInterface(write_tiff_movie(tmp_path / "m.tif", movie), sampling_frequency=10.0, chunk_frames=4)
    nwbfile = interface.create_nwbfile(metadata=dict_deep_update(interface.get_metadata(), mock_metadata()))
    (dataio,) = interface._dataios
    dataio.fill = lambda dset: None  # a writer that only creates the empty dataset
    with NWBHDF5IO(tmp_path / "out.nwb", "w") as io:
        io.write(nwbfile)
    with h5py.File(tmp_path / "out.nwb", "r") as f:
        assert f["acquisition/TwoPhotonSeries/data"].id.get_storage_size() == 0  # nothing written yet
    del dataio.fill
    interface.finalize_nwbfile(tmp_path / "out.nwb", "hdf5")
    assert_valid_nwb(tmp_path / "out.nwb")
    with h5py.File(tmp_path / "out.nwb", "r") as f:
        np.testing.assert_array_equal(f["acquisition/TwoPhotonSeries/data"][()], movie.frames())
