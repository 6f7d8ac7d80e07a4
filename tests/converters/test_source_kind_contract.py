"""The contract every source kind keeps, checked for each registered kind (and a NeuroConv one).

For each kind a small case makes the kind's own files (and those of the partners it
needs) with the public generators of ``nwbmotor.testing``, then:

1. a one-session spec converts, and the kind's objects are where DESIGN.md's
   "Where things live in the file" puts them;
2. building the interfaces, ``get_metadata`` and ``add_to_nwbfile`` (through
   NeuroConv's ``ConverterPipe`` and per interface) never change the metadata passed in;
3. a corrupted main source file fails its session with a message naming that file;
4. the written file passes ``nwbmotor.testing.assert_valid_nwb`` (pynwb validation and
   nwbinspector with the DANDI configuration).

A kind registered in ``SOURCE_KINDS`` without a case here fails the test: a new kind
cannot skip the contract.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import yaml

from nwbmotor import NwbMotorError
from nwbmotor.conversion import (
    SOURCE_KINDS,
    build_interfaces,
    convert,
    load_spec,
    to_neuroconv_metadata,
)
from nwbmotor.testing import (
    SyntheticMovie,
    assert_valid_nwb,
    make_registration_sessions,
    mock_nwbfile,
    write_lab_roi_session,
    write_model_npz,
    write_registration_table,
    write_rig_session,
    write_scanimage_session,
    write_spine_table,
    write_suite2p_plane,
    write_tiff_movie,
)

SESSION = "day01"


@dataclasses.dataclass
class Case:
    """One kind's session: its sources (partners included), the file to corrupt, where its objects live."""

    kind: str
    sources: dict[str, dict[str, Any]]
    #: the kind's main source file, corrupted for contract point 3 (None: the kind reads no file)
    main_file: Path | None
    #: checks the written file (an open h5py.File) holds the kind's objects where DESIGN.md says
    check: Callable[[h5py.File], None]
    #: makes the main file unreadable (default: cut it to a third of its bytes)
    corrupt: Callable[[Path], None] | None = None
    #: for a kind without a file: source arguments that are bad input, and what the message must name
    bad_arguments: dict[str, Any] | None = None
    bad_argument_names: tuple[str, ...] = ()
    #: what the failure message must name, when not the main file itself (a foreign reader's folder)
    names: tuple[str, ...] | None = None
    #: NeuroConv metadata the session needs (the spec key ``neuroconv_metadata``)
    neuroconv_metadata: dict[str, Any] | None = None


