"""``open_session``: one NWB file as a lazy xarray Dataset in nwbmotor's vocabulary."""

from __future__ import annotations

import os
from typing import Any, Literal

import xarray as xr

__all__ = ["open_session"]

ActivityKind = Literal["auto", "dff", "fluorescence", "deconvolved", "events", "rates", "spikes"]


def open_session(
    path: str | os.PathLike[str],
    *,
    activity: ActivityKind | None = "auto",
    series: str | None = None,
    chunks: int | dict[str, int] | Literal["auto"] | None = None,
    cache: bool | None = None,
    bin_width: float | None = None,
) -> xr.Dataset:
    """Open one NWB session (imaging, spike-sorted ephys or model) as a lazy :class:`xarray.Dataset`.

    The same as ``xr.open_dataset(path, engine="nwbmotor", ...)``. Nothing large is read
    until values are computed; the Dataset pickles (the file is re-opened wherever it
    is unpickled), so it can be sent to dask.distributed workers.

    Variables and dims (one vocabulary for real and model data):

    ========================  ============================  =========================================
    variable                  dims                          content
    ========================  ============================  =========================================
    ``activity``              (``time``, ``unit``)          dF/F, fluorescence, deconvolved, events, model rates,
                                                            or binned spikes (spikes/s)
    ``spike_time``            (``spike``)                   spike times of a Units table (unit ``u``'s are
                                                            ``spike_start[u]:spike_stop[u]``)
    ``behavior``              (``time_behavior``, ``channel``)  lever (volts, or metres if calibrated) / model output
    ``target``                (``time_behavior``, ``channel``)  the model's output target (models only)
    ``input``                 (``time_behavior``, ``input_channel``)  the model's inputs (models only)
    trial columns             (``trial``)                   NWB names: ``start_time``, ``cue_time``, ``movement_onset``, ...
    ``movement_*``            (``movement``)                ``intervals/movements`` columns
    ``epoch_*``               (``epoch``)                   ``intervals/optogenetic_epochs`` columns
    ``session_epoch_*``       (``session_epoch``)           NWB's ``intervals/epochs`` columns
    ``<table>_*``             (``<table>``)                 any other ``intervals/<table>``
    ========================  ============================  =========================================

    Behaviour is read from ``processing/behavior`` (or, when it has none, from the
    ``acquisition`` time series); series on another clock than the first are named in
    ``attrs["notes"]``. Regularly sampled times (``starting_time`` + ``rate``) are lazy
    index coordinates (:class:`nwbmotor.views._index.SessionTimeIndex`): opening a long
    session does not materialise its times, and a view pickles to a few kilobytes.

    Spike-sorted units (``activity="spikes"``, or "auto" on a file with a Units table and
    no ROI traces): ``activity`` is the firing rate in bins of ``bin_width`` seconds
    (default :data:`nwbmotor.views._units.DEFAULT_BIN_WIDTH`, 20 ms), ``time`` the bin
    centres, from 0 s (or the first spike, if earlier) to the last spike or trial end;
    unit coordinates ``region`` (the unit's ``location`` column, else its first
    electrode's location), ``electrode``, ``quality`` (when present), ``cell_type``,
    ``global_id``, ``source`` = "ephys", ``spike_start`` / ``spike_stop``.

    Coordinates on ``unit``: ``unit_id`` (row id of the ROI / unit table), ``cell_type``
    ("excitatory", "inhibitory", "unknown"), ``global_id`` (identity across sessions,
    -1 when unknown; string ids are kept as strings), ``source`` ("imaging" / "model"),
    ``region`` (imaging: the plane's location) or ``module`` (models), ``excluded``
    (imaging), ``dff_valid`` and ``iscell`` (imaging, when the file has them: ``dff_valid``
    False flags a NaN or failed trace), ``gain_group`` (models, when present), and for
    imaging the ROI centroids
    ``unit_x``, ``unit_y``: weighted mean of the ROI mask along NWB's x and y (the mask's
    ``x`` / ``y`` fields, or ``image_mask`` axes 1 / 2; for a Suite2p folder converted by
    nwbmotor or by NeuroConv, x is Suite2p's ``ypix`` and y its ``xpix``), in micrometres
    when the imaging plane has a ``grid_spacing`` (``attrs["units"] == "um"``, x scaled by
    its first value), else in pixels (``"pixels"``). Times are seconds in the session clock. Ragged or compound table
    columns are left out and listed in ``attrs["notes"]``.

    Parameters
    ----------
    path : str or PathLike
        An NWB file: HDF5, or a Zarr store (folder) as written by hdmf-zarr; or an
        ``http(s)://`` URL of an HDF5 NWB file (a DANDI asset URL too), read lazily by
        HTTP range requests (fsspec, :mod:`nwbmotor.views._remote`).
    activity : {"auto", "dff", "fluorescence", "deconvolved", "events", "rates", "spikes"} or None
        Which traces become ``activity``. "auto" takes the first present of dF/F,
        fluorescence, deconvolved, events, model rates, spikes. None opens the session
        without activity (e.g. behaviour-only files).
    series : str, optional
        Path (or unique trailing name) of the series to use when a file holds several
        of the asked kind (multi-plane recordings).
    chunks : int, dict, "auto" or None
        None: lazily indexed arrays (no dask). Otherwise dask arrays with these chunks
        (``{}`` uses the file's own chunking), as in :func:`xarray.open_dataset`.
    cache : bool, optional
        As in :func:`xarray.open_dataset`.
    bin_width : float, optional
        Seconds per bin of spike-sorted activity (default 0.02).

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
        os.fspath(path), engine=NwbMotorBackendEntrypoint, chunks=chunks, activity=activity, series=series,
        bin_width=bin_width, **kwargs
    )
