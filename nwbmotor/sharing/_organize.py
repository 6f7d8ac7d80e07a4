"""``nwbmotor organize``: NWB files into a DANDI dandiset layout, then ``dandi validate``.

The layout and the file names are DANDI's own (``dandi.organize``: ``sub-<id>/
sub-<id>_ses-<id>_<modalities>.nwb``), asked for each file on its own and always with
the session id, so that sessions can be added one at a time and organizing again
changes nothing. nwbmotor adds the ``dandiset.yaml`` of a new dandiset, never replaces
a file in it, refuses (one line per file) inputs that are not shareable NWB files, and
runs DANDI's validators on the result through their API.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import yaml

from nwbmotor._errors import NwbMotorValueError
from nwbmotor._io import PARTIAL_MARKER, atomic_output, target_lock
from nwbmotor._safe_yaml import shorten

__all__ = ["organize", "validate_dandiset", "OrganizeResult"]

#: placeholder of a dandiset not yet registered on the archive
DRAFT_IDENTIFIER = "DANDI:000000"


@dataclasses.dataclass(frozen=True)
class OrganizeResult:
    """The organized dandiset, the files refused, and what DANDI's validators said of it."""

    dandiset_dir: Path
    files: tuple[Path, ...]
    problems: tuple[str, ...]
    #: input files that could not be organized, one line each (``<file>: <why>``)
    refused: tuple[str, ...] = ()
    #: files that were already in the dandiset (organizing again changes nothing)
    unchanged: tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and not self.refused

    def summary(self) -> str:
        lines = [f"{self.dandiset_dir}: {len(self.files)} file(s) organized, {len(self.unchanged)} already there"]
        lines += [f"  {f.relative_to(self.dandiset_dir)}" for f in self.files]
        lines += [f"  [REFUSED] {p}" for p in self.refused]
        lines += [f"  [ERROR] {p}" for p in self.problems]
        lines.append("dandi validate: " + ("OK" if not self.problems else f"{len(self.problems)} error(s)"))
        return "\n".join(lines)


