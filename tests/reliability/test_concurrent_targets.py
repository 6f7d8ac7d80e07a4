"""Conversions under concurrency and faults: one writer per target, nothing lost.

Two processes converting one target, a run that dies and leaves a partial file, a
replacement that must keep the old file until the new one is complete, a source that
changes while it is read, a Suite2p trace truncated under the reader, files that
reach other files, and `organize` adding sessions one at a time.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from nwbmotor import NwbMotorValueError, write_nwbfile
from nwbmotor._cli import main
from nwbmotor._io import PARTIAL_MARKER, output_folder_problem, target_lock
from nwbmotor._write import COMPLETION_ATTRIBUTE, finished_nwb_problem
from nwbmotor.conversion import convert, register_source_kind
from nwbmotor.testing import assert_valid_nwb, mock_nwbfile, write_suite2p_plane

TARGET = Path("sub-AP071") / "sub-AP071_ses-day01.nwb"

#: a source kind whose writing takes a while (after the partial file exists), and one
#: that changes its own source file while the session is read
_SLOW_MODULE = textwrap.dedent(
    '''
    import os, time
    from pathlib import Path
    from neuroconv import BaseDataInterface
    from pydantic import FilePath


    class SlowInterface(BaseDataInterface):
        def __init__(self, file_path: FilePath, seconds: float = 6.0):
            super().__init__(file_path=file_path, seconds=seconds)

        def add_to_nwbfile(self, nwbfile, metadata, **options):
            pass

        def finalize_nwbfile(self, nwbfile_path, backend):
            assert Path(nwbfile_path).exists()  # the partial file is there while we wait
            time.sleep(self.source_data["seconds"])


    class TouchingInterface(BaseDataInterface):
        def __init__(self, file_path: FilePath):
            super().__init__(file_path=file_path)

        def add_to_nwbfile(self, nwbfile, metadata, **options):
            with open(self.source_data["file_path"], "a") as f:
                f.write("more samples\\n")
    '''
)

_RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from nwbmotor.conversion import convert, register_source_kind
    register_source_kind("slow", "slow_sources:SlowInterface")
    spec, out, me, other = sys.argv[1:5]
    Path(me).touch()
    while not Path(other).exists():  # start converting together
        time.sleep(0.02)
    result = convert(spec, output_dir=out, progress=False)
    (o,) = result.outcomes
    print(o.status, "|", o.message, flush=True)
    """
)


def _spec(tmp: Path, sources: dict | None = None) -> Path:
    session = {"session_id": "day01", "session_start_time": "2014-03-01T10:00:00-08:00",
               "session_description": "lever-press training day 1"}
    if sources:
        session["sources"] = sources
    spec = {"subjects": [{"subject_id": "AP071", "species": "Mus musculus", "sex": "F", "age": "P60D",
                          "sessions": [session]}]}
    path = tmp / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture()
def slow_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "mods"
    folder.mkdir()
    (folder / "slow_sources.py").write_text(_SLOW_MODULE)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", str(folder))
    data = tmp_path / "lever.txt"
    data.write_text("samples\n")
    return data


