"""Batch conversion: parallel workers, Zarr, and Ctrl-C in the middle of a batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from nwbmotor import convert, inspect_file
from nwbmotor._io import PARTIAL_MARKER
from nwbmotor.testing import DemoDataset, assert_valid_nwb


def _metadata_only_spec(tmp_path: Path, n: int, sources: dict | None = None) -> Path:
    spec = {
        "metadata": {"lab": "Motor learning lab", "institution": "University of California San Diego",
                     "experimenter": ["Peters, Andrew"], "keywords": ["motor learning"],
                     "experiment_description": "Batch test."},
        "subjects": [{
            "subject_id": "AP071", "species": "Mus musculus", "sex": "F", "age": "P60D",
            "description": "head-fixed mouse",
            "sessions": [{"session_id": f"day{i:02d}", "session_start_time": f"2014-03-{i:02d}T10:00:00-08:00",
                          "session_description": f"session {i}", **({"sources": sources} if sources else {})}
                         for i in range(1, n + 1)],
        }],
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_two_workers_convert_every_session(tmp_path: Path) -> None:
    result = convert(_metadata_only_spec(tmp_path, 3), output_dir=tmp_path / "nwb", workers=2, progress=False)
    assert [o.status for o in result.outcomes] == ["written"] * 3
    assert [p.name for p in result.paths] == [f"sub-AP071_ses-day0{i}.nwb" for i in (1, 2, 3)]
    for path in result.paths:
        assert_valid_nwb(path)


def test_zarr_backend(small_demo: DemoDataset, tmp_path: Path) -> None:
    spec = yaml.safe_load(small_demo.spec_path.read_text())
    spec["subjects"] = spec["subjects"][:1]
    spec["subjects"][0]["sessions"] = spec["subjects"][0]["sessions"][:1]
    spec["subjects"][0]["sessions"][0]["sources"] = {
        k: v for k, v in spec["subjects"][0]["sessions"][0]["sources"].items() if k in {"xsglog", "dispatcher"}
    }
    path = small_demo.root / "zarr-spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = convert(path, output_dir=tmp_path / "nwb", backend="zarr", progress=False)
    assert result.ok, result.summary()
    (store,) = result.paths
    assert store.name.endswith(".nwb.zarr") and store.is_dir()
    report = inspect_file(store)
    assert report.ok, [str(f) for f in report.findings]


def _finished(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.nwb") if PARTIAL_MARKER not in p.name)


def test_ctrl_c_leaves_finished_files_valid_and_no_partial_files(small_demo: DemoDataset, tmp_path: Path) -> None:
    out = tmp_path / "nwb"
    proc = subprocess.Popen(
        [sys.executable, "-P", "-m", "nwbmotor", "convert", str(small_demo.spec_path), "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not _finished(out):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    # the first file is complete; interrupt while the others are being read or written (a
    # partial file may or may not exist yet: both states must end with no partial file)
    assert proc.poll() is None, "the conversion ended before it could be interrupted"
    os.kill(proc.pid, signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode != 0
    finished = _finished(out)
    assert 1 <= len(finished) < 4
    assert not [p for p in out.rglob("*") if PARTIAL_MARKER in p.name]
    for path in finished:
        assert_valid_nwb(path)
    resumed = convert(small_demo.spec_path, output_dir=out, progress=False)
    statuses = [o.status for o in resumed.outcomes]
    assert statuses.count("skipped") == len(finished) and statuses.count("written") == 4 - len(finished)