# ----------------------------------------------------------------------------- file checks
def _type_of(f: h5py.File, path: str) -> str:
    assert path in f, f"{path} is not in the file (has {sorted(_walk(f))[:40]})"
    value = f[path].attrs.get("neurodata_type", "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _walk(f: h5py.File) -> list[str]:
    names: list[str] = []
    f.visit(names.append)
    return names


def _children_of_type(f: h5py.File, group: str, neurodata_type: str) -> list[str]:
    if group not in f:
        return []
    return [name for name in f[group] if _type_of(f, f"{group}/{name}") == neurodata_type]


def _columns(f: h5py.File, table: str) -> set[str]:
    value = f[table].attrs["colnames"]
    return {c.decode() if isinstance(c, bytes) else str(c) for c in value}


def _check_movie(f: h5py.File) -> None:
    series = _children_of_type(f, "acquisition", "TwoPhotonSeries")
    assert series, "no TwoPhotonSeries in acquisition/"
    assert all(f[f"acquisition/{s}/data"].shape[0] > 0 for s in series)


def _check_rois(*columns: str, traces: tuple[str, ...] = ("Fluorescence", "DfOverF", "Deconvolved")):
    def check(f: h5py.File) -> None:
        table = "processing/ophys/ImageSegmentation/PlaneSegmentation"
        assert _type_of(f, table) == "PlaneSegmentation"
        assert set(columns) <= _columns(f, table), (columns, _columns(f, table))
        for name in traces:  # Deconvolved is a Fluorescence container of its own
            assert _type_of(f, f"processing/ophys/{name}") in {"Fluorescence", "DfOverF"}, name

    return check


def _check_lever(f: h5py.File) -> None:
    assert _type_of(f, "processing/behavior/BehavioralTimeSeries/lever") == "TimeSeries"
    assert _type_of(f, "intervals/movements") == "MovementsTable"
    assert _children_of_type(f, "general", "LeverPressTask"), "no LeverPressTask in general/ (lab_meta_data)"


def _check_trials(f: h5py.File) -> None:
    assert _type_of(f, "intervals/trials") == "TimeIntervals"
    expected = {"cue_time", "movement_onset", "movement_offset", "reward_time", "rewarded", "catch"}
    assert expected <= _columns(f, "intervals/trials"), _columns(f, "intervals/trials")
    assert f["intervals/trials/start_time"].shape[0] > 0


def _check_lever_and_trials(f: h5py.File) -> None:
    _check_lever(f)
    _check_trials(f)


def _check_registration(f: h5py.File) -> None:
    _check_rois("global_id", traces=("Fluorescence",))(f)
    assert _type_of(f, "processing/ophys/CellRegistration") == "CellRegistration"


def _check_spines(f: h5py.File) -> None:
    assert _type_of(f, "processing/ophys/spine_dynamics") == "SpineDynamicsTable"
    assert f["processing/ophys/spine_dynamics/id"].shape[0] > 0


def _check_opto(f: h5py.File) -> None:
    assert _type_of(f, "intervals/optogenetic_epochs") == "OptogeneticEpochsTable"
    assert f["intervals/optogenetic_epochs/start_time"].shape[0] > 0


def _check_model(f: h5py.File) -> None:
    assert _type_of(f, "processing/model") == "ProcessingModule"
    assert len(f["processing/model"]) > 0


# ----------------------------------------------------------------------------- cases
def _rig(root: Path, *, kind: str = "xsglog", opto: bool = False):
    return write_rig_session(root / "rig", n_trials=4, kind=kind, trials_per_file=2,
                             opto_fraction=0.5 if opto else 0.0, seed=3)


def _rig_sources(root: Path, rig) -> dict[str, dict[str, Any]]:
    return {
        rig.kind: {"folder_path": str(rig.folder.relative_to(root))},
        "dispatcher": {"file_path": str(rig.dispatcher_path.relative_to(root))},
    }


def _plane(root: Path, n_rois: int = 6, session: Mapping[str, Any] | None = None) -> Path:
    folder = root / "s2p" / "suite2p" / "plane0"
    write_suite2p_plane(folder, n_rois=n_rois, n_frames=120, image_shape=(48, 48), session=session, seed=2)
    return folder


def _scanimage(root: Path) -> Case:
    movie = write_scanimage_session(root / "raw", n_frames=40, shape=(24, 24), n_files=2, seed=1)
    return Case("scanimage", {"scanimage": {"folder_path": "raw"}}, movie.files[0], _check_movie)


def _tiff(root: Path) -> Case:
    path = write_tiff_movie(root / "movie.tif", SyntheticMovie(n_frames=40, shape=(24, 24)))
    return Case("tiff", {"tiff": {"file_path": "movie.tif", "sampling_frequency": 30.0}}, path, _check_movie)


def _suite2p(root: Path) -> Case:
    folder = _plane(root)
    return Case("suite2p", {"suite2p": {"folder_path": str(folder.relative_to(root))}}, folder / "stat.npy",
                _check_rois("cell_type"))


def _lab_rois(root: Path) -> Case:
    truth = write_lab_roi_session(root / "rois", n_rois=5, image_shape=(48, 48), n_frames=120, seed=1)
    sources = {"lab_rois": {"file_path": "rois/AP071_140301.roi", "dff_path": "rois/AP071_140301_roi_data.mat",
                            "image_shape": [48, 48], "frame_rate": 28.0}}
    return Case("lab_rois", sources, truth["roi_path"], _check_rois("cell_type", "excluded", traces=("DfOverF",)))


def _registration(root: Path) -> Case:
    out = make_registration_sessions(6, 2, (48, 48), max_shift=2, turnover=0.2, seed=4)
    session = out["sessions"][1]
    folder = _plane(root, session=session)
    table = write_registration_table(root / "registration.csv",
                                     {"day00": out["sessions"][0]["cell_ids"], SESSION: session["cell_ids"]})
    sources = {
        "suite2p": {"folder_path": str(folder.relative_to(root))},
        "registration": {"file_path": "registration.csv", "reference_session": "day00"},
    }
    return Case("registration", sources, table, _check_registration,
                corrupt=lambda p: p.write_text("session,roi,cell\nday01,zero,1\n"))


def _spines(root: Path) -> Case:
    write_spine_table(root / "spines.csv", n_dendrites=3, sessions=("day00", SESSION), seed=1)
    return Case("spines", {"spines": {"file_path": "spines.csv", "session": SESSION}}, root / "spines.csv",
                _check_spines, corrupt=lambda p: p.write_text("dendrite_id,session,spines_present\nd1,day01,many\n"))


def _xsglog(root: Path) -> Case:
    rig = _rig(root)
    lever = next(p for p in rig.acquisition_paths if p.name.endswith("_Lever.xsglog"))
    # a channel file whose size is not a whole number of float64 samples
    return Case("xsglog", _rig_sources(root, rig), lever, _check_lever_and_trials,
                corrupt=lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 24 * 8 + 3]))


