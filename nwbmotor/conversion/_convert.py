"""``nwbmotor convert``: every session of a spec into its own NWB file.

One NeuroConv converter per session is built from the registered source kinds
(``nwbmotor.conversion._registry``). Sessions are independent: one that fails is reported with
its error and the others complete. Finished files are skipped on a rerun (resume);
files left partial by an interrupted run are removed and redone.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nwbmotor._errors import NwbMotorError, NwbMotorValueError
from nwbmotor._io import PARTIAL_MARKER
from nwbmotor.conversion._metadata import to_neuroconv_metadata
from nwbmotor.conversion._spec import SessionSpec, load_spec

if TYPE_CHECKING:
    from neuroconv import BaseDataInterface
    from pynwb import NWBFile

__all__ = ["convert", "convert_session", "build_nwbfile", "build_interfaces", "SessionOutcome", "ConversionResult"]


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
                line += f"\n         {o.message}"
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
    interfaces = {kind: _make_interface(kind, args) for kind, args in session.sources.items()}
    for interface in sorted(interfaces.values(), key=lambda i: getattr(i, "link_order", 0)):
        link = getattr(interface, "link_session", None)
        if link is not None:
            link(interfaces)
    return interfaces


def build_nwbfile(session: SessionSpec) -> tuple[NWBFile, dict[str, BaseDataInterface]]:
    """Build the in-memory NWBFile of one session, and the interfaces that filled it.

    The spec's subject and session metadata override what the interfaces report.
    """
    from neuroconv import ConverterPipe
    from neuroconv.utils import dict_deep_update

    interfaces = _build_interfaces(session)
    converter = ConverterPipe(data_interfaces=interfaces)
    ours = to_neuroconv_metadata(session.subject, session.session, session.shared)
    metadata = dict_deep_update(converter.get_metadata(), ours)
    return converter.create_nwbfile(metadata=metadata), interfaces


def _output_path(output_dir: Path, session: SessionSpec, backend: str) -> Path:
    path = output_dir / session.relative_path
    return path.with_suffix(".nwb.zarr") if backend == "zarr" else path


def _remove_partials(target: Path) -> None:
    import shutil

    if not target.parent.is_dir():
        return
    for stale in target.parent.glob(f"{PARTIAL_MARKER}*-{target.name}"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


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
        Redo a session whose file exists; otherwise it is skipped.
    progress : bool, default False
        Show this file's progress (reading sources, building, writing).
    """
    from tqdm.auto import tqdm

    from nwbmotor._write import write_nwbfile

    target = _output_path(Path(output_dir), session, backend)
    ids = {"subject_id": session.subject.subject_id, "session_id": session.session.session_id}
    _remove_partials(target)
    if target.exists() and not overwrite:
        return SessionOutcome(**ids, path=str(target), status="skipped",
                              message="exists; pass --overwrite to redo it")
    if session.unavailable:
        return SessionOutcome(**ids, path=str(target), status="failed",
                              message=f"{session.subject.subject_id}/{session.session.session_id}: "
                                      + "; ".join(session.unavailable))
    start = time.perf_counter()
    bar = tqdm(total=2, desc=target.name, unit="step", leave=False, position=1, disable=not progress)
    try:
        bar.set_postfix_str("reading sources")
        nwbfile, interfaces = build_nwbfile(session)
        bar.update()
        bar.set_postfix_str("writing")
        write_nwbfile(nwbfile, target, backend=backend, overwrite=overwrite, finalizers=interfaces.values())
        bar.update()
    except NwbMotorError as exc:
        return SessionOutcome(**ids, path=str(target), status="failed", message=str(exc))
    except Exception as exc:  # noqa: BLE001 - one failing session must not stop the others
        return SessionOutcome(**ids, path=str(target), status="failed",
                              message=f"unexpected {type(exc).__name__}: {exc}")
    finally:
        bar.close()
    return SessionOutcome(**ids, path=str(target), status="written", seconds=time.perf_counter() - start)


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
    checked = load_spec(spec, missing_paths="session")
    kwargs: dict[str, Any] = {"output_dir": Path(output_dir), "backend": backend, "overwrite": overwrite,
                              "progress": progress}
    outcomes: Sequence[SessionOutcome] = run_jobs(
        convert_session, list(checked), kwargs=kwargs, workers=workers, scheduler=scheduler,
        progress=progress, label="sessions",
        cleanup=lambda s: _remove_partials(_output_path(Path(output_dir), s, backend)),
    )
    return ConversionResult(tuple(outcomes))


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
