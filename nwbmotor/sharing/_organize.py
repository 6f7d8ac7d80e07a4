"""``nwbmotor organize``: NWB files into a DANDI dandiset layout, then ``dandi validate``.

The layout and the file names are DANDI's own (``dandi.organize``: ``sub-<id>/
sub-<id>_ses-<id>_<modalities>.nwb``); nwbmotor adds the ``dandiset.yaml`` of a new
dandiset, refuses to clobber an existing one, and runs DANDI's validators on the result
through their API.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import yaml

from nwbmotor._errors import NwbMotorValueError

__all__ = ["organize", "validate_dandiset", "OrganizeResult"]

#: placeholder of a dandiset not yet registered on the archive
DRAFT_IDENTIFIER = "DANDI:000000"


@dataclasses.dataclass(frozen=True)
class OrganizeResult:
    """The organized dandiset and what DANDI's validators said of it."""

    dandiset_dir: Path
    files: tuple[Path, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        lines = [f"{self.dandiset_dir}: {len(self.files)} file(s) organized"]
        lines += [f"  {f.relative_to(self.dandiset_dir)}" for f in self.files]
        lines += [f"  [ERROR] {p}" for p in self.problems]
        lines.append("dandi validate: " + ("OK" if self.ok else f"{len(self.problems)} error(s)"))
        return "\n".join(lines)


def _nwb_files(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(p.rglob("*.nwb")))
        elif p.is_file():
            files.append(p)
        else:
            raise NwbMotorValueError(f"{p}: no such file or folder")
    if not files:
        raise NwbMotorValueError(f"no .nwb files in {', '.join(map(str, paths))}")
    return files


def _dandiset_yaml(files: Sequence[Path], name: str | None, description: str | None) -> dict:
    import h5py

    first = {}
    with h5py.File(files[0], "r") as f:
        for key in ("experiment_description", "institution", "lab"):
            if f"general/{key}" in f:
                value = f[f"general/{key}"][()]
                first[key] = value.decode() if isinstance(value, bytes) else str(value)
    return {
        "identifier": DRAFT_IDENTIFIER,
        "name": name or f"{first.get('lab', 'Motor learning')}: motor-learning sessions",
        "description": description
        or first.get("experiment_description", "Motor-learning sessions converted to NWB by nwbmotor."),
        "license": ["spdx:CC-BY-4.0"],
    }


def validate_dandiset(dandiset_dir: str | os.PathLike[str]) -> list[str]:
    """Run DANDI's validators (layout, metadata, NWB) on a dandiset folder.

    Returns
    -------
    list of str
        One line per error (``<path>: <id>: <message>``); empty when it passes.
    """
    from dandi.validate._core import validate
    from dandi.validate._types import Severity

    problems = []
    for result in validate(str(dandiset_dir)):
        if result.severity is not None and result.severity >= Severity.ERROR:
            problems.append(f"{result.path}: {result.id}: {result.message}")
    return problems


def organize(
    paths: Sequence[str | os.PathLike[str]],
    dandiset_dir: str | os.PathLike[str],
    *,
    name: str | None = None,
    description: str | None = None,
    mode: Literal["copy", "move", "hardlink", "symlink"] = "copy",
    validate: bool = True,
) -> OrganizeResult:
    """Organize NWB files into a DANDI dandiset folder and validate it.

    Parameters
    ----------
    paths : sequence of str or PathLike
        NWB files, or folders searched for ``*.nwb``.
    dandiset_dir : str or PathLike
        The dandiset folder. A new one gets a ``dandiset.yaml`` (a draft identifier:
        replace it with the archive's, e.g. by ``dandi download`` of the registered
        dandiset's ``dandiset.yaml``). An existing dandiset keeps its ``dandiset.yaml``
        and files; a file that would replace one of them is an error.
    name, description : str, optional
        For a new ``dandiset.yaml``; taken from the first file otherwise.
    mode : {"copy", "move", "hardlink", "symlink"}, default "copy"
    validate : bool, default True
        Run ``dandi validate`` on the result.

    Returns
    -------
    OrganizeResult

    Raises
    ------
    NwbMotorValueError
        No NWB files; a non-empty folder that is not a dandiset; a target that exists.
    """
    from dandi.organize import FileOperationMode
    from dandi.organize import organize as dandi_organize

    files = _nwb_files(paths)
    root = Path(dandiset_dir)
    meta_file = root / "dandiset.yaml"
    if root.exists() and not root.is_dir():
        raise NwbMotorValueError(f"{root}: exists and is not a folder")
    if root.is_dir() and any(root.iterdir()) and not meta_file.exists():
        raise NwbMotorValueError(
            f"{root}: folder is not empty and has no dandiset.yaml; refusing to organize into it"
        )
    before = {p for p in root.rglob("*.nwb")} if root.is_dir() else set()
    if not meta_file.exists():
        root.mkdir(parents=True, exist_ok=True)
        meta_file.write_text(yaml.safe_dump(_dandiset_yaml(files, name, description), sort_keys=False))
    try:
        dandi_organize([str(f) for f in files], dandiset_path=str(root),
                       files_mode=FileOperationMode(mode), jobs=1)
    except Exception as exc:  # dandi raises plain exceptions for conflicts and bad metadata
        raise NwbMotorValueError(f"{root}: dandi organize refused: {exc}") from None
    organized = tuple(sorted(p for p in root.rglob("*.nwb") if p not in before))
    problems = tuple(validate_dandiset(root)) if validate else ()
    return OrganizeResult(dandiset_dir=root, files=organized, problems=problems)