def _xsg(root: Path) -> Case:
    rig = _rig(root, kind="xsg")
    return Case("xsg", _rig_sources(root, rig), rig.acquisition_paths[0], _check_lever_and_trials)


def _dispatcher(root: Path) -> Case:
    rig = _rig(root)
    return Case("dispatcher", _rig_sources(root, rig), rig.dispatcher_path, _check_trials)


def _lever_table(root: Path) -> Case:
    rig = _rig(root)
    lever = np.fromfile(next(p for p in rig.acquisition_paths if p.name.endswith("_Lever.xsglog")), dtype="<f8")
    np.savez(root / "lever.npz", lever=lever, sample_rate=rig.sample_rate, frame_times=rig.frame_times,
             start_time=rig.start_times, stop_time=rig.stop_times, cue_time=rig.cue_times,
             reward_time=rig.reward_times)
    return Case("lever_table", {"lever_table": {"file_path": "lever.npz"}}, root / "lever.npz",
                _check_lever_and_trials)


def _optogenetics(root: Path) -> Case:
    rig = _rig(root, opto=True)
    sources = {**_rig_sources(root, rig),
               "optogenetics": {"location": "MOp", "effector": "ChR2", "driver": "PV-Cre", "wavelength_in_nm": 473.0}}
    return Case("optogenetics", sources, None, _check_opto,
                bad_arguments={"location": "MOp", "effector": "ChR2", "wavelength_in_nm": -473.0},
                bad_argument_names=("optogenetics", "wavelength_in_nm", "-473"))


def _model(root: Path) -> Case:
    write_model_npz(root / "run.npz", n_trials=3, n_steps=20, n_units=5, seed=1)
    return Case("model", {"model": {"file_path": "run.npz", "format": "npz"}}, root / "run.npz", _check_model)


def _neuroconv_suite2p(root: Path) -> Case:
    folder = _plane(root)
    kind = "neuroconv:Suite2pSegmentationInterface"
    # NeuroConv's reader names no file when F.npy is cut short: convert names the source folder
    return Case(kind, {kind: {"folder_path": str(folder.parent.relative_to(root))}}, folder / "F.npy",
                _check_rois(traces=("Fluorescence",)), names=(str(folder.parent), kind),
                neuroconv_metadata={"Ophys": {"ImagingPlanes": {"suite2p_segmentation_chan1_plane0": {"location": "MOp"}}}})


CASES: dict[str, Callable[[Path], Case]] = {
    "scanimage": _scanimage,
    "tiff": _tiff,
    "suite2p": _suite2p,
    "lab_rois": _lab_rois,
    "registration": _registration,
    "spines": _spines,
    "xsg": _xsg,
    "xsglog": _xsglog,
    "dispatcher": _dispatcher,
    "lever_table": _lever_table,
    "optogenetics": _optogenetics,
    "model": _model,
    "neuroconv:Suite2pSegmentationInterface": _neuroconv_suite2p,
}
KINDS = sorted(set(SOURCE_KINDS) | {k for k in CASES if k.startswith("neuroconv:")})


# ----------------------------------------------------------------------------- helpers
def _spec(root: Path, sources: dict[str, dict[str, Any]], neuroconv_metadata: dict[str, Any] | None = None) -> Path:
    spec = {
        "metadata": {
            "lab": "Motor learning lab",
            "institution": "University of California San Diego",
            "experimenter": ["Peters, Andrew"],
            "keywords": ["motor learning"],
            "experiment_description": "Lever-press learning with two-photon imaging.",
        },
        "subjects": [{
            "subject_id": "AP071", "species": "Mus musculus", "sex": "F", "age": "P60D",
            "genotype": "GAD-Cre;tdTomato", "description": "Head-fixed mouse.",
            "sessions": [{
                "session_id": SESSION,
                "session_start_time": "2014-03-01T10:00:00-08:00",
                "session_description": "Cued lever-press training with two-photon imaging.",
                "sources": sources,
                **({"neuroconv_metadata": neuroconv_metadata} if neuroconv_metadata else {}),
            }],
        }],
    }
    path = root / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _case(kind: str, root: Path) -> Case:
    if kind not in CASES:
        pytest.fail(f"source kind {kind!r} is registered but has no contract case in {__name__}.CASES; add one")
    case = CASES[kind](root)
    assert case.kind == kind and kind in case.sources
    return case


