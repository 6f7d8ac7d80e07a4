"""Session views: NWB files (imaging or model; HDF5 or Zarr) as lazy xarray objects with one vocabulary.

``open_session`` (also ``xr.open_dataset(path, engine="nwbmotor")``) gives one
Dataset; ``open_sessions`` a DataTree of subjects and sessions; ``align_units`` lines
up units across sessions by ``global_id``; ``map_sessions`` runs an analysis over many
session files on dask.distributed and gathers one xarray result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.views._backend import (
        NwbMotorBackendEntrypoint,
    )
    from nwbmotor.views._scale import (
        map_sessions,
    )
    from nwbmotor.views._session import (
        open_session,
    )
    from nwbmotor.views._sessions import (
        align_units,
        open_sessions,
    )
    from nwbmotor.views._spines import (
        open_spine_table,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "NwbMotorBackendEntrypoint": "nwbmotor.views._backend",
        "align_units": "nwbmotor.views._sessions",
        "map_sessions": "nwbmotor.views._scale",
        "open_session": "nwbmotor.views._session",
        "open_sessions": "nwbmotor.views._sessions",
        "open_spine_table": "nwbmotor.views._spines",
    },
)
