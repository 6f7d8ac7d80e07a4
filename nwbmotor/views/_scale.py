"""Scale out: one analysis over many session files on dask.distributed, one xarray result."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import xarray as xr

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor._jobs import run_jobs
from nwbmotor.views._sessions import session_paths

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["map_sessions"]

Result = xr.Dataset | xr.DataArray


def _run_one(path: str, analysis: Callable[[xr.Dataset], Result], open_kwargs: Mapping[str, Any]) -> Result:
    """On a worker: open one session, run ``func``, return its result in memory."""
    from nwbmotor.views._session import open_session

    ds = open_session(path, **open_kwargs)
    try:
        result = analysis(ds)
        if not isinstance(result, (xr.Dataset, xr.DataArray)):
            raise NwbMotorTypeError(
                f"{path}: map_sessions expects func to return an xarray Dataset or DataArray, "
                f"got {type(result).__name__}"
            )
        result = result.load()
    finally:
        ds.close()
    result.attrs.setdefault("subject_id", ds.attrs.get("subject_id", ""))
    result.attrs.setdefault("session_id", ds.attrs.get("session_id", ""))
    result.attrs["source_file"] = str(path)
    return result


def _label(result: Result, path: str) -> tuple[str, str]:
    subject = str(result.attrs.get("subject_id") or "unknown-subject").replace("/", "_")
    session = str(result.attrs.get("session_id") or os.path.splitext(os.path.basename(path))[0]).replace("/", "_")
    return subject, session


def _same_float_labels(results: list[Result]) -> list[Result]:
    """Give float index labels that agree to within float noise the first result's values.

    Each session has its own clock: two sessions imaged at a nominal 28 Hz have frame
    intervals that differ in the fifth digit, so labels such as ``rel_time`` (multiples
    of the session's frame interval) differ by microseconds and an outer join would
    interleave them, NaN in every other row. Labels of one size that differ by less
    than 0.1 % of their spacing are the same position and take the first session's values.
    """
    if len(results) < 2:
        return results
    out = list(results)
    first = results[0]
    for dim, index in first.indexes.items():
        ref = np.asarray(index.values)
        if ref.dtype.kind != "f" or ref.ndim != 1 or ref.size < 2:
            continue
        step = float(np.median(np.abs(np.diff(ref))))
        for k, r in enumerate(out[1:], start=1):
            if dim not in r.indexes:
                continue
            other = np.asarray(r.indexes[dim].values)
            if other.shape == ref.shape and other.dtype.kind == "f" and not np.array_equal(other, ref) and (
                    np.max(np.abs(other - ref)) <= 1e-3 * step):
                out[k] = r.assign_coords({dim: (dim, ref, r[dim].attrs)})
    return out


def _combine(results: list[Result], paths: list[str], combine: str) -> Result | xr.DataTree:
    labels = [_label(r, p) for r, p in zip(results, paths, strict=True)]
    keys = [f"{s}/{e}" for s, e in labels]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise NwbMotorValueError(f"map_sessions: sessions {dup} appear more than once; every session must be unique")
    if combine == "tree":
        tree = xr.DataTree.from_dict(
            {k: (r if isinstance(r, xr.Dataset) else r.to_dataset(name=r.name or "result"))
             for k, r in zip(keys, results, strict=True)}
        )
        return tree
    stacked: list[Any] = []
    for (subject, session), key, r in zip(labels, keys, _same_float_labels(results), strict=True):
        r = r.copy()
        r.attrs = {k: v for k, v in r.attrs.items() if k not in ("subject_id", "session_id", "source_file")}
        stacked.append(r.expand_dims(session=[key]).assign_coords(
            subject_id=("session", [subject]), session_id=("session", [session])))
    try:
        out = xr.concat(stacked, dim="session", join="outer", combine_attrs="drop_conflicts",
                        coords="different", compat="equals")
    except ValueError as exc:
        raise NwbMotorValueError(
            f"map_sessions: the per-session results cannot be stacked along 'session' ({exc}); "
            "dims without an index (e.g. 'unit' before align_units) must have one size in every session. "
            "Pass combine='tree' to get a DataTree of subject/session instead"
        ) from None
    out.coords["source_file"] = ("session", np.array(paths, dtype=str))
    return out


def map_sessions(
    func: Callable[[xr.Dataset], Result],
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    client: Client | str | None = None,
    n_workers: int | None = None,
    open_kwargs: Mapping[str, Any] | None = None,
    combine: Literal["concat", "tree"] = "concat",
    progress: bool = False,
) -> Result | xr.DataTree:
    """Run ``func(session_view)`` on every session file with dask.distributed; gather one result.

    Each task opens its session on the worker (only the path travels), runs ``func``,
    and returns the result in memory; results are combined in the order of ``paths``.

    Parameters
    ----------
    func : callable
        ``func(ds) -> Dataset or DataArray``, picklable (a module-level function or a
        ``functools.partial``; lambdas work too, through cloudpickle).
    paths : path or sequence of paths
        NWB files, or folders searched recursively for ``*.nwb``.
    client : distributed.Client, str or None
        None: a ``LocalCluster`` with ``n_workers`` single-threaded worker processes,
        closed at the end (with ``n_workers=1`` the sessions run in this process). A
        string: the address of a running scheduler (``"tcp://host:8786"``), for a real
        cluster. A Client: used as is. Sessions run through :func:`nwbmotor._jobs.run_jobs`.
    n_workers : int, optional
        Workers of the LocalCluster (default: number of CPUs). Ignored with ``client``.
    open_kwargs : mapping, optional
        Keyword arguments of :func:`nwbmotor.open_session` (e.g. ``{"activity": "dff"}``).
    combine : {"concat", "tree"}
        "concat": stack along a new ``session`` dim (label ``"<subject>/<session>"``, with
        coords ``subject_id``, ``session_id``, ``source_file``; indexes joined outer, NaN
        where a session lacks a label; float labels of one size that agree within 0.1 % of
        their spacing, such as ``rel_time`` of sessions on slightly different clocks, are one). "tree": a DataTree ``/<subject>/<session>``.
    progress : bool
        Show a progress bar (tqdm) as sessions finish.

    Returns
    -------
    Dataset, DataArray or DataTree

    Raises
    ------
    NwbMotorValueError
        Results that cannot be stacked (use ``combine="tree"``), duplicate sessions.
    NwbMotorTypeError
        ``func`` returns something that is not xarray; ``client`` of a wrong type.
    Exception
        Whatever ``func`` raises on a session, with a note naming the file.

    Examples
    --------
    >>> import tempfile
    >>> from nwbmotor.testing import write_lab_sessions
    >>> truths = write_lab_sessions(tempfile.mkdtemp(), n_sessions=2, n_rois=4, n_trials=3)
    >>> def n_rewarded(ds):
    ...     return ds.rewarded.sum().rename("n_rewarded")
    >>> out = map_sessions(n_rewarded, [t.path for t in truths], n_workers=1)
    >>> out.dims
    ('session',)
    """
    from distributed import Client

    if not callable(func):
        raise NwbMotorTypeError(f"map_sessions: func must be callable, got {type(func).__name__}")
    if combine not in ("concat", "tree"):
        raise NwbMotorValueError(f"map_sessions: combine={combine!r}; expected 'concat' or 'tree'")
    if client is not None and not isinstance(client, (str, Client)):
        raise NwbMotorTypeError(
            f"map_sessions: client must be a distributed.Client, a scheduler address or None, got {type(client).__name__}"
        )
    files = [str(p) for p in session_paths(paths)]
    for p in files:
        if not os.path.isfile(p):
            raise NwbMotorValueError(f"{p}: no such file")
    results = run_jobs(
        _run_one,
        files,
        kwargs={"analysis": func, "open_kwargs": dict(open_kwargs or {})},
        workers=(n_workers or os.cpu_count() or 1) if client is None else 1,
        scheduler=client,
        progress=progress,
        label="sessions",
        describe=lambda path: path,
    )
    return _combine(list(results), files, combine)
