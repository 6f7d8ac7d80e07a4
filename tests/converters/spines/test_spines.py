"""Spine scoring tables into an ndx-motor-learning SpineDynamicsTable."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwbmotor import NwbMotorValueError, write_nwbfile
from nwbmotor.converters.spines import SpineScoringInterface, read_spine_table
from nwbmotor.extensions import SpineDynamicsTable
from nwbmotor.testing import assert_valid_nwb, mock_nwbfile, write_spine_table

SESSIONS = ("day01", "day03", "day05", "day07")


def test_round_trip_every_session(tmp_path: Path) -> None:
    truth = write_spine_table(tmp_path / "spines.csv", n_dendrites=10, sessions=SESSIONS, seed=3)
    nwbfile = mock_nwbfile()
    SpineScoringInterface(tmp_path / "spines.csv").add_to_nwbfile(nwbfile, {})
    path = write_nwbfile(nwbfile, tmp_path / "spines.nwb")
    assert_valid_nwb(path)
    with NWBHDF5IO(path, "r") as io:
        table = io.read().processing["ophys"]["spine_dynamics"]
        assert isinstance(table, SpineDynamicsTable)
        assert len(table) == 10 * len(SESSIONS)
        for column in ("dendrite", "session", "area", "condition"):
            assert list(table[column].data[:]) == truth[column]
        for column in ("present", "gained", "lost"):
            np.testing.assert_array_equal(table[column].data[:], truth[column])
            assert table[column].data.dtype.kind == "i"
        np.testing.assert_array_equal(table["length"].data[:], truth["length"])
    # the planted dynamics hold: present = previous present + gained - lost
    present = np.array(truth["present"]).reshape(10, len(SESSIONS))
    gained = np.array(truth["gained"]).reshape(10, len(SESSIONS))
    lost = np.array(truth["lost"]).reshape(10, len(SESSIONS))
    np.testing.assert_array_equal(present[:, 1:], present[:, :-1] + gained[:, 1:] - lost[:, 1:])


def test_one_session(tmp_path: Path) -> None:
    truth = write_spine_table(tmp_path / "spines.csv", n_dendrites=6, sessions=SESSIONS)
    nwbfile = mock_nwbfile()
    SpineScoringInterface(tmp_path / "spines.csv", session="day05").add_to_nwbfile(nwbfile, {})
    table = nwbfile.processing["ophys"]["spine_dynamics"]
    keep = [i for i, s in enumerate(truth["session"]) if s == "day05"]
    assert list(table["session"].data) == ["day05"] * 6
    assert list(table["present"].data) == [truth["present"][i] for i in keep]


def test_header_spellings(tmp_path: Path) -> None:
    path = tmp_path / "scoring.csv"
    path.write_text(
        "Dendrite ID,Day,Spines Present,Spines Gained,Spines Lost,Dendrite length (µm),Area,Condition\n"
        "d1,1,12,0,0,35.5,forelimb,training\n"
        "d1,2,13,2,1,35.5,forelimb,training\n"
    )
    out = read_spine_table(path)
    assert (
        out["session"] == ["1", "2"]
        and out["present"] == [12, 13]
        and out["length"] == [35.5, 35.5]
    )


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (
            "dendrite,session,present,gained,lost,length,area\nd,1,1,0,0,3,x\n",
            r"missing column\(s\) \['condition'\]",
        ),
        (
            "dendrite,session,present,gained,lost,length,area,condition\nd,1,2.5,0,0,3,a,b\n",
            r"line 2: 'present' is '2\.5'; expected a non-negative whole number of spines",
        ),
        (
            "dendrite,session,present,gained,lost,length,area,condition\nd,1,2,-1,0,3,a,b\n",
            r"line 2: 'gained' is '-1'; expected a non-negative whole number",
        ),
        (
            "dendrite,session,present,gained,lost,length,area,condition\nd,1,2,0,0,0,a,b\n",
            r"line 2: 'length' is '0'; expected a positive length in µm",
        ),
        (
            "dendrite,session,present,gained,lost,length,area,condition\nd,1,2,0,0,3,,b\n",
            r"line 2: empty 'area'",
        ),
        (
            "dendrite,session,present,gained,lost,length,area,condition\nd,1,2,0,0,3,a,b\nd,1,3,1,0,3,a,b\n",
            r"line 3: dendrite 'd' is scored twice in session '1' \(first on line 2\)",
        ),
        ("dendrite,session,present,gained,lost,length,area,condition\n", r"no data rows"),
        ("", r"the file is empty"),
        (
            "dendrite,dendrite_id,session,present,gained,lost,length,area,condition\n",
            r"several columns mean 'dendrite'",
        ),
    ],
)
def test_bad_tables(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "spines.csv"
    path.write_text(content)
    with pytest.raises(NwbMotorValueError, match=match):
        SpineScoringInterface(path)


def test_unknown_session(tmp_path: Path) -> None:
    write_spine_table(tmp_path / "spines.csv", n_dendrites=2, sessions=["day01", "day02"])
    with pytest.raises(
        NwbMotorValueError,
        match=r"no rows for session 'day09'; the table has sessions \['day01', 'day02'\]",
    ):
        SpineScoringInterface(tmp_path / "spines.csv", session="day09")


def test_xlsx_without_openpyxl_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import fails, as when it is not installed
    path = tmp_path / "spines.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(
        NwbMotorValueError,
        match=r"spines\.xlsx: reading Excel files needs the optional package openpyxl",
    ):
        SpineScoringInterface(path)
