"""ndx-motor-learning: the generated YAML is current, and every type round-trips.

Three layers per type, as in the ndx-template: construct, write -> read -> compare,
and pynwb's NWBH5IOFlexMixin (write, validate, read, compare, export). Every written
file also passes nwbmotor's inspection. Each type of the extension needs an example
in ``EXAMPLES`` (a test fails otherwise).
"""

from __future__ import annotations

import filecmp
import importlib.util
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pynwb import NWBHDF5IO, NWBFile
from pynwb.testing import NWBH5IOFlexMixin, TestCase

import nwbmotor.extensions as ext
from nwbmotor import write_nwbfile
from nwbmotor.testing import assert_valid_nwb, mock_nwbfile

EXT_DIR = ext.SPEC_DIR.parent


def _lever_press_task(nwbfile: NWBFile):
    task = ext.LeverPressTask(
        name="lever_press_task", lever_sample_rate=10_000.0, volts_to_mm=1.8, movement_threshold=0.03,
        response_window=10.0, hold_time=0.2, reward_volume=4.0, cue_tone_frequency=6000.0,
        cue_tone_duration=1.0, iti_min=2.0, iti_max=4.0, protocol="@lever2p",
    )
    nwbfile.add_lab_meta_data(task)
    return task


def _movements_table(nwbfile: NWBFile):
    nwbfile.add_trial(start_time=0.0, stop_time=10.0)
    nwbfile.add_trial(start_time=10.0, stop_time=20.0)
    table = ext.MovementsTable(
        description="lever movements", detection_preset="peters2014",
        detection_parameters=json.dumps({"threshold": 0.0007}),
    )
    rows = [(1.2, 1.9, 0.8, True, True, 0), (12.0, 12.4, 0.3, False, False, 1), (25.0, 25.5, 0.2, False, False, -1)]
    for start, stop, peak, rewarded, cued, trial in rows:
        table.add_row(start_time=start, stop_time=stop, peak_amplitude=peak, rewarded=rewarded, cued=cued,
                      trial=trial)
    nwbfile.add_time_intervals(table)
    return table


def _cell_registration(nwbfile: NWBFile):
    from hdmf.common import DynamicTableRegion, VectorData
    from pynwb.ophys import ImageSegmentation, OpticalChannel, PlaneSegmentation

    device = nwbfile.create_device(name="Microscope", description="two-photon microscope")
    plane = nwbfile.create_imaging_plane(
        name="ImagingPlane", optical_channel=[OpticalChannel(name="Green", description="green", emission_lambda=510.0)], description="L2/3",
        device=device, excitation_lambda=925.0, indicator="GCaMP6f", location="MOp", imaging_rate=28.0,
    )
    rois = PlaneSegmentation(name="PlaneSegmentation", description="rois", imaging_plane=plane)
    for k in range(3):
        mask = np.zeros((8, 8), dtype=np.uint8)
        mask[k : k + 2, k : k + 2] = 1
        rois.add_roi(image_mask=mask)
    module = nwbfile.create_processing_module("ophys", "optical physiology")
    module.add(ImageSegmentation(plane_segmentations=[rois]))
    record = ext.CellRegistration(
        description="identity across sessions", method="matcher", reference_session="day01",
        source="suite2p/plane0", parameters=json.dumps({"min_iou": 0.3}), id=[0, 1, 2],
        columns=[
            DynamicTableRegion(name="roi", data=[0, 1, 2], table=rois, description="the ROI"),
            VectorData(name="global_id", data=[4, -1, 7], description="cell"),
            VectorData(name="match_quality", data=[0.8, 0.0, 0.6], description="IoU"),
            VectorData(name="reference_roi", data=[4, -1, 7], description="reference ROI"),
            VectorData(name="centroid_distance", data=[0.5, np.nan, 1.0], description="pixels"),
        ],
    )
    module.add(record)
    return record


def _spine_dynamics_table(nwbfile: NWBFile):
    from hdmf.common import VectorData

    values = {
        "dendrite": ["d0", "d0"], "session": ["day01", "day02"], "present": [10, 11], "gained": [0, 2],
        "lost": [0, 1], "length": [40.5, 40.5], "area": ["forelimb"] * 2, "condition": ["training"] * 2,
    }
    table = ext.SpineDynamicsTable(
        description="spine scoring", id=[0, 1],
        columns=[VectorData(name=k, data=v, description=k) for k, v in values.items()],
    )
    nwbfile.create_processing_module("ophys", "optical physiology").add(table)
    return table


