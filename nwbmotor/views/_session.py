"""``open_session``: one NWB file as a lazy xarray Dataset in nwbmotor's vocabulary."""

from __future__ import annotations

import os
from typing import Any, Literal

import xarray as xr

__all__ = ["open_session"]

ActivityKind = Literal["auto", "dff", "fluorescence", "deconvolved", "events", "rates"]


def open_session(
    path: str | os.PathLike[str],
    *,
    activity: ActivityKind | None = "auto",
    series: str | None = None,
    chunks: int | dict[str, int] | Literal["auto"] | None = None,
    cache: bool | None = None,
) -> xr.Dataset:
    """Open one NWB session (imaging or model) as a lazy :class:`xarray.Dataset`.

    The same as ``xr.open_dataset(path, engine="nwbmotor", ...)``. Nothing large is read
    until values are computed; the Dataset pickles (the file is re-opened wherever it
    is unpickled), so it can be sent to dask.distributed workers.

    Variables and dims (one vocabulary for real and model data):

    ========================  ============================  =========================================
    variable                  dims                          content
    ========================  ============================  =========================================
    ``activity``              (``time``, ``unit``)          dF/F, fluorescence, deconvolved, events, or model rates
    ``behavior``              (``time_behavior``, ``channel``)  lever (volts, or metres if calibrated) / model output
    ``target``                (``time_behavior``, ``channel``)  the model's output target (models only)
    ``input``                 (``time_behavior``, ``input_channel``)  the model's inputs (models only)
    trial columns             (``trial``)                   NWB names: ``start_time``, ``cue_time``, ``movement_onset``, ...
    ``movement_*``            (``movement``)                ``intervals/movements`` columns
    ``epoch_*``               (``epoch``)                   ``intervals/optogenetic_epochs`` columns
    ========================  ============================  =========================================

    Coordinates on ``unit``: ``unit_id`` (row id of the ROI / unit table), ``cell_type``
    ("excitatory", "inhibitory", "unknown"), ``global_id`` (identity across sessions,
    -1 when unknown; string ids are kept as strings), ``source`` ("imaging" / "model"),
    ``region`` (imaging: the plane's location) or ``module`` (models), ``excluded``
    (imaging), ``dff_valid`` and ``iscell`` (imaging, when the file has them: ``dff_valid``
    False flags a NaN or failed trace), ``gain_group`` (models, when present), and for
    imaging the ROI centroids
    ``unit_x``, ``unit_y``: weighted mean of the ROI mask, in micrometres when the imaging
    plane has a ``grid_spacing`` (``attrs["units"] == "um"``), else in pixels
    (``"pixels"``). Times are seconds in the session clock. Ragged or compound table
    columns are left out and listed in ``attrs["notes"]``.

    Parameters
    ----------
    path : str or PathLike
        An NWB file: HDF5, or a Zarr store (folder) as written by hdmf-zarr.
    activity : {"auto", "dff", "fluorescence", "deconvolved", "events", "rates"} or None
        Which traces become ``activity``. "auto" takes the first present of dF/F,
        fluorescence, deconvolved, events, model rates. None opens the session without
        activity (e.g. behaviour-only files).
    series : str, optional
        Path (or unique trailing name) of the series to use when a file holds several
        of the asked kind (multi-plane recordings).
    chunks : int, dict, "auto" or None
        None: lazily indexed arrays (no dask). Otherwise dask arrays with these chunks
        (``{}`` uses the file's own chunking), as in :func:`xarray.open_dataset`.
    cache : bool, optional
        As in :func:`xarray.open_dataset`.

    Returns
    -------
    xarray.Dataset
        With ``attrs`` ``session_id``, ``subject_id``, ``identifier``,
        ``session_start_time``, ``source`` ("imaging" / "model"), ``activity_kind``,
        ``source_file``.

    Raises
    ------
    NwbMotorValueError
        The file is missing, not NWB, holds no activity of the asked kind, several
        series of that kind without ``series=``, or lengths that do not match (a
        series' timestamps vs its data, its ROI references vs its columns, the columns
        of a table).
    NwbMotorTypeError
        ``path`` is not a path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbmotor.testing import write_lab_session
    >>> truth = write_lab_session(pathlib.Path(tempfile.mkdtemp()) / "s.nwb", n_rois=6, n_trials=3)
    >>> ds = open_session(truth.path)
    >>> ds.activity.dims, ds.sizes["unit"]
    (('time', 'unit'), 6)
    >>> bool((ds.fluorescence.values == truth.fluorescence).all())
    True
    """
    from nwbmotor.views._backend import NwbMotorBackendEntrypoint, _check_path

    _check_path(path)
    kwargs: dict[str, Any] = {}
    if cache is not None:
        kwargs["cache"] = cache
    return xr.open_dataset(
        os.fspath(path), engine=NwbMotorBackendEntrypoint, chunks=chunks, activity=activity, series=series, **kwargs
    )