def _nwb_files(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir() and not ((p / ".zgroup").exists() or (p / "zarr.json").exists()):
            files.extend(sorted(p.rglob("*.nwb")))
        elif p.is_file():
            files.append(p)
        elif p.exists():
            raise NwbMotorValueError(f"{p}: not a file or folder; expected NWB files or folders holding them")
        else:
            raise NwbMotorValueError(f"{p}: no such file or folder")
    if not files:
        raise NwbMotorValueError(f"no .nwb files in {', '.join(map(str, paths))}")
    return files


def _input_problem(path: Path) -> str | None:
    """Why ``path`` cannot go into a dandiset (None if it can): the open checks of inspect."""
    from nwbmotor.sharing._inspect import _interrupted_write, _open_problem

    interrupted = _interrupted_write(path)
    if interrupted is not None:
        return interrupted.message
    if path.is_dir():
        return "a Zarr store; expected an NWB HDF5 file (DANDI organizes .nwb files)"
    return _open_problem(path)


def _read_text(f, key: str) -> str | None:
    if key not in f:
        return None
    value = f[key][()]
    return value.decode() if isinstance(value, bytes) else str(value)


def _dandiset_yaml(first: Path, name: str | None, description: str | None) -> dict:
    import h5py

    found = {}
    with h5py.File(first, "r") as f:
        for key in ("experiment_description", "institution", "lab"):
            value = _read_text(f, f"general/{key}")
            if value is not None:
                found[key] = value
    return {
        "identifier": DRAFT_IDENTIFIER,
        "name": name or f"{found.get('lab', 'Motor learning')}: motor-learning sessions",
        "description": description
        or found.get("experiment_description", "Motor-learning sessions converted to NWB by nwbmotor."),
        "license": ["spdx:CC-BY-4.0"],
    }


def _identity(path: Path) -> tuple[str | None, str | None]:
    """(identifier, object_id) of an NWB file: the same session file has the same pair."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            oid = f.attrs.get("object_id")
            return _read_text(f, "identifier"), oid.decode() if isinstance(oid, bytes) else oid
    except (OSError, KeyError):
        return None, None


def _dandi_name(path: Path) -> Path:
    """The path DANDI gives this file in a dandiset, always with its session id.

    Each file is named on its own (in a scratch dandiset, by symbolic link), so the name
    of a session does not depend on which other sessions are organized with it.
    """
    import tempfile

    from dandi.organize import FileOperationMode
    from dandi.organize import organize as dandi_organize

    with tempfile.TemporaryDirectory(prefix="nwbmotor-organize-") as scratch:
        (Path(scratch) / "dandiset.yaml").write_text(yaml.safe_dump({"identifier": DRAFT_IDENTIFIER}))
        try:
            dandi_organize([str(path.resolve())], dandiset_path=scratch, files_mode=FileOperationMode.SYMLINK,
                           required_fields=["session_id"], jobs=1)
        except Exception as exc:  # noqa: BLE001 - dandi raises plain exceptions for bad metadata
            raise NwbMotorValueError(f"{path}: dandi cannot name it ({shorten(str(exc), 200)})") from None
        named = [p for p in Path(scratch).rglob("*.nwb")]
        if len(named) != 1:
            raise NwbMotorValueError(f"{path}: dandi did not name it (its metadata lack a subject?)")
        return named[0].relative_to(scratch)


def _place(source: Path, dest: Path, mode: str) -> None:
    """Put ``source`` at ``dest`` without ever replacing an existing ``dest``."""
    import shutil
    import uuid

    dest.parent.mkdir(parents=True, exist_ok=True)
    if mode == "symlink":
        os.symlink(source.resolve(), dest)  # FileExistsError if something is there
        return
    if mode in ("hardlink", "move"):
        try:
            os.link(source, dest)
        except OSError as exc:
            if mode == "hardlink" or exc.errno == errno.EEXIST:
                raise
        else:
            if mode == "move":
                source.unlink()
            return
    tmp = dest.with_name(f"{PARTIAL_MARKER}{uuid.uuid4().hex[:8]}-{dest.name}")
    try:
        shutil.copy2(source, tmp)
        os.link(tmp, dest)  # no-clobber publish: fails if dest appeared meanwhile
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    if mode == "move":
        source.unlink()


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
            problems.append(f"{result.path}: {result.id}: {shorten(str(result.message), 300)}")
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
    """Organize NWB files into a DANDI dandiset folder, one session at a time, and validate it.

    Parameters
    ----------
    paths : sequence of str or PathLike
        NWB files, or folders searched for ``*.nwb``.
    dandiset_dir : str or PathLike
        The dandiset folder. A new one gets a ``dandiset.yaml`` (a draft identifier:
        replace it with the archive's, e.g. by ``dandi download`` of the registered
        dandiset's ``dandiset.yaml``). An existing dandiset keeps its ``dandiset.yaml``
        and files. Each file goes to DANDI's name for it, always with its session id
        (``sub-<s>/sub-<s>_ses-<t>[_<modalities>].nwb``), so sessions can be added one
        at a time. A file already there is left as it is (organizing again changes
        nothing); a different file at that name is reported and left alone.
    name, description : str, optional
        For a new ``dandiset.yaml``; taken from the first file otherwise.
    mode : {"copy", "move", "hardlink", "symlink"}, default "copy"
    validate : bool, default True
        Run ``dandi validate`` on the result.

    Returns
    -------
    OrganizeResult
        Input files that are not NWB files nwbmotor can share (truncated, text,
        partial files of interrupted writes, files reaching other files) are listed in
        ``refused``, one line each; nothing is made for them.

    Raises
    ------
    NwbMotorValueError
        No NWB files; a non-empty folder that is not a dandiset; no file that can be
        organized (then nothing is created).
    """
    files = _nwb_files(paths)
    root = Path(dandiset_dir)
    meta_file = root / "dandiset.yaml"
    if root.exists() and not root.is_dir():
        raise NwbMotorValueError(f"{root}: exists and is not a folder; expected a dandiset folder")
    if root.is_dir() and any(root.iterdir()) and not meta_file.exists():
        raise NwbMotorValueError(
            f"{root}: folder is not empty and has no dandiset.yaml; refusing to organize into it"
        )
    if not root.exists() and not root.parent.is_dir():
        raise NwbMotorValueError(f"{root}: its folder {root.parent} does not exist; expected an existing folder")
    refused: list[str] = []
    good: list[Path] = []
    for path in files:
        problem = _input_problem(path)
        if problem is None:
            good.append(path)
        else:
            refused.append(f"{path}: {shorten(problem, 300)}")
    named: list[tuple[Path, Path]] = []
    for path in good:
        try:
            named.append((path, _dandi_name(path)))
        except NwbMotorValueError as exc:
            refused.append(shorten(str(exc), 400))
    if not named:
        raise NwbMotorValueError(
            f"{root}: no file could be organized; {refused[0]}"
            + (f" (and {len(refused) - 1} more)" if len(refused) > 1 else "")
        )
    root.mkdir(exist_ok=True)
    placed: list[Path] = []
    unchanged: list[Path] = []
    with target_lock(meta_file):
        if not meta_file.exists():
            with atomic_output(meta_file) as tmp:
                tmp.write_text(yaml.safe_dump(_dandiset_yaml(named[0][0], name, description), sort_keys=False))
        for path, relative in named:
            dest = root / relative
            if os.path.lexists(dest):
                if dest.resolve() == path.resolve() or _identity(dest) == _identity(path):
                    unchanged.append(dest)
                else:
                    refused.append(f"{path}: {dest} exists and holds another file (another identifier); "
                                   "it is left alone: give this session another session_id, or remove the old file")
                continue
            try:
                _place(path, dest, mode)
            except FileExistsError:
                refused.append(f"{path}: {dest} appeared while organizing; it is left alone")
                continue
            except OSError as exc:
                refused.append(f"{path}: cannot be put at {dest} ({exc.strerror})")
                continue
            placed.append(dest)
    problems = tuple(validate_dandiset(root)) if validate else ()
    return OrganizeResult(dandiset_dir=root, files=tuple(sorted(placed)), problems=problems,
                          refused=tuple(refused), unchanged=tuple(sorted(unchanged)))
