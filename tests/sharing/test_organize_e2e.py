"""`nwbmotor organize`: DANDI layout + dandiset.yaml, `dandi validate` through its API."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pynwb import NWBFile

from nwbmotor import NwbMotorValueError, organize, validate_dandiset, write_nwbfile
from nwbmotor._cli import main
from nwbmotor.testing import mock_metadata, mock_nwbfile


def _sessions(folder: Path, n: int = 2) -> list[Path]:
    paths = []
    for i in range(n):
        nwbfile = mock_nwbfile(subject_id="AP071", session_id=f"day0{i + 1}")
        paths.append(write_nwbfile(nwbfile, folder / f"session{i}.nwb"))
    return paths


def test_organize_makes_dandi_layout_that_dandi_validate_passes(tmp_path: Path) -> None:
    _sessions(tmp_path / "nwb")
    result = organize([tmp_path / "nwb"], tmp_path / "000123")
    assert result.ok, result.summary()
    names = sorted(str(p.relative_to(tmp_path / "000123")) for p in result.files)
    assert names == ["sub-AP071/sub-AP071_ses-day01.nwb", "sub-AP071/sub-AP071_ses-day02.nwb"]
    meta = yaml.safe_load((tmp_path / "000123" / "dandiset.yaml").read_text())
    assert meta["identifier"].startswith("DANDI:") and meta["name"] and meta["description"]
    assert validate_dandiset(tmp_path / "000123") == []


def test_dandi_validate_reports_a_file_dandi_rejects(tmp_path: Path) -> None:
    dandiset = tmp_path / "ds"
    organize(_sessions(tmp_path / "nwb", 1), dandiset)
    bad = NWBFile(**mock_metadata()["NWBFile"])  # no subject: DANDI cannot place it
    write_nwbfile(bad, dandiset / "sub-AP071" / "sub-AP071_ses-day09.nwb")
    problems = validate_dandiset(dandiset)
    assert any("sub-AP071_ses-day09.nwb" in p for p in problems), problems


def test_existing_dandiset_is_not_clobbered_and_organizing_again_changes_nothing(tmp_path: Path) -> None:
    dandiset = tmp_path / "ds"
    organize(_sessions(tmp_path / "nwb"), dandiset)
    yaml_before = (dandiset / "dandiset.yaml").read_text()
    files_before = {p: p.stat().st_mtime_ns for p in dandiset.rglob("*.nwb")}
    again = organize([tmp_path / "nwb"], dandiset)
    assert again.ok and again.files == () and len(again.unchanged) == 2
    assert (dandiset / "dandiset.yaml").read_text() == yaml_before
    assert {p: p.stat().st_mtime_ns for p in dandiset.rglob("*.nwb")} == files_before


def test_another_file_at_a_sessions_name_is_left_alone(tmp_path: Path) -> None:
    dandiset = tmp_path / "ds"
    (first,) = _sessions(tmp_path / "a", 1)
    organize([first], dandiset)
    (placed,) = dandiset.rglob("*.nwb")
    before = placed.read_bytes()
    (other,) = _sessions(tmp_path / "b", 1)  # same subject and session ids, another file
    result = organize([other], dandiset)
    assert not result.ok and result.files == ()
    assert len(result.refused) == 1 and "exists and holds another file" in result.refused[0]
    assert placed.read_bytes() == before


def test_non_dandiset_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "thesis"
    target.mkdir()
    (target / "chapter1.tex").write_text("precious")
    with pytest.raises(NwbMotorValueError, match="not empty and has no dandiset.yaml"):
        organize(_sessions(tmp_path / "nwb", 1), target)
    assert sorted(p.name for p in target.iterdir()) == ["chapter1.tex"]


def test_cli_organize(tmp_path: Path) -> None:
    _sessions(tmp_path / "nwb", 1)
    result = CliRunner().invoke(main, ["organize", str(tmp_path / "nwb"), "--dandiset-dir", str(tmp_path / "ds")])
    assert result.exit_code == 0, result.output
    assert "dandi validate: OK" in result.output
    missing = CliRunner().invoke(main, ["organize", str(tmp_path / "nothing"), "-d", str(tmp_path / "ds2")])
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
