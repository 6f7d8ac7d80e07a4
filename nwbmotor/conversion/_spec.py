"""The conversion spec: one YAML file that says what to convert.

``load_spec`` reads and checks the whole spec before anything is converted, and
reports every problem at once, each prefixed with its key path
(``subjects[0].sessions[1].sources.xsglog.folder_path``). Checks: unknown keys, missing
required fields, wrong types, metadata DANDI would reject, unknown source kinds,
source arguments the interface does not take, and paths that do not exist. Relative
paths are resolved against the spec file's folder.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.conversion._metadata import SessionMetadata, SharedMetadata, SubjectMetadata

__all__ = ["SessionSpec", "ConversionSpec", "load_spec", "session_file_name"]


class _SessionEntry(SessionMetadata):
    sources: dict[str, dict[str, Any]] = Field(default_factory=dict)


class _SubjectEntry(SubjectMetadata):
    sessions: list[_SessionEntry] = Field(min_length=1)


class _SpecFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metadata: SharedMetadata = Field(default_factory=SharedMetadata)
    subjects: list[_SubjectEntry] = Field(min_length=1)


@dataclasses.dataclass(frozen=True)
class SessionSpec:
    """One session to convert: its metadata and its sources, paths resolved."""

    subject: SubjectMetadata
    session: SessionMetadata
    shared: SharedMetadata
    sources: dict[str, dict[str, Any]]
    #: problems with this session's source files (missing paths), when the spec was
    #: loaded with ``missing_paths="session"``: the session fails, the others convert
    unavailable: tuple[str, ...] = ()

    @property
    def relative_path(self) -> Path:
        """DANDI path of the output, relative to the output folder."""
        return session_file_name(self.subject.subject_id, self.session.session_id)


@dataclasses.dataclass(frozen=True)
class ConversionSpec:
    """A checked spec: where it came from and its sessions in order."""

    path: Path
    sessions: tuple[SessionSpec, ...]

    def __iter__(self) -> Iterator[SessionSpec]:
        return iter(self.sessions)

    def __len__(self) -> int:
        return len(self.sessions)


def session_file_name(subject_id: str, session_id: str) -> Path:
    """``sub-<subject>/sub-<subject>_ses-<session>.nwb``, as DANDI names files."""
    return Path(f"sub-{subject_id}") / f"sub-{subject_id}_ses-{session_id}.nwb"


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith("function-") or part in {"str", "list[str]", "datetime"}:
            continue  # pydantic's internal validator names
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _pydantic_messages(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        where = _key_path(err["loc"])
        kind = err["type"]
        given = err.get("input")
        if kind == "extra_forbidden":
            lines.append(f"{where}: unknown key (remove it or check its spelling)")
        elif kind == "missing":
            lines.append(f"{where}: required field is missing")
        elif kind == "value_error":
            lines.append(f"{where}: {err['ctx']['error']}")
        else:
            lines.append(f"{where}: {err['msg'].lower()}; got {given!r}")
    return lines


def _check_sources(
    where: str, sources: dict[str, dict[str, Any]], base: Path
) -> tuple[dict[str, dict[str, Any]], list[str], list[str]]:
    """Resolve and check a session's sources: (resolved, problems, missing paths)."""
    import jsonschema

    from nwbmotor.conversion._registry import SOURCE_KINDS, get_interface_class

    problems: list[str] = []
    missing: list[str] = []
    resolved: dict[str, dict[str, Any]] = {}
    for kind, args in sources.items():
        key = f"{where}.sources.{kind}"
        if kind not in SOURCE_KINDS and not kind.startswith("neuroconv:"):
            problems.append(f"{key}: unknown source kind; expected one of {sorted(SOURCE_KINDS)}")
            continue
        if not isinstance(args, dict):
            problems.append(f"{key}: expected a mapping of arguments, got {type(args).__name__} {args!r}")
            continue
        try:
            schema = get_interface_class(kind).get_source_schema()
        except NwbMotorValueError as exc:
            problems.append(f"{key}: {exc}")
            continue
        properties = schema.get("properties", {})
        for error in jsonschema.Draft7Validator(schema).iter_errors(args):
            sub = ".".join(str(p) for p in error.absolute_path)
            prefix = f"{key}.{sub}" if sub else key
            if error.validator == "additionalProperties":
                extra = sorted(set(args) - set(properties))
                problems.append(f"{key}: unknown key(s) {extra}; expected some of {sorted(properties)}")
            elif error.validator == "required":
                problems.append(f"{prefix}: {error.message.replace(' property', ' field')}")
            else:
                problems.append(f"{prefix}: expected {error.schema.get('type', error.schema)}, got {error.instance!r}")
        args = dict(args)
        for name, prop in properties.items():
            fmt = prop.get("format") or next(
                (p.get("format") for p in prop.get("anyOf", []) if p.get("format")), None
            )
            if fmt is None and name.endswith("_path"):
                fmt = "path"  # unannotated, but a path by name: resolve and check it too
            if fmt in {"file-path", "directory-path", "path"} and isinstance(args.get(name), (str, os.PathLike)):
                path = Path(args[name]).expanduser()
                path = path if path.is_absolute() else base / path
                if not path.exists():
                    missing.append(f"{key}.{name}: path {str(path)!r} does not exist")
                elif fmt == "directory-path" and not path.is_dir():
                    problems.append(f"{key}.{name}: {str(path)!r} is a file; expected a folder")
                elif fmt == "file-path" and path.is_dir():
                    problems.append(f"{key}.{name}: {str(path)!r} is a folder; expected a file")
                args[name] = str(path)
        resolved[kind] = args
    return resolved, problems, missing


