"""Writing an in-memory NWBFile to disk, safely, with NeuroConv's dataset configuration.

A file nwbmotor writes carries a completion marker: a root attribute
``nwbmotor_complete`` written last, after every dataset and finalizer, holding the
file's ``identifier`` and root ``object_id``. :func:`finished_nwb_problem` recognises a
finished file by content (it opens as NWB, caches its namespaces, and the marker
matches), never by its mere existence.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nwbmotor._errors import NwbMotorValueError
from nwbmotor._io import atomic_output

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["write_nwbfile", "BACKENDS", "COMPLETION_ATTRIBUTE", "finished_nwb_problem", "mark_complete"]

BACKENDS = ("hdf5", "zarr")
COMPLETION_ATTRIBUTE = "nwbmotor_complete"


def _text(value: Any) -> str:
    if hasattr(value, "shape") and getattr(value, "shape", None) == ():
        value = value[()]
    return value.decode() if isinstance(value, bytes) else str(value)


def _zarr_root(path: Path) -> Any:
    import zarr

    return zarr.open_group(str(path), mode="r")


def mark_complete(path: str | os.PathLike[str], backend: str = "hdf5") -> None:
    """Write the completion marker into a finished NWB file or Zarr store."""
    path = Path(path)
    if backend == "zarr":
        import zarr

        root = zarr.open_group(str(path), mode="r+")
        marker = {"identifier": _text(root["identifier"][()]), "object_id": _text(root.attrs["object_id"])}
        root.attrs[COMPLETION_ATTRIBUTE] = json.dumps(marker)
        return
    import h5py

    with h5py.File(path, "r+") as f:
        marker = {"identifier": _text(f["identifier"][()]), "object_id": _text(f.attrs["object_id"])}
        f.attrs[COMPLETION_ATTRIBUTE] = json.dumps(marker)
        f.flush()


def finished_nwb_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is not a finished NWB file written by nwbmotor, or None if it is.

    Finished means: it opens as NWB (HDF5 file or Zarr store), caches the core
    namespace, and its completion marker matches its identifier and object id.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.nwb"
    >>> _ = p.write_bytes(b"\\x89HDF\\r\\n\\x1a\\n" + bytes(100))
    >>> finished_nwb_problem(p)
    'an HDF5 file that cannot be opened (OSError; truncated?)'
    """
    path = Path(path)
    if path.is_symlink():
        return "a symbolic link"
    if path.is_dir():
        if not ((path / ".zgroup").exists() or (path / "zarr.json").exists()):
            return "a folder, not an NWB file"
        try:
            root = _zarr_root(path)
            attrs = dict(root.attrs)
            ids = {"identifier": _text(root["identifier"][()]), "object_id": _text(attrs.get("object_id"))}
            cached = "specifications" in root and "core" in root["specifications"]
        except Exception as exc:  # noqa: BLE001 - any failure to read means: not finished
            return f"a Zarr store that cannot be read as NWB ({type(exc).__name__})"
    else:
        import h5py

        if not path.is_file():
            return "not a regular file"
        if not h5py.is_hdf5(path):
            return "not a readable HDF5 file (truncated, or not NWB at all)"
        try:
            with h5py.File(path, "r") as f:
                attrs = {k: f.attrs[k] for k in (COMPLETION_ATTRIBUTE, "object_id", "nwb_version") if k in f.attrs}
                if "nwb_version" not in attrs or "identifier" not in f:
                    return "an HDF5 file without the NWB root"
                ids = {"identifier": _text(f["identifier"][()]), "object_id": _text(attrs.get("object_id"))}
                cached = "specifications" in f and "core" in f["specifications"]
        except Exception as exc:  # noqa: BLE001 - truncated files pass is_hdf5 and fail here
            return f"an HDF5 file that cannot be opened ({type(exc).__name__}; truncated?)"
    if not cached:
        return "its NWB namespaces are not cached"
    marker = attrs.get(COMPLETION_ATTRIBUTE)
    if marker is None:
        return "no nwbmotor completion marker (written by another program, or interrupted)"
    try:
        recorded = json.loads(_text(marker))
    except ValueError:
        return "its completion marker is not readable"
    if recorded != ids:
        return "its completion marker does not match its content (the file was changed after writing)"
    return None


def write_nwbfile(
    nwbfile: NWBFile,
    path: str | os.PathLike[str],
    *,
    backend: Literal["hdf5", "zarr"] = "hdf5",
    overwrite: bool = False,
    finalizers: Iterable[object] = (),
    configure: bool = True,
    make_parents: bool = True,
) -> Path:
    """Write ``nwbfile`` to ``path`` atomically, every large dataset chunked and compressed.

    Parameters
    ----------
    nwbfile : pynwb.NWBFile
        The file to write. Its datasets are configured with NeuroConv's default backend
        configuration (chunking, lossless compression) unless ``configure`` is False.
    path : str or PathLike
        Final path. Nothing appears there until the file is complete (with its
        completion marker).
    backend : {"hdf5", "zarr"}
    overwrite : bool, default False
        Replace an existing file nwbmotor wrote; otherwise an existing ``path`` is an
        error. A folder, a link or a file without nwbmotor's completion marker is never
        replaced.
    finalizers : iterable
        Objects with a ``finalize_nwbfile(path, backend)`` method, called on the
        complete temporary file before it is renamed (see ``nwbmotor.conversion._registry``).
    configure : bool, default True
        Apply NeuroConv's default dataset configuration before writing.
    make_parents : bool, default True
        Create missing folders of ``path``.

    Returns
    -------
    Path
        The written file.
    """
    if backend not in BACKENDS:
        raise NwbMotorValueError(f"backend {backend!r} is not supported; expected one of {BACKENDS}")
    from neuroconv.tools.nwb_helpers import configure_backend, get_default_backend_configuration

    with atomic_output(path, overwrite=overwrite, is_ours=finished_nwb_problem, make_parents=make_parents) as tmp:
        if configure:
            configuration = get_default_backend_configuration(nwbfile=nwbfile, backend=backend)
            configure_backend(nwbfile=nwbfile, backend_configuration=configuration)
        if backend == "hdf5":
            from pynwb import NWBHDF5IO

            with NWBHDF5IO(str(tmp), mode="w") as io:
                io.write(nwbfile, cache_spec=True)
        else:
            from hdmf_zarr.nwb import NWBZarrIO

            with NWBZarrIO(str(tmp), mode="w") as io:
                io.write(nwbfile, cache_spec=True)
        for finalizer in finalizers:
            finalize = getattr(finalizer, "finalize_nwbfile", None)
            if finalize is not None:
                finalize(tmp, backend)
        mark_complete(tmp, backend)
    return Path(path)