def test_two_processes_converting_one_target_write_it_once(tmp_path: Path, slow_sources: Path) -> None:
    spec = _spec(tmp_path, {"slow": {"file_path": str(slow_sources), "seconds": 6.0}})
    out = tmp_path / "nwb"
    out.mkdir()
    flags = [tmp_path / "a.ready", tmp_path / "b.ready"]
    procs = [
        subprocess.Popen([sys.executable, "-P", "-c", _RACER, str(spec), str(out), str(me), str(other)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for me, other in (flags, flags[::-1])
    ]
    lines = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr[-2000:]
        lines.append(stdout.strip().splitlines()[-1])
    statuses = sorted(line.split("|")[0].strip() for line in lines)
    # the lock is held for the 6 s write: the other run finds it busy (never a second
    # "written", never "the writer produced no file")
    assert statuses == ["failed", "written"], lines
    (busy,) = [line for line in lines if line.startswith("failed")]
    assert "another nwbmotor process" in busy and "is writing it now" in busy
    assert finished_nwb_problem(out / TARGET) is None
    assert_valid_nwb(out / TARGET)
    assert sorted(p.name for p in (out / TARGET).parent.iterdir()) == [TARGET.name]  # no partial, no lock


def test_a_held_target_is_reported_busy_and_its_partial_file_kept(tmp_path: Path) -> None:
    out = tmp_path / "nwb"
    (out / TARGET).parent.mkdir(parents=True)
    partial = (out / TARGET).with_name(f"{PARTIAL_MARKER}0badc0de-{TARGET.name}")
    holder = subprocess.Popen(
        [sys.executable, "-P", "-c",
         "import sys, time\nfrom nwbmotor._io import target_lock\n"
         "with target_lock(sys.argv[1]):\n    open(sys.argv[2], 'wb').write(b'half')\n"
         "    print('held', flush=True)\n    time.sleep(120)\n",
         str(out / TARGET), str(partial)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = CliRunner().invoke(main, ["convert", str(_spec(tmp_path)), "-o", str(out)])
        assert result.exit_code == 2
        assert "another nwbmotor process (pid" in result.stderr and "nothing was done" in result.stderr
        assert partial.read_bytes() == b"half"  # another run's live file is never cleared
        report = CliRunner().invoke(main, ["inspect", str(partial)])
        assert "a file nwbmotor is writing now" in report.output
    finally:
        holder.kill()
        holder.wait()
    # the holder died: its partial file is a leftover now, named so by inspect and cleared by convert
    report = CliRunner().invoke(main, ["inspect", str(out)])
    assert report.exit_code == 1 and "interrupted nwbmotor write" in report.output
    result = convert(_spec(tmp_path), output_dir=out, progress=False)
    assert [o.status for o in result.outcomes] == ["written"]
    assert not partial.exists()


def test_overwrite_keeps_the_old_file_until_the_new_one_is_complete(tmp_path: Path) -> None:
    out = tmp_path / "nwb"
    first = convert(_spec(tmp_path), output_dir=out, progress=False)
    target = out / TARGET
    with h5py.File(target, "r") as f:
        old_id = f["identifier"][()]
    seen = {}

    class Watcher:
        def finalize_nwbfile(self, path: Path, backend: str) -> None:
            with h5py.File(target, "r") as f:  # the new file is complete; the old one is still in place
                seen["old"] = f["identifier"][()]

    nwbfile = mock_nwbfile(subject_id="AP071", session_id="day01")
    write_nwbfile(nwbfile, target, overwrite=True, finalizers=[Watcher()])
    assert first.ok and seen["old"] == old_id
    with h5py.File(target, "r") as f:
        assert f["identifier"][()] != old_id and COMPLETION_ATTRIBUTE in f.attrs


def test_a_crash_before_the_rename_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "x.nwb"
    write_nwbfile(mock_nwbfile(), target)
    before = target.read_bytes()

    class Crash:
        def finalize_nwbfile(self, path: Path, backend: str) -> None:
            raise OSError(errno.EIO, "the disk went away")

    with pytest.raises(OSError):
        write_nwbfile(mock_nwbfile(), target, overwrite=True, finalizers=[Crash()])
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.nwb"]


def test_a_source_that_changes_while_converting_fails_its_session(tmp_path: Path, slow_sources: Path) -> None:
    register_source_kind("touching", "slow_sources:TouchingInterface")
    result = convert(_spec(tmp_path, {"touching": {"file_path": str(slow_sources)}}), output_dir=tmp_path / "nwb",
                     progress=False)
    (outcome,) = result.outcomes
    assert outcome.status == "failed"
    assert "lever.txt: changed while it was converted" in outcome.message
    assert not (tmp_path / "nwb" / TARGET).exists()


def test_finished_means_by_content(tmp_path: Path) -> None:
    path = write_nwbfile(mock_nwbfile(), tmp_path / "ok.nwb")
    assert finished_nwb_problem(path) is None
    with h5py.File(path, "r+") as f:  # edited by another program after nwbmotor wrote it
        del f.attrs[COMPLETION_ATTRIBUTE]
    assert "no nwbmotor completion marker" in finished_nwb_problem(path)
    data = (tmp_path / "ok.nwb").read_bytes()
    (tmp_path / "cut.nwb").write_bytes(data[: len(data) // 2])
    assert "cannot be opened" in finished_nwb_problem(tmp_path / "cut.nwb")
    (tmp_path / "dir.nwb").mkdir()
    assert finished_nwb_problem(tmp_path / "dir.nwb") == "a folder, not an NWB file"


def test_the_lock_is_exclusive_across_processes_and_reentrant_within_one(tmp_path: Path) -> None:
    target = tmp_path / "t.nwb"
    code = "import sys\nfrom nwbmotor._io import target_lock\nwith target_lock(sys.argv[1]):\n    pass\n"
    with target_lock(target), target_lock(target):
        proc = subprocess.run([sys.executable, "-P", "-c", code, str(target)], capture_output=True, text=True)
        assert proc.returncode == 1 and "TargetBusyError" in proc.stderr
    proc = subprocess.run([sys.executable, "-P", "-c", code, str(target)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == []  # the lock file goes with the lock


def test_suite2p_trace_truncated_under_the_reader_is_an_error_not_sigbus(tmp_path: Path) -> None:
    from nwbmotor.converters.segmentation._suite2p_reader import read_suite2p_plane

    folder = tmp_path / "plane0"
    write_suite2p_plane(folder, n_rois=6, n_frames=500, image_shape=(64, 64))
    plane = read_suite2p_plane(folder)
    expected = np.load(folder / "F.npy")
    np.testing.assert_array_equal(np.asarray(plane.F[1:3]), expected[1:3])
    np.testing.assert_array_equal(plane.F[2, 10:20], expected[2, 10:20])
    size = (folder / "F.npy").stat().st_size
    os.truncate(folder / "F.npy", size // 3)  # the acquisition PC rewrites it mid-conversion
    with pytest.raises(NwbMotorValueError, match=r"F\.npy: truncated while being read"):
        np.asarray(plane.F[4:6])
    # in a child process too (a memory map would end it with SIGBUS, exit -7)
    code = ("import sys, numpy as np\nfrom nwbmotor.converters.segmentation._safe_pickle import NpyRows\n"
            "a = NpyRows(sys.argv[1], (6, 500), np.dtype(sys.argv[2]), int(sys.argv[3]))\n"
            "try:\n    a[5]\nexcept ValueError as e:\n    print('clean', e)\n")
    proc = subprocess.run([sys.executable, "-P", "-c", code, str(folder / "F.npy"), plane.F.dtype.str,
                           str(plane.F._offset)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("clean"), (proc.returncode, proc.stderr[-500:])


def test_nwb_files_reaching_other_files_are_refused_by_inspect_and_open(tmp_path: Path) -> None:
    from nwbmotor.views import open_session

    path = write_nwbfile(mock_nwbfile(), tmp_path / "a.nwb")
    with h5py.File(tmp_path / "secret.h5", "w") as f:
        f["x"] = np.arange(3.0)
    with h5py.File(path, "r+") as f:
        f["acquisition/leak"] = h5py.ExternalLink(str(tmp_path / "secret.h5"), "/x")
    report = CliRunner().invoke(main, ["inspect", str(path)])
    assert report.exit_code == 1 and "'/acquisition/leak' is an external link to" in report.output
    with pytest.raises(NwbMotorValueError, match="external link"):
        open_session(path)


def test_output_folder_problems_are_named_before_anything_is_read(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert output_folder_problem(tmp_path / "new") is None and (tmp_path / "new").is_dir()
    assert "expected an existing folder" in output_folder_problem(tmp_path / "a" / "b")
    (tmp_path / "f").write_text("x")
    assert output_folder_problem(tmp_path / "f") == "is a file; expected a folder"
    import builtins

    real_open = builtins.open

    def full_disk(file, mode="r", *args, **kwargs):
        if PARTIAL_MARKER in str(file) and "w" in mode:
            raise OSError(errno.ENOSPC, "No space left on device", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", full_disk)
    assert output_folder_problem(tmp_path / "new") == "cannot be written (the disk is full)"


def test_yaml_bomb_is_refused_in_well_under_a_second(tmp_path: Path) -> None:
    from nwbmotor._safe_yaml import load_yaml_text

    bomb = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    bomb += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    start = time.perf_counter()
    with pytest.raises(NwbMotorValueError, match="expands to more than") as err:
        load_yaml_text("\n".join(bomb), source="bomb.yaml")
    assert time.perf_counter() - start < 2.0 and len(str(err.value)) < 200
    assert load_yaml_text("base: &b {x: 1}\nuse: *b\n") == {"base": {"x": 1}, "use": {"x": 1}}  # plain aliases work


def _nwb(folder: Path, session_id: str) -> Path:
    return write_nwbfile(mock_nwbfile(subject_id="AP071", session_id=session_id), folder / f"{session_id}.nwb")


def test_organize_adds_sessions_one_at_a_time_and_reports_bad_files(tmp_path: Path) -> None:
    from nwbmotor.sharing import organize

    dandiset = tmp_path / "ds"
    first = organize([_nwb(tmp_path / "in", "day01")], dandiset)
    assert first.ok, first.summary()
    assert [str(p.relative_to(dandiset)) for p in first.files] == ["sub-AP071/sub-AP071_ses-day01.nwb"]
    bad = tmp_path / "in2" / "text.nwb"
    bad.parent.mkdir()
    bad.write_text("not an NWB file")
    result = CliRunner().invoke(main, ["organize", str(_nwb(tmp_path / "in2", "day02")), str(bad), "-d",
                                       str(dandiset)])
    assert result.exit_code == 2
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "text.nwb: not an HDF5 file" in error
    assert sorted(str(p.relative_to(dandiset)) for p in dandiset.rglob("*.nwb")) == [
        "sub-AP071/sub-AP071_ses-day01.nwb", "sub-AP071/sub-AP071_ses-day02.nwb"]
