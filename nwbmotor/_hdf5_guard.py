"""HDF5 inputs that cannot reach outside themselves.

An HDF5 file can hold links to other files (external links), datasets whose bytes live
in other files (external raw storage) and datasets assembled from other files (virtual
datasets). Reading any of them reads whatever file they name: a hostile model output
could copy a local file into an NWB file about to be shared. Every HDF5 file nwbmotor
reads (model outputs, MAT v7.3 files, NWB files to inspect, organize or open) goes
through :func:`check_self_contained` first, which refuses all three.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nwbmotor._errors import NwbMotorValueError

__all__ = ["check_self_contained", "self_contained_problem"]

#: objects visited at most (a file with more is refused rather than walked for minutes)
MAX_OBJECTS = 1_000_000


def _clip(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _tail(path: str, limit: int = 80) -> str:
    """A path cut from the left, so that the file name shows."""
    return path if len(path) <= limit else f"...{path[-limit:]}"


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _dataset_problem(name: str, dset: Any) -> str | None:
    import h5py

    plist = dset.id.get_create_plist()
    if plist.get_layout() == h5py.h5d.VIRTUAL:
        sources = [_tail(_text(plist.get_virtual_filename(i))) for i in range(min(plist.get_virtual_count(), 3))]
        return f"dataset '/{name}' is a virtual dataset assembled from other files {sources}"
    if plist.get_external_count() > 0:
        target = _text(plist.get_external(0)[0])
        return f"dataset '/{name}' stores its data in an external file {_tail(target)!r}"
    return None


def self_contained_problem(file: Any) -> str | None:
    """Why an open ``h5py.File`` reaches outside itself, or None when it does not.

    Parameters
    ----------
    file : h5py.File or h5py.Group
        Opened for reading.

    Returns
    -------
    str or None
        The first external link, external-storage or virtual dataset found.
    """
    import h5py

    stack: list[tuple[str, Any]] = [("", file)]
    seen: set[Any] = set()
    count = 0
    while stack:
        prefix, group = stack.pop()
        for key in group.keys():
            count += 1
            if count > MAX_OBJECTS:
                return f"more than {MAX_OBJECTS} objects; refused rather than walked"
            name = f"{prefix}{key}"
            link = group.get(key, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                return (f"'/{name}' is an external link to {_tail(link.filename)!r}:"
                        f"{_clip(link.path, 40)!r}")
            if isinstance(link, h5py.SoftLink):
                continue  # stays inside the file; its target is visited under its own name
            obj = group.get(key)
            if isinstance(obj, h5py.Dataset):
                problem = _dataset_problem(name, obj)
                if problem is not None:
                    return problem
            elif isinstance(obj, h5py.Group):
                addr = hash(obj.id)
                if addr not in seen:  # hard links may make cycles
                    seen.add(addr)
                    stack.append((f"{name}/", obj))
    return None


def check_self_contained(path: str | os.PathLike[str], *, file: Any = None) -> None:
    """Refuse an HDF5 file with external links, external storage or virtual datasets.

    Parameters
    ----------
    path : str or PathLike
        The file (named in the error).
    file : h5py.File, optional
        The file already open; opened read-only from ``path`` otherwise.

    Raises
    ------
    NwbMotorValueError
        Naming the file, the object and what it points to.

    Examples
    --------
    >>> import h5py, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with h5py.File(folder / "ok.h5", "w") as f:
    ...     f["x"] = [1, 2, 3]
    >>> check_self_contained(folder / "ok.h5")
    >>> with h5py.File(folder / "bad.h5", "w") as f:
    ...     f["x"] = h5py.ExternalLink("/etc/passwd", "/")
    >>> try:
    ...     check_self_contained(folder / "bad.h5")
    ... except ValueError as err:
    ...     print(str(err).split(": ", 1)[1][:36])
    '/x' is an external link to '/etc/pa
    """
    import h5py

    path = Path(path)
    try:
        if file is None:
            with h5py.File(path, "r") as f:
                problem = self_contained_problem(f)
        else:
            problem = self_contained_problem(file)
    except OSError as exc:
        raise NwbMotorValueError(f"{path}: the HDF5 file cannot be read ({_clip(str(exc))}); is it truncated?") from None
    if problem is not None:
        raise NwbMotorValueError(
            f"{path}: {problem}; expected a self-contained HDF5 file (nwbmotor never reads other files "
            "through one): copy the data in, e.g. with h5repack, or remove the link"
        )
