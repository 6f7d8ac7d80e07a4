"""Reading a registration table: CSV rows (session, roi, cell), checked."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from nwbmotor._errors import NwbMotorValueError

__all__ = ["read_registration_table"]

_REQUIRED = ("session", "roi", "cell")


def read_registration_table(path: str | os.PathLike[str]) -> dict[str, dict[int, int]]:
    """Read a registration CSV into ``{session: {roi: cell}}``.

    Columns ``session``, ``roi`` (0-based index in that session's ROI table) and
    ``cell`` (the cross-session id, an integer >= 0); other columns are ignored.

    Raises
    ------
    NwbMotorValueError
        For a missing column, a non-integer or negative roi/cell, a duplicate
        (session, roi), or two ROIs of one session registered to the same cell.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "reg.csv"
    >>> _ = p.write_text("session,roi,cell\\nday01,0,7\\nday02,3,7\\n")
    >>> read_registration_table(p)
    {'day01': {0: 7}, 'day02': {3: 7}}
    """
    path = Path(path)
    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such registration table")
    table: dict[str, dict[int, int]] = {}
    first_line: dict[tuple[str, int], int] = {}
    cell_line: dict[tuple[str, int], tuple[int, int]] = {}
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip().lower() for f in (reader.fieldnames or [])]
        missing = [c for c in _REQUIRED if c not in fields]
        if missing:
            raise NwbMotorValueError(
                f"{path}: missing column(s) {missing}; expected columns {list(_REQUIRED)}, found {fields}"
            )
        for line, raw in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
            session = row["session"]
            if not session:
                raise NwbMotorValueError(f"{path}, line {line}: empty session")
            values = {}
            for key in ("roi", "cell"):
                try:
                    values[key] = int(row[key])
                except ValueError:
                    raise NwbMotorValueError(
                        f"{path}, line {line}: {key} {row[key]!r} is not an integer"
                    ) from None
                if values[key] < 0:
                    raise NwbMotorValueError(
                        f"{path}, line {line}: {key} {values[key]} is negative; expected >= 0"
                    )
            roi, cell = values["roi"], values["cell"]
            if (session, roi) in first_line:
                raise NwbMotorValueError(
                    f"{path}, line {line}: duplicate (session, roi) = ({session!r}, {roi}), first on line "
                    f"{first_line[(session, roi)]}; each ROI of a session belongs to one cell"
                )
            if (session, cell) in cell_line:
                other_roi, other_line = cell_line[(session, cell)]
                raise NwbMotorValueError(
                    f"{path}, line {line}: session {session!r} maps ROIs {other_roi} (line {other_line}) and {roi} to "
                    f"the same cell {cell}; a cell has at most one ROI per session"
                )
            first_line[(session, roi)] = line
            cell_line[(session, cell)] = (roi, line)
            table.setdefault(session, {})[roi] = cell
    if not table:
        raise NwbMotorValueError(f"{path}: the registration table has no rows")
    return table
