"""``nwbmotor convert``: every session of a spec into its own NWB file.

One NeuroConv converter per session is built from the registered source kinds
(``nwbmotor.conversion._registry``). Sessions are independent: one that fails is reported with
its error and the others complete. Finished files are skipped on a rerun (resume);
files left partial by an interrupted run are removed and redone.

Each session holds its target's lock (``nwbmotor._io.target_lock``) from the first
check to the final rename, so runs from several terminals or cron jobs never write the
same file at once: the second one reports the session as busy. A file at the target is
"finished" only if its content says so (``nwbmotor._write.finished_nwb_problem``); a
folder, a truncated file or a file another program wrote there is reported and left
alone, never skipped as done and never deleted. The output folder is checked first,
the spec next (every field, before any source is read), and a source file that changes
while it is converted fails its session.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nwbmotor._errors import NwbMotorError, NwbMotorValueError
from nwbmotor._io import TargetBusyError, clear_partials, output_folder_problem, target_lock
from nwbmotor._safe_yaml import clip
from nwbmotor.conversion._metadata import to_neuroconv_metadata
from nwbmotor.conversion._spec import SessionSpec, load_spec

if TYPE_CHECKING:
    from neuroconv import BaseDataInterface
    from pynwb import NWBFile

__all__ = ["convert", "convert_session", "check_spec", "build_nwbfile", "build_interfaces", "SessionOutcome", "ConversionResult"]


@dataclasses.dataclass(frozen=True)
class SessionOutcome:
    """What happened to one session."""

    subject_id: str
    session_id: str
    path: str
    status: Literal["written", "skipped", "failed"]
    message: str = ""
    seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class ConversionResult:
    """The outcome of every session of a conversion."""

    outcomes: tuple[SessionOutcome, ...]

    @property
    def ok(self) -> bool:
        """True when no session failed."""
        return all(o.status != "failed" for o in self.outcomes)

    @property
    def paths(self) -> list[Path]:
        """Files that exist after the run (written now or before)."""
        return [Path(o.path) for o in self.outcomes if o.status != "failed"]

    def summary(self) -> str:
        lines = []
        for o in self.outcomes:
            line = f"{o.status:>7}  {o.path}"
            if o.status == "written":
                line += f"  ({o.seconds:.1f} s)"
            if o.message:
                line += f": {o.message}" if o.status == "failed" else f"  [{o.message}]"
            lines.append(line)
        counts = {s: sum(o.status == s for o in self.outcomes) for s in ("written", "skipped", "failed")}
        lines.append(", ".join(f"{n} {s}" for s, n in counts.items()))
        return "\n".join(lines)


def _make_interface(kind: str, args: dict[str, Any]) -> BaseDataInterface:
    """``Interface(**args)``; a NeuroConv interface's reader error is reported with its source paths.

    nwbmotor's own interfaces raise :class:`NwbMotorError` naming the file; NeuroConv's
    readers often raise errors that name none (``mmap length is greater than file size``).
    """
    from nwbmotor.conversion._registry import get_interface_class

    cls = get_interface_class(kind)
    if not kind.startswith("neuroconv:"):
        return cls(**args)
    try:
        return cls(**args)
    except NwbMotorError:
        raise
    except Exception as exc:  # noqa: BLE001 - any error of a foreign reader, named by its source
        paths = ", ".join(str(v) for k, v in args.items() if k.endswith("_path") or k.endswith("_paths")) or kind
        raise NwbMotorValueError(f"{paths}: source {kind!r} cannot be read ({type(exc).__name__}: {exc})") from exc


def _build_interfaces(session: SessionSpec) -> dict[str, BaseDataInterface]:
    from nwbmotor.converters._session import align_session

    interfaces = {kind: _make_interface(kind, args) for kind, args in session.sources.items()}
    align_session(interfaces)
    return interfaces


def build_nwbfile(session: SessionSpec) -> tuple[NWBFile, dict[str, BaseDataInterface]]:
    """Build the in-memory NWBFile of one session, and the interfaces that filled it.

    The session's ``neuroconv_metadata`` is merged over what the interfaces report, and
    the spec's subject and session metadata over both; ``conversion_options`` go to the
    interfaces' ``add_to_nwbfile``.
    """
    from neuroconv import ConverterPipe
    from neuroconv.utils import dict_deep_update

    interfaces = _build_interfaces(session)
    converter = ConverterPipe(data_interfaces=interfaces)
    ours = to_neuroconv_metadata(session.subject, session.session, session.shared)
    metadata = dict_deep_update(dict_deep_update(converter.get_metadata(), session.neuroconv_metadata), ours)
    options = {k: dict(v) for k, v in session.conversion_options.items()}
    return converter.create_nwbfile(metadata=metadata, conversion_options=options or None), interfaces


def _output_path(output_dir: Path, session: SessionSpec, backend: str) -> Path:
    path = output_dir / session.relative_path
    return path.with_suffix(".nwb.zarr") if backend == "zarr" else path


def _clear_leftovers(target: Path) -> None:
    """Remove partial files of interrupted writes of ``target``, unless a live run owns them."""
    try:
        clear_partials(target)
    except NwbMotorError:
        pass  # another process holds the target: its partial file is alive


def _source_files(sources: dict[str, dict[str, Any]]) -> list[Path]:
    """The files a session reads: path arguments, and the files directly inside path folders."""
    files: list[Path] = []
    for args in sources.values():
        for name, value in args.items():
            if not (isinstance(value, str) and (name.endswith("_path") or name.endswith("_folder"))):
                continue
            path = Path(value)
            if path.is_file():
                files.append(path)
            elif path.is_dir():
                files.extend(sorted(p for p in path.iterdir() if p.is_file()))
    return files


def _fingerprint(files: list[Path]) -> dict[Path, tuple[int, int] | None]:
    out: dict[Path, tuple[int, int] | None] = {}
    for path in files:
        try:
            st = path.stat()
            out[path] = (st.st_size, st.st_mtime_ns)
        except OSError:
            out[path] = None
    return out


class _SourcesUnchanged:
    """Finalizer: refuse to publish a file whose sources changed while they were read."""

    def __init__(self, files: list[Path]) -> None:
        self.before = _fingerprint(files)

    def finalize_nwbfile(self, nwbfile_path: Path, backend: str) -> None:
        after = _fingerprint(list(self.before))
        changed = [p for p in self.before if after[p] != self.before[p]]
        if changed:
            raise NwbMotorValueError(
                f"{changed[0]}: changed while it was converted (size or modification time differ"
                f"{f'; {len(changed) - 1} other file(s) too' if len(changed) > 1 else ''}); expected sources "
                "that stay put during the conversion: rerun it once the file is complete"
            )


_OS_REASONS = {
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def _failure(exc: BaseException, target: Path, session: SessionSpec) -> str:
    """One line for an unexpected error, naming the file it concerns."""
    if isinstance(exc, OSError) and exc.errno in _OS_REASONS:
        where = exc.filename or target
        return f"{where}: {_OS_REASONS[exc.errno]}; expected room and permission to write {target}"
    if isinstance(exc, MemoryError):
        files = ", ".join(str(f) for f in _source_files(session.sources)[:3]) or "its sources"
        return (f"{target}: ran out of memory reading {clip(files)}; expected source files whose "
                "sizes and headers agree (check them, or convert on a machine with more memory)")
    text = " ".join(str(exc).split())
    return f"{target}: unexpected {type(exc).__name__}: {clip(text, 200)}"


def convert_session(
    session: SessionSpec,
    output_dir: str | os.PathLike[str],
    *,
    backend: Literal["hdf5", "zarr"] = "hdf5",
    overwrite: bool = False,
    progress: bool = False,
) -> SessionOutcome:
    """Convert one session; never raises for bad input, the outcome says what went wrong.

    Parameters
    ----------
    session : SessionSpec
        From :func:`nwbmotor.load_spec`.
    output_dir : str or PathLike
        Root of the DANDI layout.
    backend : {"hdf5", "zarr"}
    overwrite : bool, default False
        Redo a session whose finished file exists; otherwise it is skipped. Only a
        finished file nwbmotor wrote is replaced (atomically, once the new one is
        complete).
    progress : bool, default False
        Show this file's progress (reading sources, building, writing).
    """
    target = _output_path(Path(output_dir), session, backend)
    ids = {"subject_id": session.subject.subject_id, "session_id": session.session.session_id}
    try:
        problem = output_folder_problem(output_dir)
        if problem is not None:
            raise NwbMotorValueError(f"{output_dir}: the output folder {problem}")
        target.parent.mkdir(exist_ok=True)
        with target_lock(target):
            return _convert_locked(session, target, ids, backend=backend, overwrite=overwrite, progress=progress)
    except TargetBusyError as exc:
        return SessionOutcome(**ids, path=str(target), status="failed", message=str(exc))  # type: ignore[arg-type]
    except NwbMotorError as exc:
        return SessionOutcome(**ids, path=str(target), status="failed", message=" ".join(str(exc).split()))  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - one failing session must not stop the others
        return SessionOutcome(**ids, path=str(target), status="failed", message=_failure(exc, target, session))  # type: ignore[arg-type]


def _convert_locked(session: SessionSpec, target: Path, ids: dict[str, str], *, backend: str, overwrite: bool,
                    progress: bool) -> SessionOutcome:
    from tqdm.auto import tqdm

    from nwbmotor._write import finished_nwb_problem, write_nwbfile

    clear_partials(target)
    if os.path.lexists(target):
        problem = finished_nwb_problem(target)
        if problem is not None:
            return SessionOutcome(
                **ids, path=str(target), status="failed",  # type: ignore[arg-type]
                message=f"{target}: exists but is not a finished NWB file nwbmotor wrote ({problem}); it is left "
                        "alone: move it away, then rerun",
            )
        if not overwrite:
            return SessionOutcome(**ids, path=str(target), status="skipped",  # type: ignore[arg-type]
                                  message="exists; pass --overwrite to redo it")
    if session.unavailable:
        return SessionOutcome(**ids, path=str(target), status="failed",  # type: ignore[arg-type]
                              message=f"{session.subject.subject_id}/{session.session.session_id}: "
                                      + "; ".join(session.unavailable))
    start = time.perf_counter()
    watch = _SourcesUnchanged(_source_files(session.sources))
    bar = tqdm(total=2, desc=target.name, unit="step", leave=False, position=1, disable=not progress)
    try:
        bar.set_postfix_str("reading sources")
        nwbfile, interfaces = build_nwbfile(session)
        bar.update()
        bar.set_postfix_str("writing")
        write_nwbfile(nwbfile, target, backend=backend, overwrite=overwrite,  # type: ignore[arg-type]
                      finalizers=[*interfaces.values(), watch])
        bar.update()
    finally:
        bar.close()
    notes = [" ".join(str(n).split()) for i in interfaces.values() for n in getattr(i, "conversion_notes", list)()]
    return SessionOutcome(**ids, path=str(target), status="written", seconds=time.perf_counter() - start,
                          message="; ".join(notes))


def convert(
    spec: str | os.PathLike[str],
    *,
    output_dir: str | os.PathLike[str] = "nwb",
    backend: Literal["hdf5", "zarr"] = "hdf5",
    workers: int = 1,
    scheduler: str | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> ConversionResult:
    """Convert every session of a spec to ``<output_dir>/sub-<s>/sub-<s>_ses-<t>.nwb``.

    The whole spec is checked first (:func:`nwbmotor.load_spec`); a spec error stops
    the run before anything is written. A source file that does not exist fails its
    session only (reported with its key path). Then each session is converted on its own.

    Parameters
    ----------
    spec : str or PathLike
        The YAML spec.
    output_dir : str or PathLike, default "nwb"
    backend : {"hdf5", "zarr"}, default "hdf5"
    workers : int, default 1
        Sessions converted in parallel, on a dask.distributed LocalCluster.
    scheduler : str, optional
        Address of an existing dask scheduler to use instead of a LocalCluster.
    overwrite : bool, default False
        Redo sessions whose files exist (they are skipped otherwise: reruns resume).
    progress : bool, default True
        Show a progress bar over sessions.

    Returns
    -------
    ConversionResult
        ``result.ok`` is False if any session failed.

    Raises
    ------
    NwbMotorValueError
        If the spec has problems (each named by its key path).
    """
    from nwbmotor._jobs import run_jobs

    if workers < 1:
        raise NwbMotorValueError(f"workers must be at least 1, got {workers}")
    _check_output_dir(output_dir, create=False)  # before the spec: a wrong -o is the cheapest thing to find
    checked = load_spec(spec, missing_paths="session")
    _check_output_dir(output_dir, create=True)
    kwargs: dict[str, Any] = {"output_dir": Path(output_dir), "backend": backend, "overwrite": overwrite,
                              "progress": progress}
    outcomes: Sequence[SessionOutcome] = run_jobs(
        convert_session, list(checked), kwargs=kwargs, workers=workers, scheduler=scheduler,
        progress=progress, label="sessions",
        cleanup=lambda s: _clear_leftovers(_output_path(Path(output_dir), s, backend)),
    )
    return ConversionResult(tuple(outcomes))

def _check_output_dir(output_dir: str | os.PathLike[str], *, create: bool) -> None:
    problem = output_folder_problem(output_dir, create=create)
    if problem is not None:
        raise NwbMotorValueError(f"{output_dir}: the output folder {problem}")


def check_spec(
    spec: str | os.PathLike[str],
    *,
    output_dir: str | os.PathLike[str] | None = None,
    backend: Literal["hdf5", "zarr"] = "hdf5",
) -> str:
    """Check a spec, every source's presence and the output folder, without writing anything.

    What ``nwbmotor convert --check`` runs: the spec's fields (:func:`nwbmotor.load_spec`,
    with a missing source path an error), and that the output folder can be written
    (it is not created).

    Returns
    -------
    str
        One line: the sessions, the source files found, and how many outputs exist.

    Raises
    ------
    NwbMotorValueError
        Listing every problem.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> spec = pathlib.Path(tempfile.mkdtemp()) / "spec.yaml"
    >>> _ = spec.write_text(
    ...     "subjects:\\n"
    ...     "  - {subject_id: AP071, species: Mus musculus, sex: F, age: P60D, sessions: [{session_id: day01,\\n"
    ...     "     session_start_time: '2014-03-01T10:00:00-08:00', session_description: day 1}]}\\n")
    >>> check_spec(spec).split(": ", 1)[1]
    'OK: 1 session(s), 0 source file(s) found'
    """
    checked = load_spec(spec, missing_paths="error")
    n_files = sum(len(_source_files(s.sources)) for s in checked)
    summary = f"{checked.path}: OK: {len(checked)} session(s), {n_files} source file(s) found"
    if output_dir is not None:
        out = Path(output_dir)
        problem = output_folder_problem(out, create=False)
        if problem is not None:
            raise NwbMotorValueError(f"{out}: the output folder {problem}")
        existing = sum(os.path.lexists(_output_path(out, s, backend)) for s in checked)
        summary += f"; {existing} output(s) already in {out}"
    return summary


def build_interfaces(session: SessionSpec) -> dict[str, BaseDataInterface]:
    """Build and link one session's interfaces, keyed by source kind, exactly as :func:`convert` does.

    For using nwbmotor's interfaces with NeuroConv directly (``ConverterPipe``,
    ``NWBConverter``), or for checking them: nothing is added to any NWB file yet.

    Raises
    ------
    NwbMotorValueError
        If a source cannot be read (the message names its file).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from nwbmotor.conversion import load_spec
    >>> from nwbmotor.testing import write_spine_table
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_spine_table(root / "spines.csv", n_dendrites=2, sessions=["day01"])
    >>> _ = (root / "spec.yaml").write_text('''
    ... subjects:
    ...   - {subject_id: AP071, species: Mus musculus, sex: F, age: P60D, sessions: [
    ...      {session_id: day01, session_start_time: 2014-03-01T10:00:00-08:00,
    ...       session_description: spine imaging, sources: {spines: {file_path: spines.csv}}}]}
    ... ''')
    >>> sorted(build_interfaces(load_spec(root / "spec.yaml").sessions[0]))
    ['spines']
    """
    return _build_interfaces(session)
