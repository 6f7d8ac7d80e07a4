"""Source kind ``spines``: a spine scoring table into an ndx-motor-learning ``SpineDynamicsTable``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from neuroconv import BaseDataInterface
from pydantic import FilePath

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.spines._spines_reader import read_spine_table

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["SpineScoringInterface"]


class SpineScoringInterface(BaseDataInterface):
    """Spine scoring (one row per dendrite per session) → ``processing/ophys/spine_dynamics``.

    The table is an ndx-motor-learning ``SpineDynamicsTable`` with columns
    ``dendrite``, ``session``, ``present``, ``gained``, ``lost``, ``length`` (µm),
    ``area`` and ``condition``.

    Parameters
    ----------
    file_path : str or PathLike
        The scoring table: CSV (XLSX too when the optional openpyxl is installed).
    session : str, optional
        Keep only this session's rows (the NWB file is one session's); default: every
        row, the whole longitudinal table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbmotor.testing import write_spine_table, mock_nwbfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "spines.csv"
    >>> _ = write_spine_table(p, n_dendrites=3, sessions=["day01", "day02"])
    >>> nwbfile = mock_nwbfile()
    >>> SpineScoringInterface(p, session="day02").add_to_nwbfile(nwbfile, {})
    >>> len(nwbfile.processing["ophys"]["spine_dynamics"])
    3
    """

    display_name = "Spine scoring table"
    keywords = ("dendritic spines", "structural plasticity")
    associated_suffixes = (".csv", ".xlsx")
    info = "Spines present, gained and lost per dendrite per session, with dendrite length, area and condition."

    def __init__(
        self, file_path: FilePath, *, session: str | None = None, verbose: bool = False
    ) -> None:
        super().__init__(verbose=verbose, file_path=file_path)
        self.path = Path(file_path)
        self.columns = read_spine_table(self.path)
        if session is not None:
            sessions = sorted(set(self.columns["session"]))
            if str(session) not in sessions:
                raise NwbMotorValueError(
                    f"{self.path}: no rows for session {session!r}; the table has sessions {sessions}"
                )
            keep = [i for i, s in enumerate(self.columns["session"]) if s == str(session)]
            self.columns = {k: [v[i] for i in keep] for k, v in self.columns.items()}
        self.session = session

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None) -> None:
        from hdmf.common import VectorData

        from nwbmotor.extensions import SpineDynamicsTable

        c = self.columns
        descriptions = {
            "dendrite": "Identifier of the dendrite segment, stable across sessions.",
            "session": "Session (or day) the dendrite was scored in.",
            "present": "Spines present on the dendrite in this session.",
            "gained": "Spines present now and absent in the previous session.",
            "lost": "Spines present in the previous session and absent now.",
            "length": "Length of the scored dendrite segment, in micrometers.",
            "area": "Cortical area of the dendrite.",
            "condition": "Experimental condition of the animal.",
        }
        columns = []
        for name, desc in descriptions.items():
            columns.append(VectorData(name=name, description=desc, data=c[name]))
        table = SpineDynamicsTable(
            name="spine_dynamics",
            description=(
                f"Dendritic spine scoring from {self.path.name}"
                + (f", session {self.session}" if self.session is not None else ", every session")
                + ": one row per dendrite per session."
            ),
            id=list(range(len(c["dendrite"]))),
            columns=columns,
        )
        from nwbmotor.converters.segmentation._nwb import ophys_module

        ophys_module(nwbfile).add(table)
