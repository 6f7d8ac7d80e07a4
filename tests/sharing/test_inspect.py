"""`nwbmotor inspect` exits 1 on every kind of bad file and 0 on a clean one."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from pynwb import NWBHDF5IO, NWBFile
from pynwb.file import Subject

from nwbmotor import inspect_file, write_nwbfile
from nwbmotor._cli import main
from nwbmotor.extensions import LeverPressTask
from nwbmotor.testing import mock_metadata, mock_nwbfile


def _clean(path: Path) -> Path:
    return write_nwbfile(mock_nwbfile(), path)


def _bad_age(path: Path) -> Path:
    nwbfile = NWBFile(**mock_metadata()["NWBFile"])
    nwbfile.subject = Subject(subject_id="AP071", species="Mus musculus", sex="F", age="90 days")
    return write_nwbfile(nwbfile, path)


def _no_subject(path: Path) -> Path:
    return write_nwbfile(NWBFile(**mock_metadata()["NWBFile"]), path)


def _truncated(path: Path) -> Path:
    nwbfile = mock_nwbfile()
    nwbfile.add_lab_meta_data(LeverPressTask(name="lever_press_task", lever_sample_rate=10_000.0))
    write_nwbfile(nwbfile, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _plain_hdf5(path: Path) -> Path:
    with h5py.File(path, "w") as f:
        f["lever"] = np.zeros(100)
    return path


def _text(path: Path) -> Path:
    path.write_text("session notes: mouse pressed the lever\n")
    return path


def _no_cached_spec(path: Path) -> Path:
    nwbfile = mock_nwbfile()
    nwbfile.add_lab_meta_data(LeverPressTask(name="lever_press_task", lever_sample_rate=10_000.0))
    with NWBHDF5IO(path, "w") as io:
        io.write(nwbfile, cache_spec=False)
    return path


BAD: dict[str, tuple[Callable[[Path], Path], str]] = {
    "bad subject age": (_bad_age, "check_subject_age"),
    "missing subject": (_no_subject, "check_subject_exists"),
    "truncated file": (_truncated, "open"),
    "non-NWB HDF5 file": (_plain_hdf5, "open"),
    "text file": (_text, "open"),
    "file without cached spec": (_no_cached_spec, "spec-cache"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_inspect_exits_1_on_bad_file(case: str, tmp_path: Path) -> None:
    make, check = BAD[case]
    path = make(tmp_path / "session.nwb")
    report = inspect_file(path)
    assert not report.ok
    assert check in {f.check for f in report.findings if f.severity in {"error", "critical", "violation"}}
    result = CliRunner().invoke(main, ["inspect", str(path)])
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output and "Traceback" not in result.output


def test_inspect_exits_0_on_clean_file_and_reports_json(tmp_path: Path) -> None:
    path = _clean(tmp_path / "session.nwb")
    result = CliRunner().invoke(main, ["inspect", "--json", str(path)])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)
    assert report["ok"] is True and report["path"] == str(path)
    assert all(f["severity"] == "suggestion" for f in report["findings"])


def test_inspect_groups_by_file_and_fails_if_any_fails(tmp_path: Path) -> None:
    good = _clean(tmp_path / "a" / "good.nwb")
    bad = _no_subject(tmp_path / "a" / "bad.nwb")
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "a")])
    assert result.exit_code == 1
    assert f"{bad}: FAILED" in result.output and f"{good}: OK" in result.output
    assert "2 file(s) inspected, 1 failed" in result.output


def test_inspect_end_to_end_in_a_subprocess(tmp_path: Path) -> None:
    bad = _bad_age(tmp_path / "bad.nwb")
    proc = subprocess.run([sys.executable, "-P", "-m", "nwbmotor", "inspect", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "check_subject_age" in proc.stdout