def _model_object(type_name: str) -> Callable[[NWBFile], object]:
    """Network-model types: a small model session (nwbmotor.models) added to the file."""

    def make(nwbfile: NWBFile):
        import dataclasses

        from nwbmotor.converters.model import add_model_session
        from nwbmotor.testing import mock_model_session

        session = mock_model_session()
        # one object per type, so that the flex round trip finds the same one after reading
        snapshot = dataclasses.replace(session.networks[0], weights={"W_rec": session.networks[0].weights["W_rec"]},
                                       connections={})
        trials = {k: v for k, v in session.trials.items() if k != "network"}
        add_model_session(nwbfile, dataclasses.replace(session, networks=[snapshot], trials=trials))
        return next(obj for obj in nwbfile.objects.values() if type(obj).__name__ == type_name)

    return make


EXAMPLES: dict[str, Callable[[NWBFile], object]] = {
    "LeverPressTask": _lever_press_task,
    "MovementsTable": _movements_table,
    "CellRegistration": _cell_registration,
    "SpineDynamicsTable": _spine_dynamics_table,
    "NetworkWeights": _model_object("NetworkWeights"),
    "NetworkBias": _model_object("NetworkBias"),
    "RecurrentNetwork": _model_object("RecurrentNetwork"),
    "NetworkSnapshots": _model_object("NetworkSnapshots"),
    "ModelUnitsTable": _model_object("ModelUnitsTable"),
    "ModelRateSeries": _model_object("ModelRateSeries"),
    "TrainingLog": _model_object("TrainingLog"),
}


def _getter(type_name: str) -> Callable[[NWBFile], object]:
    def get(nwbfile: NWBFile):
        return next(obj for obj in nwbfile.objects.values() if type(obj).__name__ == type_name)

    return get


def test_every_type_has_an_example() -> None:
    assert set(ext.type_names()) == set(EXAMPLES)


def test_generated_yaml_is_current(tmp_path: Path) -> None:
    script = EXT_DIR / "create_extension_spec.py"
    spec = importlib.util.spec_from_file_location("create_extension_spec", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(tmp_path)
    names = sorted(p.name for p in ext.SPEC_DIR.glob("*.yaml"))
    assert names == sorted(p.name for p in tmp_path.glob("*.yaml"))
    match, mismatch, errors = filecmp.cmpfiles(ext.SPEC_DIR, tmp_path, names, shallow=False)
    assert (mismatch, errors) == ([], []), "run create_extension_spec.py and commit spec/"


@pytest.mark.parametrize("type_name", sorted(EXAMPLES))
def test_construct(type_name: str) -> None:
    obj = EXAMPLES[type_name](mock_nwbfile())
    assert type(obj) is getattr(ext, type_name)


@pytest.mark.parametrize("type_name", sorted(EXAMPLES))
def test_write_read_compare(type_name: str, tmp_path: Path) -> None:
    nwbfile = mock_nwbfile()
    written = EXAMPLES[type_name](nwbfile)
    path = write_nwbfile(nwbfile, tmp_path / "roundtrip.nwb")
    assert_valid_nwb(path)
    with NWBHDF5IO(path, "r") as io:
        read = io.read().objects[written.object_id]
        assert type(read) is type(written)
        for field in written.fields:
            expected, actual = written.fields[field], read.fields[field]
            if isinstance(expected, np.generic):  # numpy scalars have a .data buffer too
                assert actual == expected, field
            elif isinstance(expected, np.ndarray):  # so do arrays; compare values
                np.testing.assert_array_equal(np.asarray(actual[:]), expected)
            elif hasattr(expected, "data"):  # a container, or a DataIO wrapper of a dataset
                np.testing.assert_array_equal(np.asarray(getattr(actual, "data", actual)[:]), np.asarray(expected.data))
            elif isinstance(expected, (str, int, float, bool, np.generic)):
                assert actual == expected, field


def _flex_case(type_name: str) -> type[TestCase]:
    class Case(NWBH5IOFlexMixin, TestCase):
        @pytest.fixture(autouse=True)
        def _in_tmp(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
            monkeypatch.chdir(tmp_path)

        def getContainerType(self) -> str:
            return type_name

        def addContainer(self) -> None:
            EXAMPLES[type_name](self.nwbfile)

        def getContainer(self, nwbfile: NWBFile):
            return _getter(type_name)(nwbfile)

    Case.__name__ = f"TestFlexRoundTrip{type_name}"
    return Case


for _name in EXAMPLES:
    globals()[f"TestFlexRoundTrip{_name}"] = _flex_case(_name)


def test_file_reads_without_nwbmotor(tmp_path: Path) -> None:
    nwbfile = mock_nwbfile()
    _lever_press_task(nwbfile)
    path = write_nwbfile(nwbfile, tmp_path / "cached.nwb")
    code = textwrap.dedent(
        f"""
        import sys
        from pynwb import NWBHDF5IO
        with NWBHDF5IO({str(path)!r}, "r", load_namespaces=True) as io:
            task = io.read().lab_meta_data["lever_press_task"]
            print(type(task).__name__, task.lever_sample_rate, task.protocol)
        assert not any(m.startswith("nwbmotor") for m in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["LeverPressTask", "10000.0", "@lever2p"]
