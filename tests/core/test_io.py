from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nwbmotor import NwbMotorValueError, atomic_output
from nwbmotor._io import LOCK_SUFFIX, PARTIAL_MARKER, is_partial, partial_owner


def test_atomic_output_renames_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    with atomic_output(target) as tmp:
        tmp.write_text("data")
        assert not target.exists()
        assert is_partial(tmp) and tmp.parent == target.parent
    assert target.read_text() == "data"
    assert list(target.parent.iterdir()) == [target]


def test_atomic_output_refuses_existing_target(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("precious")
    with pytest.raises(NwbMotorValueError, match=r"out\.txt: the output exists; pass overwrite=True"):
        with atomic_output(target):
            pytest.fail("the block must not run")
    assert target.read_text() == "precious"


def test_atomic_output_overwrites_only_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_output(target, overwrite=True) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_error_keeps_the_old_file_and_removes_the_partial(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(ZeroDivisionError):
        with atomic_output(target, overwrite=True) as tmp:
            tmp.write_text("half")
            1 / 0  # noqa: B018
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_writer_that_writes_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(NwbMotorValueError, match="produced no file"):
        with atomic_output(tmp_path / "out.nwb"):
            pass
    assert list(tmp_path.iterdir()) == []


_SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from hdmf.data_utils import DataChunkIterator
    from pynwb import TimeSeries
    from nwbmotor import write_nwbfile
    from nwbmotor.testing import mock_nwbfile

    def slow_blocks():
        for i in range(10_000):
            time.sleep(0.01)
            yield np.full(1000, i, dtype="float64")

    nwbfile = mock_nwbfile()
    data = DataChunkIterator(slow_blocks(), maxshape=(None, 1000), buffer_size=1)
    nwbfile.add_acquisition(TimeSeries(name="slow", data=data, unit="V", rate=1000.0,
                                       description="written slowly"))
    print("writing", flush=True)
    write_nwbfile(nwbfile, sys.argv[1], configure=False)
    """
)


def test_sigkill_midway_leaves_no_file_at_the_target(tmp_path: Path) -> None:
    target = tmp_path / "sub-A" / "sub-A_ses-1.nwb"
    proc = subprocess.Popen([sys.executable, "-P", "-c", _SLOW_WRITER, str(target)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "writing"
    deadline = time.monotonic() + 60
    while not any(PARTIAL_MARKER in p.name for p in target.parent.glob("*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # well inside the write
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not target.exists()
    leftovers = [p.name for p in target.parent.iterdir()]
    # the partial file, and the lock file the kernel released when the process died
    assert leftovers and all(PARTIAL_MARKER in name or name.endswith(LOCK_SUFFIX) for name in leftovers)
    (partial,) = [p for p in target.parent.iterdir() if is_partial(p)]
    assert partial_owner(partial) is None  # an interrupted write, not a live one
