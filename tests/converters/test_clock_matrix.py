"""Every object of a session on the acquisition clock, for every combination of sources.

The matrix: movie or not; nwbmotor's or NeuroConv's Suite2p segmentation; ``xsglog``
(frame pulses) or ``xsg`` (no frame channel); with or without the Dispatcher file. Each
combination is converted through NeuroConv (``SessionConverter``) and every time series
and table of the in-memory file is checked against the planted truth.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters import SessionConverter, align_session
from nwbmotor.converters.imaging import ScanImageMovieInterface
from nwbmotor.converters.lever import DispatcherTrialsInterface, XsgLeverInterface, XsglogLeverInterface
from nwbmotor.converters.segmentation import Suite2pInterface
from nwbmotor.testing import mock_metadata, write_rig_session, write_scanimage_session, write_suite2p_plane

FRAME_RATE = 28.0
SHAPE = (48, 48)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("matrix")
    out = {}
    for kind in ("xsglog", "xsg"):
        rig = write_rig_session(root / kind / "rig", kind=kind, n_trials=3, seed=3)
        n = len(rig.frame_times) if kind == "xsglog" else 200
        movie = write_scanimage_session(root / kind / "movie", n_frames=n, shape=SHAPE, frame_rate=FRAME_RATE,
                                        file_stem="AP071_day01", seed=1)
        plane = root / kind / "s2p" / "plane0"
        write_suite2p_plane(plane, n_rois=3, n_frames=n, image_shape=SHAPE, frame_rate=FRAME_RATE, seed=2)
        out[kind] = {"rig": rig, "movie": movie.folder, "plane": plane, "n": n}
    return out


def _interfaces(src: dict, kind: str, movie: bool, segmentation: str, dispatcher: bool) -> dict:
    from neuroconv.datainterfaces import Suite2pSegmentationInterface

    rig = src["rig"]
    acq = XsglogLeverInterface(rig.folder) if kind == "xsglog" else XsgLeverInterface(rig.folder)
    interfaces: dict = {"lever": acq}
    if movie:
        interfaces["movie"] = ScanImageMovieInterface(src["movie"])
    if segmentation == "nwbmotor":
        interfaces["rois"] = Suite2pInterface(src["plane"])
    else:
        interfaces["rois"] = Suite2pSegmentationInterface(folder_path=str(src["plane"].parent))
    if dispatcher:
        interfaces["trials"] = DispatcherTrialsInterface(rig.dispatcher_path)
    return interfaces


def _series(nwbfile) -> dict:
    """Every TimeSeries of the file, by path."""
    from pynwb.base import TimeSeries

    found = {}
    for obj in nwbfile.objects.values():
        if isinstance(obj, TimeSeries):
            found[f"{obj.parent.name}/{obj.name}"] = obj
    return found


def _metadata(converter) -> dict:
    from neuroconv.utils import dict_deep_update

    return dict_deep_update(converter.get_metadata(), mock_metadata())


COMBINATIONS = list(itertools.product(("xsglog", "xsg"), (True, False), ("nwbmotor", "neuroconv"), (True, False)))


@pytest.mark.parametrize(("kind", "movie", "segmentation", "dispatcher"), COMBINATIONS,
                         ids=[f"{k}-{'movie' if m else 'nomovie'}-{s}-{'disp' if d else 'nodisp'}"
                              for k, m, s, d in COMBINATIONS])
def test_every_object_on_the_acquisition_clock(sources, kind, movie, segmentation, dispatcher) -> None:
    src = sources[kind]
    rig, n = src["rig"], src["n"]
    converter = SessionConverter(data_interfaces=_interfaces(src, kind, movie, segmentation, dispatcher))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nwbfile = converter.create_nwbfile(metadata=_metadata(converter))
    messages = [str(w.message) for w in caught]
    series = _series(nwbfile)
    framed = {p: s for p, s in series.items()
              if s.neurodata_type in ("TwoPhotonSeries", "RoiResponseSeries")}
    assert framed and (not movie or any(s.neurodata_type == "TwoPhotonSeries" for s in framed.values()))
    expected_frames = rig.frame_times[:n] if kind == "xsglog" else np.arange(n) / FRAME_RATE
    for path, s in framed.items():  # pulses within 1 % of a frame of a regular grid are written as a rate
        np.testing.assert_allclose(s.get_timestamps()[:n], expected_frames, atol=0.01 / FRAME_RATE, err_msg=path)
    lever = series["BehavioralTimeSeries/lever"]
    lever_t0 = float(lever.get_timestamps()[0])
    assert lever_t0 == pytest.approx(rig.file_start_times[0], abs=1e-9)
    if kind == "xsglog":
        np.testing.assert_allclose(nwbfile.events["imaging_frame_pulses"]["timestamp"][:], rig.frame_times)
        assert not any("NOT aligned" in m for m in messages)
    else:  # no frame channel: frames stay on their own clock, said aloud and in the file
        assert any("records no frame pulses" in m for m in messages)
        assert "records no frame pulses" in lever.comments
    if dispatcher:
        np.testing.assert_allclose(nwbfile.trials["start_time"][:], rig.start_times, atol=1e-3)
        cue = nwbfile.trials["cue_time"][:]
        ok = np.isfinite(rig.cue_times)
        np.testing.assert_allclose(cue[ok], rig.cue_times[ok], atol=1e-3)
    else:
        assert nwbfile.trials is None


def test_neuroconv_converter_writes_the_yaml_file(sources, tmp_path: Path) -> None:
    """The spec path, SessionConverter and a NeuroConv NWBConverter with the mixin give the same clocks."""
    import yaml
    from neuroconv import NWBConverter
    from neuroconv.datainterfaces import Suite2pSegmentationInterface
    from pynwb import NWBHDF5IO

    from nwbmotor import convert
    from nwbmotor.converters import SessionClockMixin

    src = sources["xsglog"]
    rig = src["rig"]
    spec = {"subjects": [{"subject_id": "AP071", "species": "Mus musculus", "sex": "F", "age": "P60D", "sessions": [{
        "session_id": "day01", "session_start_time": "2014-03-01T10:00:00-08:00",
        "session_description": "matrix", "sources": {
            "xsglog": {"folder_path": str(rig.folder)},
            "dispatcher": {"file_path": str(rig.dispatcher_path)},
            "neuroconv:Suite2pSegmentationInterface": {"folder_path": str(src["plane"].parent)},
        }}]}]}
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    result = convert(spec_path, output_dir=tmp_path / "yaml", progress=False)
    assert result.ok, result.summary()

    class LabConverter(SessionClockMixin, NWBConverter):
        data_interface_classes = {"xsglog": XsglogLeverInterface, "dispatcher": DispatcherTrialsInterface,
                                  "suite2p": Suite2pSegmentationInterface}

    converter = LabConverter(source_data={"xsglog": {"folder_path": str(rig.folder)},
                                          "dispatcher": {"file_path": str(rig.dispatcher_path)},
                                          "suite2p": {"folder_path": str(src["plane"].parent)}})
    path = tmp_path / "neuroconv.nwb"
    converter.run_conversion(nwbfile_path=path, metadata=_metadata(converter), overwrite=True)

    def clocks(p: Path) -> dict:
        with NWBHDF5IO(p, "r") as io:
            f = io.read()
            out = {k: (float(s.get_timestamps()[0]), len(s.get_timestamps())) for k, s in _series(f).items()}
            out["trials"] = tuple(np.round(f.trials["start_time"][:], 9))
            return out

    yaml_clocks, nc_clocks = clocks(result.paths[0]), clocks(path)
    assert yaml_clocks == nc_clocks
    assert nc_clocks["Fluorescence/RoiResponseSeries"][0] == pytest.approx(rig.frame_times[0])
    assert nc_clocks["trials"][0] == pytest.approx(rig.start_times[0], abs=1e-3)


def test_plain_converter_without_alignment_warns_and_records(sources) -> None:
    from neuroconv import ConverterPipe

    src = sources["xsglog"]
    rig = src["rig"]
    pipe = ConverterPipe(data_interfaces={"lever": XsglogLeverInterface(rig.folder),
                                          "trials": DispatcherTrialsInterface(rig.dispatcher_path),
                                          "rois": Suite2pInterface(src["plane"])})
    with pytest.warns(UserWarning, match="never") as caught:
        nwbfile = pipe.create_nwbfile(metadata=_metadata(pipe))
    assert len([w for w in caught if "SessionConverter" in str(w.message)]) == 2
    assert "NOT the acquisition's" in nwbfile.trials.description
    ps = nwbfile.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
    assert "NOT the acquisition's" in ps.description


def test_frame_count_far_from_the_pulses_is_an_error(sources, tmp_path: Path) -> None:
    src = sources["xsglog"]
    plane = tmp_path / "plane0"
    write_suite2p_plane(plane, n_rois=2, n_frames=300, image_shape=SHAPE, frame_rate=FRAME_RATE)
    interfaces = {"lever": XsglogLeverInterface(src["rig"].folder), "rois": Suite2pInterface(plane)}
    with pytest.raises(NwbMotorValueError, match=rf"{len(src['rig'].frame_times)} frame pulses .* 300 frames"):
        align_session(interfaces)


def test_no_frame_pulse_is_an_error(sources, tmp_path: Path) -> None:
    import shutil

    rig = src_rig = sources["xsglog"]["rig"]
    folder = tmp_path / "rig"
    shutil.copytree(rig.folder, folder)
    frame_file = next(folder.glob("*_Frame.xsglog"))
    np.zeros(src_rig.n_samples).tofile(frame_file)
    interfaces = {"lever": XsglogLeverInterface(folder), "rois": Suite2pInterface(sources["xsglog"]["plane"])}
    with pytest.raises(NwbMotorValueError, match=r"channel 'Frame' has 0 frame pulse"):
        align_session(interfaces)


def test_a_few_missing_pulses_warn_and_are_recorded(sources, tmp_path: Path) -> None:
    src = sources["xsglog"]
    rig, n = src["rig"], src["n"]
    plane = tmp_path / "plane0"
    write_suite2p_plane(plane, n_rois=2, n_frames=n + 3, image_shape=SHAPE, frame_rate=FRAME_RATE)
    converter = SessionConverter(data_interfaces={"lever": XsglogLeverInterface(rig.folder),
                                                  "rois": Suite2pInterface(plane)})
    with pytest.warns(UserWarning, match="only .* frame pulses"):
        nwbfile = converter.create_nwbfile(metadata=_metadata(converter))
    t = nwbfile.processing["ophys"]["Fluorescence"]["RoiResponseSeries"].get_timestamps()
    tol = 0.01 / FRAME_RATE  # written as a rate when within 1 % of a frame of a regular grid
    np.testing.assert_allclose(t[:n], rig.frame_times, atol=tol)
    step = np.median(np.diff(rig.frame_times))
    np.testing.assert_allclose(t[n:], rig.frame_times[-1] + step * np.arange(1, 4), atol=tol)
    assert "only" in nwbfile.events["imaging_frame_pulses"].description


def test_spec_carries_neuroconv_metadata_and_conversion_options(sources, tmp_path: Path) -> None:
    import yaml
    from pynwb import NWBHDF5IO

    from nwbmotor import convert

    src = sources["xsglog"]
    key = "suite2p_segmentation_chan1_plane0"
    kind = "neuroconv:Suite2pSegmentationInterface"
    session = {
        "session_id": "day01", "session_start_time": "2014-03-01T10:00:00-08:00", "session_description": "spec keys",
        "sources": {"xsglog": {"folder_path": str(src["rig"].folder)},
                    kind: {"folder_path": str(src["plane"].parent)}},
        "neuroconv_metadata": {"Ophys": {"ImagingPlanes": {key: {"location": "MOp", "indicator": "GCaMP6f",
                                                                 "excitation_lambda": 925.0}}}},
        "conversion_options": {kind: {"stub_test": True, "stub_samples": 50}},
    }
    spec = {"subjects": [{"subject_id": "AP071", "species": "Mus musculus", "sex": "F", "age": "P60D",
                          "sessions": [session]}]}
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    result = convert(spec_path, output_dir=tmp_path / "nwb", progress=False)
    assert result.ok, result.summary()
    with NWBHDF5IO(result.paths[0], "r") as io:
        f = io.read()
        plane = next(iter(f.imaging_planes.values()))
        assert plane.location == "MOp" and plane.indicator == "GCaMP6f"
        series = f.processing["ophys"]["Fluorescence"]["RoiResponseSeries"]
        assert series.data.shape[0] == 50
        np.testing.assert_allclose(series.get_timestamps(), src["rig"].frame_times[:50], atol=0.01 / FRAME_RATE)

    session["conversion_options"] = {"suite2p": {"stub_test": True}}
    spec_path.write_text(yaml.safe_dump(spec))
    with pytest.raises(NwbMotorValueError, match=r"conversion_options\.suite2p: no such source"):
        convert(spec_path, output_dir=tmp_path / "bad", progress=False)
