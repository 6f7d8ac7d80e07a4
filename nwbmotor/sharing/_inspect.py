"""Checks that an NWB file is valid and DANDI-ready.

Three layers, all through the libraries' APIs (the ``nwbinspector`` command exits 0 even
on CRITICAL findings, so its exit code proves nothing):

1. the file opens as NWB (HDF5 or Zarr) and caches the spec of every namespace it uses;
2. ``pynwb.validate`` against the cached namespaces;
3. nwbinspector with the DANDI configuration.

A file passes when none of them reports an error, a CRITICAL or a
BEST_PRACTICE_VIOLATION finding. Suggestions are reported but do not fail it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["Finding", "FileReport", "inspect_file", "inspect_paths", "assert_valid_nwb"]

#: Severity levels in order; the first three fail a file.
SEVERITIES = ("error", "critical", "violation", "suggestion")
_FAILING = frozenset(SEVERITIES[:3])


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem found in one file."""

    severity: str  # one of SEVERITIES
    check: str  # what found it: 'open', 'spec-cache', 'pynwb-validation' or a nwbinspector check
    location: str  # the object's path in the file, or '' for the whole file
    message: str

    def __str__(self) -> str:
        where = f" at {self.location}" if self.location and self.location != "/" else ""
        return f"[{self.severity.upper()}] {self.check}{where}: {self.message}"


@dataclasses.dataclass(frozen=True)
class FileReport:
    """Every finding of one file."""

    path: str
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """True when no finding fails the file."""
        return not any(f.severity in _FAILING for f in self.findings)

    def to_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok, "findings": [dataclasses.asdict(f) for f in self.findings]}


