"""Reading spine scoring tables: one row per dendrite per session, checked column by column."""

from __future__ import annotations

import csv
import math
import os
import re
from pathlib import Path

from nwbmotor._errors import NwbMotorValueError

__all__ = ["SPINE_COLUMNS", "read_spine_table"]

#: Canonical column -> header spellings accepted (after lower-casing and turning spaces,
#: dashes and brackets into underscores).
SPINE_COLUMNS: dict[str, tuple[str, ...]] = {
    "dendrite": ("dendrite", "dendrite_id", "dendrite_name"),
    "session": ("session", "session_id", "day", "imaging_day"),
    "present": ("present", "spines_present", "n_spines", "spines"),
    "gained": ("gained", "spines_gained", "n_gained"),
    "lost": ("lost", "spines_lost", "n_lost"),
    "length": ("length", "length_um", "dendrite_length", "dendrite_length_um"),
    "area": ("area", "cortical_area", "region"),
    "condition": ("condition", "group"),
}
_INTEGER = ("present", "gained", "lost")


def _normalise(header: str) -> str:
    return re.sub(
        r"_+", "_", re.sub(r"[^a-z0-9]+", "_", header.strip().lower().replace("µ", "u"))
    ).strip("_")


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        try:
            import openpyxl
        except ImportError:
            raise NwbMotorValueError(
                f"{path}: reading Excel files needs the optional package openpyxl, which is not installed; "
                "save the sheet as CSV (or install openpyxl)"
            ) from None
        sheet = openpyxl.load_workbook(path, read_only=True, data_only=True).active
        values = [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
        return (values[0], values[1:]) if values else ([], [])
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [row for row in csv.reader(fh) if any(cell.strip() for cell in row)]
    return (rows[0], rows[1:]) if rows else ([], [])


def read_spine_table(path: str | os.PathLike[str]) -> dict[str, list]:
    """Read a spine scoring table (CSV; XLSX when openpyxl is installed).

    Columns (any order, headers case-insensitive, common spellings accepted, see
    :data:`SPINE_COLUMNS`): dendrite, session, present, gained, lost, length (µm),
    area, condition.

    Returns
    -------
    dict of str to list
        One list per canonical column; counts as int, length as float, the rest str.

    Raises
    ------
    NwbMotorValueError
        For a missing column, an empty cell, a count that is not a non-negative
        integer, a length that is not a positive number, or a (dendrite, session)
        scored twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbmotor.testing import write_spine_table
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "spines.csv"
    >>> truth = write_spine_table(p, n_dendrites=2, sessions=["day01", "day02"])
    >>> read_spine_table(p)["present"] == truth["present"]
    True
    """
    path = Path(path)
    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such spine scoring table")
    header, rows = _rows(path)
    if not header:
        raise NwbMotorValueError(
            f"{path}: the file is empty; expected a header row and one row per dendrite per session"
        )
    names = [_normalise(h) for h in header]
    where: dict[str, int] = {}
    for column, spellings in SPINE_COLUMNS.items():
        found = [i for i, n in enumerate(names) if n in spellings]
        if len(found) > 1:
            raise NwbMotorValueError(
                f"{path}: several columns mean {column!r}: {[header[i] for i in found]}"
            )
        if found:
            where[column] = found[0]
    missing = [c for c in SPINE_COLUMNS if c not in where]
    if missing:
        raise NwbMotorValueError(
            f"{path}: missing column(s) {missing}; expected {list(SPINE_COLUMNS)} (found headers {header})"
        )
    if not rows:
        raise NwbMotorValueError(f"{path}: no data rows")
    out: dict[str, list] = {c: [] for c in SPINE_COLUMNS}
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(rows, start=2):
        for column, i in where.items():
            raw = row[i].strip() if i < len(row) else ""
            if not raw:
                raise NwbMotorValueError(
                    f"{path}, line {line}: empty {column!r} (column {header[i]!r})"
                )
            if column in _INTEGER:
                try:
                    value = float(raw)
                except ValueError:
                    value = math.nan
                if not (math.isfinite(value) and value >= 0 and value == int(value)):
                    raise NwbMotorValueError(
                        f"{path}, line {line}: {header[i]!r} is {raw!r}; expected a non-negative whole number of spines"
                    )
                out[column].append(int(value))
            elif column == "length":
                try:
                    value = float(raw)
                except ValueError:
                    value = math.nan
                if not (math.isfinite(value) and value > 0):
                    raise NwbMotorValueError(
                        f"{path}, line {line}: {header[i]!r} is {raw!r}; expected a positive length in µm"
                    )
                out[column].append(value)
            else:
                out[column].append(raw)
        key = (out["dendrite"][-1], out["session"][-1])
        if key in seen:
            raise NwbMotorValueError(
                f"{path}, line {line}: dendrite {key[0]!r} is scored twice in session {key[1]!r} (first on line {seen[key]})"
            )
        seen[key] = line
    return out
