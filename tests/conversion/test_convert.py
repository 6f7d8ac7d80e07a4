from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from neuroconv import BaseDataInterface
from pydantic import FilePath

from nwbmotor import NwbMotorValueError, convert, load_spec
from nwbmotor._cli import main
from nwbmotor.conversion import SOURCE_KINDS, get_interface_class, register_source_kind
from nwbmotor.testing import assert_valid_nwb


def _spec(tmp_path: Path, **session_extra) -> dict:
    return {
        "metadata": {
            "lab": "Motor learning lab",
            "institution": "University of California San Diego",
            "experimenter": ["Peters, Andrew"],
            "keywords": ["motor learning"],
            "experiment_description": "Lever-press learning with imaging.",
        },
        "subjects": [
            {
                "subject_id": "AP071",
                "species": "Mus musculus",
                "sex": "F",
                "age": "P60D",
                "genotype": "GAD-Cre;tdTomato",
                "description": "head-fixed mouse",
                "sessions": [
                    {
                        "session_id": f"day0{i}",
                        "session_start_time": f"2014-03-0{i}T10:00:00-08:00",
                        "session_description": f"lever-press training day {i}",
                        **session_extra,
                    }
                    for i in (1, 2)
                ],
            }
        ],
    }


def _write(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_metadata_only_conversion_writes_dandi_named_valid_files(tmp_path: Path) -> None:
    result = convert(_write(tmp_path, _spec(tmp_path)), output_dir=tmp_path / "nwb", progress=False)
    assert result.ok
    expected = [tmp_path / "nwb" / "sub-AP071" / f"sub-AP071_ses-day0{i}.nwb" for i in (1, 2)]
    assert result.paths == expected
    for path in expected:
        report = assert_valid_nwb(path)
        assert report.ok
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(expected[1], "r") as io:
        nwbfile = io.read()
        assert (nwbfile.subject.subject_id, nwbfile.session_id) == ("AP071", "day02")
        assert nwbfile.lab == "Motor learning lab" and nwbfile.subject.genotype == "GAD-Cre;tdTomato"


def test_rerun_skips_finished_files_and_overwrite_redoes_them(tmp_path: Path) -> None:
    spec = _write(tmp_path, _spec(tmp_path))
    first = convert(spec, output_dir=tmp_path / "nwb", progress=False)
    stamp = [p.stat().st_mtime_ns for p in first.paths]
    again = convert(spec, output_dir=tmp_path / "nwb", progress=False)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    assert [p.stat().st_mtime_ns for p in again.paths] == stamp
    redo = convert(spec, output_dir=tmp_path / "nwb", overwrite=True, progress=False)
    assert [o.status for o in redo.outcomes] == ["written", "written"]


def _bad_specs(tmp_path: Path) -> list[tuple[dict, str]]:
    unknown = _spec(tmp_path)
    unknown["subjects"][0]["sessions"][1]["colour"] = "blue"
    missing = _spec(tmp_path)
    del missing["subjects"][0]["sessions"][0]["session_description"]
    wrong_type = _spec(tmp_path)
    wrong_type["subjects"][0]["sessions"] = "day01"
    bad_age = _spec(tmp_path)
    bad_age["subjects"][0]["age"] = "90 days"
    bad_arg = _spec(tmp_path, sources={"neuroconv:Suite2pSegmentationInterface": {"folder_path": ".", "frobnicate": 1}})
    bad_kind = _spec(tmp_path, sources={"scanimagexx": {"folder_path": "."}})
    return [
        (unknown, r"subjects\[0\]\.sessions\[1\]\.colour: unknown key"),
        (missing, r"subjects\[0\]\.sessions\[0\]\.session_description: required field is missing"),
        (wrong_type, r"subjects\[0\]\.sessions: .*got 'day01'"),
        (bad_age, r"subjects\[0\]\.age: age '90 days' is not an ISO 8601 duration; write 'P90D'"),
        (bad_arg, r"sources\.neuroconv:Suite2pSegmentationInterface: unknown key\(s\) \['frobnicate'\]"),
        (bad_kind, r"sources\.scanimagexx: unknown source kind"),
    ]


@pytest.mark.parametrize("case", range(6))
def test_bad_spec_rejected_with_key_path_before_anything_is_written(tmp_path: Path, case: int) -> None:
    spec, message = _bad_specs(tmp_path)[case]
    with pytest.raises(NwbMotorValueError, match=message):
        convert(_write(tmp_path, spec), output_dir=tmp_path / "nwb", progress=False)
    assert not (tmp_path / "nwb").exists()


def test_cli_prints_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    spec, _ = _bad_specs(tmp_path)[3]
    result = CliRunner().invoke(main, ["convert", str(_write(tmp_path, spec)), "-o", str(tmp_path / "nwb")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "error:" in result.output and "subjects[0].age" in result.output


class ExplodingInterface(BaseDataInterface):
    """Stands for a reader that finds its file corrupt."""

    def __init__(self, file_path: FilePath):
        raise NwbMotorValueError(f"{file_path}: field 'header' is corrupt")

    def add_to_nwbfile(self, nwbfile, metadata, **options) -> None:  # pragma: no cover
        raise AssertionError("never built")


def test_failing_session_is_reported_and_others_complete(tmp_path: Path) -> None:
    (tmp_path / "rig.dat").write_bytes(b"garbage")
    spec = _spec(tmp_path)
    spec["subjects"][0]["sessions"][0]["sources"] = {"exploding": {"file_path": "rig.dat"}}
    register_source_kind("exploding", f"{__name__}:ExplodingInterface")
    try:
        result = convert(_write(tmp_path, spec), output_dir=tmp_path / "nwb", progress=False)
    finally:
        SOURCE_KINDS.pop("exploding")
    assert not result.ok
    failed, written = result.outcomes
    assert (failed.status, written.status) == ("failed", "written")
    assert "rig.dat: field 'header' is corrupt" in failed.message
    assert not Path(failed.path).exists()
    assert_valid_nwb(written.path)
    assert "1 written, 0 skipped, 1 failed" in result.summary()


def test_unknown_class_in_registry_is_a_clear_error() -> None:
    register_source_kind("broken", "nwbmotor.testing._nwbfile:NoSuchInterface")
    try:
        with pytest.raises(NwbMotorValueError, match="source kind 'broken'.*has no class 'NoSuchInterface'"):
            get_interface_class("broken")
    finally:
        SOURCE_KINDS.pop("broken")


def test_missing_source_path_fails_its_session_only_with_the_key_path(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    spec["subjects"][0]["sessions"][0]["sources"] = {
        "neuroconv:Suite2pSegmentationInterface": {"folder_path": "s2p/nowhere"}
    }
    path = _write(tmp_path, spec)
    with pytest.raises(NwbMotorValueError, match=r"subjects\[0\]\.sessions\[0\]\.sources\."
                       r"neuroconv:Suite2pSegmentationInterface\.folder_path: path '.*s2p/nowhere' does not exist"):
        load_spec(path)
    result = convert(path, output_dir=tmp_path / "nwb", progress=False)
    failed, written = result.outcomes
    assert (failed.status, written.status) == ("failed", "written")
    assert "sessions[0].sources.neuroconv:Suite2pSegmentationInterface.folder_path" in failed.message
    assert not Path(failed.path).exists()
    assert_valid_nwb(written.path)
    cli = CliRunner().invoke(main, ["convert", str(path), "-o", str(tmp_path / "nwb")])
    assert cli.exit_code == 2 and "s2p/nowhere' does not exist" in cli.output