def _open_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an NWB file, or None."""
    import h5py

    if not path.exists():
        return "no such file or folder"
    if path.is_dir():
        if not ((path / ".zgroup").exists() or (path / "zarr.json").exists()):
            return "a folder that is not a Zarr store"
        return None
    if not h5py.is_hdf5(path):
        return "not an HDF5 file (truncated, or not NWB at all)"
    from nwbmotor._hdf5_guard import self_contained_problem
    from nwbmotor._safe_yaml import shorten

    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in ("nwb_version",) if k not in f.attrs]
            if missing or "general" not in f or "acquisition" not in f:
                return "an HDF5 file without the NWB root (no nwb_version attribute or no /general)"
            outside = self_contained_problem(f)
            if outside is not None:
                return (f"{outside}; expected a self-contained file (DANDI and nwbmotor read nothing "
                        "through links to other files)")
    except OSError as exc:  # truncated files often pass is_hdf5 but fail to open
        return f"the HDF5 file cannot be opened ({shorten(str(exc), 150)}; truncated?)"
    return None


def _interrupted_write(path: Path) -> Finding | None:
    """A finding for a partial file left by a write (interrupted, or still going on)."""
    from nwbmotor._io import is_partial, partial_owner

    if not is_partial(path):
        return None
    owner = partial_owner(path)
    if owner is not None:
        return Finding("error", "interrupted-write", "",
                       f"a file nwbmotor is writing now ({owner}); not finished yet: inspect the final file "
                       "once that run ends")
    return Finding("error", "interrupted-write", "",
                   "a partial file left by an interrupted nwbmotor write (the run was killed); it is not an NWB "
                   "file: rerun the conversion of this session, which removes it")


def _used_and_cached_namespaces(path: Path) -> tuple[set[str], set[str]]:
    """Namespaces named by the objects of an HDF5 file, and those cached in it."""
    import h5py

    used: set[str] = set()
    with h5py.File(path, "r") as f:
        for name in ("namespace",):
            if name in f.attrs:
                used.add(_as_str(f.attrs[name]))

        def visit(_: str, obj) -> None:
            ns = obj.attrs.get("namespace")
            if ns is not None:
                used.add(_as_str(ns))

        f.visititems(visit)
        cached = set(f["specifications"].keys()) if "specifications" in f else set()
    return used, cached


def _as_str(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _inspector_findings(path: Path, is_zarr: bool) -> list[Finding]:
    import nwbinspector

    config = nwbinspector.load_config("dandi")
    severity_of = {
        nwbinspector.Importance.ERROR: "error",
        nwbinspector.Importance.PYNWB_VALIDATION: "error",
        nwbinspector.Importance.CRITICAL: "critical",
        nwbinspector.Importance.BEST_PRACTICE_VIOLATION: "violation",
        nwbinspector.Importance.BEST_PRACTICE_SUGGESTION: "suggestion",
    }
    if is_zarr:
        from hdmf_zarr.nwb import NWBZarrIO

        with NWBZarrIO(str(path), mode="r") as io:
            messages = list(nwbinspector.inspect_nwbfile_object(io.read(), config=config))
    else:
        messages = list(nwbinspector.inspect_nwbfile(path, config=config, skip_validate=True))
    return [
        Finding(
            severity=severity_of[m.importance],
            check=m.check_function_name or "nwbinspector",
            location=m.location or "",
            message=m.message,
        )
        for m in messages
        if m is not None
    ]


def _validation_findings(path: Path, is_zarr: bool) -> list[Finding]:
    import pynwb

    if is_zarr:
        from hdmf.build import BuildManager, TypeMap
        from hdmf.spec import NamespaceCatalog
        from hdmf_zarr.nwb import NWBZarrIO
        from pynwb.spec import NWBDatasetSpec, NWBGroupSpec, NWBNamespace

        # Validate against the namespaces cached in the store, read into a catalog of
        # their own: pynwb's global type map does not resolve an extension's core types
        # for Zarr stores ("data type 'NWBFile' not found in namespace ...").
        catalog = NamespaceCatalog(NWBGroupSpec, NWBDatasetSpec, NWBNamespace)
        NWBZarrIO.load_namespaces(catalog, str(path))
        manager = BuildManager(TypeMap(namespaces=catalog))
        with NWBZarrIO(str(path), mode="r", manager=manager) as io:
            errors = pynwb.validate(io=io)
    else:
        errors = pynwb.validate(path=str(path))
    return [Finding("error", "pynwb-validation", getattr(e, "location", "") or "", str(e)) for e in errors]


def inspect_file(path: str | os.PathLike[str]) -> FileReport:
    """Validate one NWB file and run nwbinspector on it with the DANDI configuration.

    Parameters
    ----------
    path : str or PathLike
        An NWB file (HDF5) or Zarr store.

    Returns
    -------
    FileReport
        The findings; ``report.ok`` is False on any error, CRITICAL or
        BEST_PRACTICE_VIOLATION finding.

    Examples
    --------
    >>> report = inspect_file("missing.nwb")
    >>> report.ok, report.findings[0].check
    (False, 'open')
    """
    path = Path(path)
    interrupted = _interrupted_write(path)
    if interrupted is not None:
        return FileReport(str(path), (interrupted,))
    problem = _open_problem(path)
    if problem is not None:
        return FileReport(str(path), (Finding("error", "open", "", problem),))
    is_zarr = path.is_dir()
    findings: list[Finding] = []
    if not is_zarr:
        used, cached = _used_and_cached_namespaces(path)
        if "core" not in cached:
            findings.append(Finding("error", "spec-cache", "/specifications", "the file caches no NWB core spec"))
        for ns in sorted(used - cached - {"core", "hdmf-common", "hdmf-experimental"}):
            findings.append(
                Finding(
                    "error",
                    "spec-cache",
                    "/specifications",
                    f"the file uses types of namespace '{ns}' but does not cache its spec; "
                    "write it with cache_spec=True so any NWB reader can open it",
                )
            )
    if findings:  # reading a file without its spec would raise deep inside hdmf
        return FileReport(str(path), tuple(findings))
    for layer in (_validation_findings, _inspector_findings):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                findings.extend(layer(path, is_zarr))
        except Exception as exc:  # noqa: BLE001 - any failure to read is a finding about the file
            findings.append(Finding("error", layer.__name__.strip("_").replace("_findings", ""), "", f"{type(exc).__name__}: {exc}"))
    return FileReport(str(path), tuple(findings))


def _expand(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir() and not ((p / ".zgroup").exists() or (p / "zarr.json").exists()):
            out.extend(sorted(q for q in p.rglob("*.nwb")))
        else:
            out.append(p)
    return out


def inspect_paths(paths: Sequence[str | os.PathLike[str]]) -> list[FileReport]:
    """Inspect NWB files; folders are searched for ``*.nwb`` files.

    Parameters
    ----------
    paths : sequence of str or PathLike
        Files, Zarr stores, or folders holding them.

    Returns
    -------
    list of FileReport
        One report per file, in the order found.
    """
    return [inspect_file(p) for p in _expand(paths)]


def format_reports(reports: Sequence[FileReport], *, as_json: bool = False) -> str:
    """Render reports for a terminal (grouped by file) or as JSON."""
    if as_json:
        return json.dumps([r.to_dict() for r in reports], indent=2)
    lines = []
    for r in reports:
        lines.append(f"{r.path}: {'OK' if r.ok else 'FAILED'}")
        lines.extend(f"  {f}" for f in sorted(r.findings, key=lambda f: SEVERITIES.index(f.severity)))
    n_bad = sum(not r.ok for r in reports)
    lines.append(f"{len(reports)} file(s) inspected, {n_bad} failed")
    return "\n".join(lines)


def assert_valid_nwb(path: str | os.PathLike[str]) -> FileReport:
    """Raise AssertionError listing the failing findings unless ``path`` passes :func:`inspect_file`.

    Meant for tests: every file nwbmotor writes must pass it.
    """
    report = inspect_file(path)
    if not report.ok:
        bad = "\n".join(str(f) for f in report.findings if f.severity in _FAILING)
        raise AssertionError(f"{path} fails inspection:\n{bad}")
    return report
