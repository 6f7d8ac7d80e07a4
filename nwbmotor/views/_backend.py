"""The xarray backend: ``xr.open_dataset(path, engine="nwbmotor")``.

xarray's automatic engine detection sends ``.nwb`` files to h5netcdf (they are HDF5),
which shows raw HDF5 groups, not a session; :meth:`NwbMotorBackendEntrypoint.guess_can_open`
therefore says False and the engine must be named: ``engine="nwbmotor"``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from xarray.backends import BackendEntrypoint, CachingFileManager
from xarray.core import indexing

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.views import _layout
from nwbmotor.views._index import regular_time_coords
from nwbmotor.views._lazy import H5_LOCK, NwbDatasetArray, StackedArray
from nwbmotor.views._zarrfile import ZarrFile, is_zarr_store

__all__ = ["NwbMotorBackendEntrypoint", "open_nwb_dataset"]

_KIND_UNITS = {"dff": "dF/F", "fluorescence": "a.u.", "deconvolved": "a.u.", "events": "dF/F", "rates": "a.u."}
_TABLES = (("intervals/trials", "trial", ""), ("intervals/movements", "movement", "movement_"),
           ("intervals/optogenetic_epochs", "epoch", "epoch_"))


def _check_path(filename_or_obj: Any) -> Path | str:
    from nwbmotor.views._remote import is_url

    if is_url(filename_or_obj):
        return str(filename_or_obj)
    if not isinstance(filename_or_obj, (str, os.PathLike)):
        raise NwbMotorTypeError(
            f"open_session: expected a path to an NWB file (str or PathLike), got {type(filename_or_obj).__name__}"
        )
    path = Path(filename_or_obj)
    if not path.exists():
        raise NwbMotorValueError(f"{path}: no such file")
    if path.is_dir():
        if is_zarr_store(path):
            return path
        raise NwbMotorValueError(f"{path}: a folder that is not a Zarr store; expected an NWB file (HDF5 or Zarr)")
    import h5py

    if not h5py.is_hdf5(path):
        raise NwbMotorValueError(f"{path}: not an HDF5 file (truncated, or not NWB); expected an NWB 2 file")
    return path


def _lazy(manager: CachingFileManager, info: _layout.SeriesInfo, lock: Any, as_2d: bool = False) -> NwbDatasetArray:
    shape = info.shape if not (as_2d and len(info.shape) == 1) else (info.shape[0], 1)
    scaled = info.conversion != 1.0 or info.offset != 0.0
    dtype = np.dtype(np.float64) if scaled else info.dtype
    return NwbDatasetArray(manager, info.data_path, shape, dtype, conversion=info.conversion,
                           offset=info.offset, lock=lock)


def _encoding(f: Any, info: _layout.SeriesInfo, dims: tuple[str, ...]) -> dict:
    ds = f[info.data_path]
    enc: dict[str, Any] = {"source_path": info.data_path}
    if ds.chunks is not None and len(ds.chunks) == len(dims):
        enc["preferred_chunks"] = dict(zip(dims, ds.chunks, strict=True))
    return enc


def open_nwb_dataset(
    filename_or_obj: str | os.PathLike[str],
    *,
    activity: str | None = "auto",
    series: str | None = None,
    drop_variables: str | list[str] | tuple[str, ...] | None = None,
    lock: Any = None,
    bin_width: float | None = None,
) -> xr.Dataset:
    """Build the lazy session Dataset of one NWB file or URL (see :func:`nwbmotor.open_session`)."""
    import h5py

    path = _check_path(filename_or_obj)
    lock = H5_LOCK if lock is None or lock is True else lock
    if isinstance(path, str):  # a URL
        from nwbmotor.views._remote import RemoteH5File, resolve_url

        opener: Any = RemoteH5File
        path = resolve_url(path)
        source = path
    else:
        opener = ZarrFile if is_zarr_store(path) else h5py.File
        source = str(path.resolve())
    manager = CachingFileManager(opener, str(path), mode="r")
    try:
        with lock:
            try:
                f = manager.acquire()
            except (OSError, ValueError, KeyError) as exc:
                raise NwbMotorValueError(f"{path}: the file cannot be opened ({exc}); is it truncated?") from None
            if opener is h5py.File:
                from nwbmotor._hdf5_guard import check_self_contained

                check_self_contained(path, file=f)
            ds = _build(f, manager, lock, activity, series, bin_width)
            ds.attrs["source_file"] = source
    except Exception:
        manager.close()
        raise
    if drop_variables is not None:
        names = [drop_variables] if isinstance(drop_variables, str) else list(drop_variables)
        ds = ds.drop_vars([n for n in names if n in ds.variables])
    ds.set_close(manager.close)
    return ds


def _build(f: Any, manager: CachingFileManager, lock: Any, activity: str | None, series: str | None,
           bin_width: float | None = None) -> xr.Dataset:
    if "nwb_version" not in f.attrs and "general" not in f:
        raise NwbMotorValueError(f"{f.filename}: an HDF5 file without the NWB root (no nwb_version attribute)")
    attrs: dict[str, Any] = _layout.session_attrs(f)
    attrs["source_file"] = str(f.filename)
    notes: list[str] = []
    variables: dict[str, xr.Variable] = {}
    coords: dict[str, xr.Variable] = {}

    use_units = activity == "spikes" or (
        activity == "auto" and series is None and "units" in f and not _layout.has_activity_series(f))
    info = None if use_units else _layout.find_activity(f, activity, series)
    if use_units:
        _add_units(f, manager, lock, variables, coords, attrs, bin_width)
    elif info is not None:
        if len(info.shape) != 2:
            raise NwbMotorValueError(
                f"{f.filename}: {info.data_path} has shape {info.shape}; expected (time, unit) activity"
            )
        n_time, n_unit = info.shape
        _time_coord(f, info.path, n_time, "time", coords)
        ucoords, extra = _layout.unit_coords(f, info)
        for name, (dim, values, cattrs) in ucoords.items():
            coords[name] = xr.Variable(dim, values, cattrs)
        notes.extend(extra.get("notes", []))
        unit = info.unit if info.unit not in ("n.a.", "", "unknown") else _KIND_UNITS[info.kind]
        variables["activity"] = xr.Variable(
            ("time", "unit"), indexing.LazilyIndexedArray(_lazy(manager, info, lock)),
            {"units": unit, "kind": info.kind, "nwb_path": info.path}, _encoding(f, info, ("time", "unit")),
        )
        attrs["source"] = "model" if info.kind == "rates" else "imaging"
        attrs["activity_kind"] = info.kind
        raw = _layout.find_fluorescence(f, info)
        if raw is not None:
            variables["fluorescence"] = xr.Variable(
                ("time", "unit"), indexing.LazilyIndexedArray(_lazy(manager, raw, lock)),
                {"units": raw.unit if raw.unit not in ("n.a.", "", "unknown") else _KIND_UNITS["fluorescence"],
                 "kind": "fluorescence", "nwb_path": raw.path},
                _encoding(f, raw, ("time", "unit")),
            )
    else:
        attrs["source"] = "model" if "processing/model" in f else ("ephys" if "units" in f else "imaging")
        attrs["activity_kind"] = "none"
        notes.append("opened with activity=None: no activity variable")

    if attrs["source"] == "model":
        _add_model_behavior(f, manager, lock, variables, coords)
        _add_model_weights(f, variables, coords)
    else:
        _add_lab_behavior(f, manager, lock, variables, coords, notes)

    for path, dim, prefix in _tables(f):
        table = _layout.read_table(f, path, notes)
        if table is None:
            continue
        ids, columns = table
        coords[dim] = xr.Variable(dim, ids.astype(np.int64))
        for name, values in columns.items():
            vattrs = {"units": "s"} if name.endswith("_time") or name in ("movement_onset", "movement_offset") else {}
            variables[f"{prefix}{name}"] = xr.Variable(dim, values, vattrs)
    if notes:
        attrs["notes"] = "; ".join(notes)
    lazy = [coords.pop(k) for k in [k for k, v in coords.items() if isinstance(v, xr.Coordinates)]]
    ds = xr.Dataset(variables, coords=coords, attrs=attrs)
    for c in lazy:
        ds = ds.assign_coords(c)  # type: ignore[arg-type]
    return ds


_TIME_ATTRS = {"units": "s", "long_name": "time in the session clock"}


def _time_coord(f: Any, path: str, n: int, dim: str, coords: dict) -> None:
    """The times of a series as the ``dim`` coordinate: lazily indexed when regularly sampled."""
    timing = _layout.series_timing(f, path, n)
    if isinstance(timing, tuple):
        coords[dim] = regular_time_coords(dim, start=timing[0], rate=timing[1], n=n, attrs=dict(_TIME_ATTRS))
    else:
        coords[dim] = xr.Variable(dim, timing, dict(_TIME_ATTRS))


def _tables(f: Any) -> list[tuple[str, str, str]]:
    """The interval tables of the file: nwbmotor's (trials, movements, light epochs), then
    NWB's ``epochs`` (dim ``session_epoch``) and any other (dim = the table's name)."""
    tables = list(_TABLES)
    known = {p.rsplit("/", 1)[-1] for p, _, _ in _TABLES}
    intervals = f.get("intervals")
    for name in sorted(intervals) if intervals is not None else []:
        if name in known or hasattr(intervals[name], "shape"):
            continue
        dim = "session_epoch" if name == "epochs" else name
        tables.append((f"intervals/{name}", dim, f"{dim}_"))
    return tables


def _add_units(f: Any, manager: CachingFileManager, lock: Any, variables: dict, coords: dict, attrs: dict,
               bin_width: float | None) -> None:
    from nwbmotor.views._units import DEFAULT_BIN_WIDTH, BinnedSpikesArray, unit_coords, units_info

    t_stop = None
    trials = f.get("intervals/trials")
    if trials is not None and "stop_time" in trials and trials["stop_time"].shape[0]:
        t_stop = float(np.nanmax(trials["stop_time"][()]))
    width = DEFAULT_BIN_WIDTH if bin_width is None else bin_width
    info = units_info(f, bin_width=width, t_stop=t_stop)
    if info is None:
        raise NwbMotorValueError(f"{f.filename}: activity='spikes' but the file has no units/spike_times")
    coords["time"] = regular_time_coords(
        "time", start=info.t_start + 0.5 * info.bin_width, rate=1.0 / info.bin_width, n=info.n_bins,
        attrs={**_TIME_ATTRS, "bin_width": info.bin_width, "long_name": "centre of the spike-count bin, session clock"})
    for name, (dim, values, cattrs) in unit_coords(f, info).items():
        coords[name] = xr.Variable(dim, values, cattrs)
    variables["activity"] = xr.Variable(
        ("time", "unit"), indexing.LazilyIndexedArray(BinnedSpikesArray(manager, info, lock)),
        {"units": "spikes/s", "kind": "spikes", "nwb_path": "/units", "bin_width": info.bin_width,
         "long_name": f"firing rate in {info.bin_width * 1e3:g} ms bins"},
    )
    n_spikes = int(info.ends[-1]) if info.ends.size else 0
    variables["spike_time"] = xr.Variable(
        ("spike",), indexing.LazilyIndexedArray(NwbDatasetArray(manager, info.path, (n_spikes,), np.dtype(np.float64),
                                                                lock=lock)),
        {"units": "s", "long_name": "spike times of all units; unit u's are spike_start[u]:spike_stop[u]"},
    )
    attrs["source"] = "ephys"
    attrs["activity_kind"] = "spikes"
    attrs["bin_width"] = info.bin_width


def _add_lab_behavior(f: Any, manager: CachingFileManager, lock: Any, variables: dict, coords: dict,
                      notes: list[str] | None = None) -> None:
    series = _layout.find_behavior(f, notes)
    if not series:
        return
    parts = [_lazy(manager, s, lock, as_2d=True) for s in series]
    labels: list[str] = []
    for s, p in zip(series, parts, strict=True):
        labels.extend(_layout.channel_labels(f, s, p.shape[1]))
    data = parts[0] if len(parts) == 1 else StackedArray(parts)
    first = series[0]
    _time_coord(f, first.path, first.shape[0], "time_behavior", coords)
    coords["channel"] = xr.Variable("channel", np.array(labels, dtype=str))
    units = sorted({s.unit for s in series})
    variables["behavior"] = xr.Variable(
        ("time_behavior", "channel"), indexing.LazilyIndexedArray(data),
        {"units": units[0] if len(units) == 1 else ", ".join(units), "nwb_path": ", ".join(s.path for s in series)},
        _encoding(f, first, ("time_behavior",)) if len(first.shape) == 1 else {},
    )


def _add_model_weights(f: Any, variables: dict, coords: dict) -> None:
    """Weights of the stored networks: ``weight_<name>`` (snapshot, <name>_post, <name>_pre).

    One variable per weight matrix stored in every network (snapshot) of the file, with
    the networks on ``snapshot`` (their names, e.g. "trained", "adapted_local", which the
    trials' ``network`` column refers to) and
    attrs ``post`` and ``pre`` (the endpoints it connects). Read into memory (weights
    are small next to the rates).
    """
    group = f.get("processing/model/networks")
    if group is None:
        return
    nets = sorted(((int(g.attrs.get("order", i)), str(name), g) for i, (name, g) in enumerate(group.items())
                   if hasattr(g, "keys")), key=lambda item: item[0])
    if not nets:
        return
    first = nets[0][2]
    names = [k for k in first.keys() if _s(first[k].attrs.get("neurodata_type", "")) == "NetworkWeights"]
    coords["snapshot"] = xr.Variable("snapshot", np.array([n for _, n, _ in nets], dtype=str))
    for name in names:
        mats = [g[name] for _, _, g in nets if name in g and g[name].shape == first[name].shape]
        if len(mats) != len(nets):
            continue
        dims = ("snapshot", f"{name}_post", f"{name}_pre")
        data = np.stack([np.asarray(m[()], dtype=float) for m in mats])
        variables[f"weight_{name}"] = xr.Variable(
            dims, data, {"post": _s(first[name].attrs.get("post", "")), "pre": _s(first[name].attrs.get("pre", "")),
                         "long_name": f"weights {name} (post, pre) of each network snapshot",
                         "nwb_path": f"{group.name}/<network>/{name}"})


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _add_model_behavior(f: Any, manager: CachingFileManager, lock: Any, variables: dict, coords: dict) -> None:
    outputs = _layout.find_model_series(f, "outputs")
    if outputs is None:
        return
    n = outputs.shape[0]
    arr = _lazy(manager, outputs, lock, as_2d=True)
    _time_coord(f, outputs.path, n, "time_behavior", coords)
    coords["channel"] = xr.Variable("channel", np.array(_layout.channel_labels(f, outputs, arr.shape[1]), dtype=str))
    variables["behavior"] = xr.Variable(("time_behavior", "channel"), indexing.LazilyIndexedArray(arr),
                                        {"units": outputs.unit, "nwb_path": outputs.path})
    targets = _layout.find_model_series(f, "targets")
    if targets is not None:
        tarr = _lazy(manager, targets, lock, as_2d=True)
        if tarr.shape != arr.shape:
            raise NwbMotorValueError(
                f"{f.filename}: {targets.data_path} has shape {targets.shape} but {outputs.data_path} has "
                f"{outputs.shape}; the target must match the output"
            )
        variables["target"] = xr.Variable(("time_behavior", "channel"), indexing.LazilyIndexedArray(tarr),
                                          {"units": targets.unit, "nwb_path": targets.path})
    inputs = _layout.find_model_series(f, "inputs")
    if inputs is not None and inputs.shape[0] == n:
        iarr = _lazy(manager, inputs, lock, as_2d=True)
        coords["input_channel"] = xr.Variable(
            "input_channel", np.array(_layout.channel_labels(f, inputs, iarr.shape[1]), dtype=str))
        variables["input"] = xr.Variable(("time_behavior", "input_channel"), indexing.LazilyIndexedArray(iarr),
                                         {"units": inputs.unit, "nwb_path": inputs.path})


class NwbMotorBackendEntrypoint(BackendEntrypoint):
    """Open an NWB session (imaging or model) as a Dataset with nwbmotor's vocabulary.

    Use it by name: ``xr.open_dataset(path, engine="nwbmotor")``. ``guess_can_open``
    is False for every file, since ``.nwb`` files are HDF5 and auto-detection would
    otherwise compete with h5netcdf.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.open_dataset("session.nwb", engine="nwbmotor", activity="dff")  # doctest: +SKIP
    """

    description = "NWB sessions (two-photon imaging or network models) as lazy nwbmotor session views"
    url = "https://github.com/nwbmotor/nwbmotor"
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "activity", "series", "lock", "bin_width")

    def open_dataset(  # type: ignore[override]
        self,
        filename_or_obj: str | os.PathLike[str],
        *,
        drop_variables: str | list[str] | tuple[str, ...] | None = None,
        activity: str | None = "auto",
        series: str | None = None,
        lock: Any = None,
        bin_width: float | None = None,
    ) -> xr.Dataset:
        return open_nwb_dataset(filename_or_obj, activity=activity, series=series,
                                drop_variables=drop_variables, lock=lock, bin_width=bin_width)

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        return False
