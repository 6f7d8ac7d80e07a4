"""Writing an in-memory NWBFile to disk, safely, with NeuroConv's dataset configuration."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from nwbmotor._errors import NwbMotorValueError
from nwbmotor._io import atomic_output

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["write_nwbfile", "BACKENDS"]

BACKENDS = ("hdf5", "zarr")


def write_nwbfile(
    nwbfile: NWBFile,
    path: str | os.PathLike[str],
    *,
    backend: Literal["hdf5", "zarr"] = "hdf5",
    overwrite: bool = False,
    finalizers: Iterable[object] = (),
    configure: bool = True,
) -> Path:
    """Write ``nwbfile`` to ``path`` atomically, every large dataset chunked and compressed.

    Parameters
    ----------
    nwbfile : pynwb.NWBFile
        The file to write. Its datasets are configured with NeuroConv's default backend
        configuration (chunking, lossless compression) unless ``configure`` is False.
    path : str or PathLike
        Final path. Nothing appears there until the file is complete.
    backend : {"hdf5", "zarr"}
    overwrite : bool, default False
        Replace an existing file; otherwise an existing ``path`` is an error.
    finalizers : iterable
        Objects with a ``finalize_nwbfile(path, backend)`` method, called on the
        complete temporary file before it is renamed (see ``nwbmotor.conversion._registry``).
    configure : bool, default True
        Apply NeuroConv's default dataset configuration before writing.

    Returns
    -------
    Path
        The written file.
    """
    if backend not in BACKENDS:
        raise NwbMotorValueError(f"backend {backend!r} is not supported; expected one of {BACKENDS}")
    from neuroconv.tools.nwb_helpers import configure_backend, get_default_backend_configuration

    if configure:
        configuration = get_default_backend_configuration(nwbfile=nwbfile, backend=backend)
        configure_backend(nwbfile=nwbfile, backend_configuration=configuration)
    with atomic_output(path, overwrite=overwrite) as tmp:
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
    return Path(path)