def load_spec(
    path: str | os.PathLike[str],
    *,
    check_sources: bool = True,
    missing_paths: Literal["error", "session"] = "error",
) -> ConversionSpec:
    """Read and check a conversion spec.

    Parameters
    ----------
    path : str or PathLike
        The YAML file.
    check_sources : bool, default True
        Also check each source's arguments against its interface and that its paths
        exist. Turn off to check only the structure and the metadata.
    missing_paths : {"error", "session"}, default "error"
        A source path that does not exist is a spec error (``"error"``), or makes
        only its session unavailable (``"session"``: listed in
        ``SessionSpec.unavailable``; what ``convert`` uses, so that one missing file
        fails its session and the others convert).

    Returns
    -------
    ConversionSpec

    Raises
    ------
    NwbMotorValueError
        Listing every problem, one per line, each with its key path.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> spec = pathlib.Path(tempfile.mkdtemp()) / "spec.yaml"
    >>> _ = spec.write_text('''
    ... subjects:
    ...   - subject_id: AP071
    ...     species: Mus musculus
    ...     sex: F
    ...     age: P60D
    ...     sessions:
    ...       - session_id: day01
    ...         session_start_time: 2014-03-01T10:00:00-08:00
    ...         session_description: lever-press training day 1
    ... ''')
    >>> [str(s.relative_path) for s in load_spec(spec)]
    ['sub-AP071/sub-AP071_ses-day01.nwb']
    """
    path = Path(path)
    if not path.is_file():
        raise NwbMotorValueError(f"{path}: spec file does not exist")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise NwbMotorValueError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise NwbMotorValueError(
            f"{path}: expected a mapping with 'subjects' (and optionally 'metadata'), got {type(raw).__name__}"
        )
    try:
        parsed = _SpecFile.model_validate(raw)
    except ValidationError as exc:
        lines = _pydantic_messages(exc)
        raise NwbMotorValueError(f"{path}: {len(lines)} problem(s)\n  " + "\n  ".join(lines)) from None

    problems: list[str] = []
    sessions: list[SessionSpec] = []
    seen: dict[Path, str] = {}
    for i, subj in enumerate(parsed.subjects):
        subject = SubjectMetadata.model_validate(subj.model_dump(exclude={"sessions"}))
        for j, sess in enumerate(subj.sessions):
            where = f"subjects[{i}].sessions[{j}]"
            session = SessionMetadata.model_validate(sess.model_dump(exclude={"sources"}))
            sources, missing = sess.sources, list[str]()
            if check_sources:
                sources, found, missing = _check_sources(where, sess.sources, path.parent)
                problems.extend(found)
                if missing_paths == "error":
                    problems.extend(missing)
                    missing = []
            spec = SessionSpec(subject=subject, session=session, shared=parsed.metadata, sources=sources,
                               unavailable=tuple(missing))
            if spec.relative_path in seen:
                problems.append(f"{where}.session_id: {session.session_id!r} repeats {seen[spec.relative_path]}")
            seen[spec.relative_path] = where
            sessions.append(spec)
    if problems:
        raise NwbMotorValueError(f"{path}: {len(problems)} problem(s)\n  " + "\n  ".join(problems))
    return ConversionSpec(path=path, sessions=tuple(sessions))