def _convert(spec: Path, out: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reader warnings (e.g. xsg gaps) are recorded in the file
        return convert(spec, output_dir=out, progress=False)


def _assert_same(before: Any, after: Any, where: str = "metadata") -> None:
    """Deep equality that also compares numpy arrays and reports the first key that differs."""
    if isinstance(before, Mapping):
        assert isinstance(after, Mapping), f"{where}: was a mapping, now {type(after).__name__}"
        assert set(before) == set(after), f"{where}: keys {sorted(map(str, before))} became {sorted(map(str, after))}"
        for key in before:
            _assert_same(before[key], after[key], f"{where}[{key!r}]")
    elif isinstance(before, (list, tuple)):
        assert type(after) is type(before) and len(after) == len(before), f"{where}: {before!r} became {after!r}"
        for i, (b, a) in enumerate(zip(before, after)):
            _assert_same(b, a, f"{where}[{i}]")
    elif isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray), f"{where}: was an array, now {after!r}"
        np.testing.assert_array_equal(after, before, err_msg=where)
    else:
        assert type(after) is type(before) and after == before, f"{where}: {before!r} became {after!r}"


# ----------------------------------------------------------------------------- the contract
def test_every_registered_kind_has_a_case() -> None:
    missing = sorted(set(SOURCE_KINDS) - set(CASES))
    assert not missing, f"source kinds without a contract case: {missing}"
    assert any(k.startswith("neuroconv:") for k in CASES)


@pytest.mark.parametrize("kind", KINDS)
def test_converts_to_valid_file_with_objects_where_design_says(kind: str, tmp_path: Path) -> None:
    case = _case(kind, tmp_path)
    result = _convert(_spec(tmp_path, case.sources, case.neuroconv_metadata), tmp_path / "nwb")
    assert result.ok, result.summary()
    (path,) = result.paths
    assert path == tmp_path / "nwb" / "sub-AP071" / f"sub-AP071_ses-{SESSION}.nwb"
    with h5py.File(path, "r") as f:
        case.check(f)
    assert_valid_nwb(path)  # raises with the findings on any problem


@pytest.mark.parametrize("kind", KINDS)
def test_metadata_passed_in_is_never_changed(kind: str, tmp_path: Path) -> None:
    from neuroconv import ConverterPipe
    from neuroconv.utils import dict_deep_update

    case = _case(kind, tmp_path)
    (session,) = load_spec(_spec(tmp_path, case.sources, case.neuroconv_metadata))
    frozen_sources = copy.deepcopy(session.sources)
    ours = dict_deep_update(copy.deepcopy(case.neuroconv_metadata or {}),
                            to_neuroconv_metadata(session.subject, session.session, session.shared))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # through NeuroConv's ConverterPipe, as convert does
        interfaces = build_interfaces(session)
        _assert_same(frozen_sources, session.sources, "source arguments")
        converter = ConverterPipe(data_interfaces=interfaces)
        metadata = dict_deep_update(converter.get_metadata(), ours)
        frozen = copy.deepcopy(metadata)
        converter.create_nwbfile(metadata=metadata)
        _assert_same(frozen, metadata)
        # per interface, on fresh interfaces: each one's own metadata, given back to it
        interfaces = build_interfaces(session)
        nwbfile = mock_nwbfile()
        for name, interface in interfaces.items():
            own = dict_deep_update(interface.get_metadata(), ours)
            frozen = copy.deepcopy(own)
            interface.add_to_nwbfile(nwbfile, own)
            _assert_same(frozen, own, f"{name} metadata")
            # what get_metadata returns is the interface's answer, not a view of its state
            again = interface.get_metadata()
            again.setdefault("NWBFile", {})["session_description"] = "changed by the caller"
            assert interface.get_metadata().get("NWBFile", {}).get("session_description") != "changed by the caller"


@pytest.mark.parametrize("kind", KINDS)
def test_corrupt_main_file_fails_the_session_naming_the_file(kind: str, tmp_path: Path) -> None:
    case = _case(kind, tmp_path)
    sources = case.sources
    if case.main_file is None:  # a kind that reads no file: bad arguments are named instead
        assert case.bad_arguments is not None
        sources = {**sources, kind: case.bad_arguments}
        names = case.bad_argument_names
    else:
        assert case.main_file.is_file(), case.main_file
        (case.corrupt or (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 3])))(case.main_file)
        names = case.names or (str(case.main_file),)
    spec = _spec(tmp_path, sources, case.neuroconv_metadata)
    result = _convert(spec, tmp_path / "nwb")
    (outcome,) = result.outcomes
    assert outcome.status == "failed", outcome
    assert not Path(outcome.path).exists()
    assert not outcome.message.startswith("unexpected"), outcome.message  # an NwbMotorError, not a crash
    for name in names:
        assert name in outcome.message, (name, outcome.message)
    # and building the interfaces as convert does raises one NwbMotorError naming the same
    (session,) = load_spec(spec)
    with warnings.catch_warnings(), pytest.raises(NwbMotorError) as raised:
        warnings.simplefilter("ignore")
        interfaces = build_interfaces(session)
        for interface in interfaces.values():
            interface.add_to_nwbfile(mock_nwbfile(), dict(interface.get_metadata()))
    for name in names:
        assert name in str(raised.value), (name, str(raised.value))
