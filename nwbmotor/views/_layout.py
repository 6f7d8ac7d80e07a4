"""Where things live in an NWB file: the view layer's knowledge of NWB.

Everything here works on an open ``h5py.File`` (or an NWB Zarr store through
:class:`nwbmotor.views._zarrfile.ZarrFile`, which speaks the same subset of h5py's API)
and reads only small things (times,
tables, ROI columns); the large arrays are described (path, shape, dtype) for the lazy
arrays of :mod:`nwbmotor.views._lazy`. Objects are found by their ``neurodata_type``
attributes and names, so files written by pynwb, NeuroConv or nwbmotor all open.

Activity kinds and where they are looked for (any processing module):

- ``"dff"``: a ``RoiResponseSeries`` in a ``DfOverF`` container, or one named like
  ``DfOverF`` / ``dff`` in any container (NeuroConv 0.10 puts ``DfOverF`` in ``Fluorescence``);
- ``"fluorescence"``: any other ``RoiResponseSeries`` of a ``Fluorescence`` container
  (never ``Neuropil``, ``Baseline`` or ``Denoised``);
- ``"deconvolved"``: a series or container named like ``Deconvolved`` / ``spks``;
- ``"events"``: a series or container named like ``Events``;
- ``"rates"``: a model's ``processing/model/rates`` (``ModelRateSeries``).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.views._zarrfile import scalar

__all__ = [
    "ACTIVITY_KINDS",
    "SeriesInfo",
    "find_activity",
    "has_activity_series",
    "find_behavior",
    "find_fluorescence",
    "find_model_series",
    "read_table",
    "series_time",
    "series_timing",
    "session_attrs",
    "unit_coords",
]

ACTIVITY_KINDS = ("dff", "fluorescence", "deconvolved", "events", "rates", "spikes")
_AUTO_ORDER = ("dff", "fluorescence", "deconvolved", "events", "rates")
_NEVER = ("neuropil", "baseline", "denoised", "background")
_CELL_TYPES = {
    "excitatory": "excitatory", "e": "excitatory", "exc": "excitatory", "pyramidal": "excitatory",
    "inhibitory": "inhibitory", "i": "inhibitory", "inh": "inhibitory", "gad": "inhibitory",
    "interneuron": "inhibitory", "pv": "inhibitory", "sst": "inhibitory", "vip": "inhibitory",
}


@dataclasses.dataclass(frozen=True)
class SeriesInfo:
    """A TimeSeries found in the file: where, what kind, and its data's shape."""

    path: str  # the series group
    kind: str
    shape: tuple[int, ...]
    dtype: np.dtype
    unit: str
    conversion: float
    offset: float

    @property
    def data_path(self) -> str:
        return f"{self.path}/data"


def _s(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _s(value[()])
    return str(value)


def _ntype(obj: Any) -> str:
    return _s(obj.attrs.get("neurodata_type", ""))


def _groups(obj: Any) -> list[tuple[str, Any]]:
    out = []
    for name in obj:
        item = obj.get(name)
        if item is not None and not hasattr(item, "shape"):  # a group, not a dataset
            out.append((name, item))
    return out


def _series_info(f: Any, group: Any, kind: str) -> SeriesInfo:
    path = group.name
    if "data" not in group:
        raise NwbMotorValueError(f"{f.filename}: {path} has no 'data' dataset; expected a TimeSeries")
    data = group["data"]
    attrs = data.attrs
    return SeriesInfo(
        path=path, kind=kind, shape=tuple(data.shape), dtype=data.dtype, unit=_s(attrs.get("unit", "n.a.")),
        conversion=float(attrs.get("conversion", 1.0)), offset=float(attrs.get("offset", 0.0)),
    )


def _classify(container_name: str, container_type: str, series_name: str) -> str | None:
    name, cname = series_name.lower(), container_name.lower()
    if any(w in name for w in _NEVER):
        return None
    if any(w in name or w in cname for w in ("deconv", "spks", "spike")):
        return "deconvolved"
    if "event" in name or "event" in cname:
        return "events"
    if container_type == "DfOverF" or any(w in name for w in ("dfoverf", "dff", "df_over_f", "dfof")):
        return "dff"
    return "fluorescence"


def _candidates(f: Any) -> list[SeriesInfo]:
    found: list[SeriesInfo] = []
    processing = f.get("processing")
    if processing is None:
        return found
    for mname, module in _groups(processing):
        for cname, container in _groups(module):
            ctype = _ntype(container)
            if ctype == "ModelRateSeries" or (mname == "model" and cname == "rates"):
                found.append(_series_info(f, container, "rates"))
            elif ctype == "RoiResponseSeries":
                kind = _classify("", "", cname)
                if kind:
                    found.append(_series_info(f, container, kind))
            elif ctype in ("DfOverF", "Fluorescence") or any(
                _ntype(g) == "RoiResponseSeries" for _, g in _groups(container)
            ):
                for sname, series in _groups(container):
                    if _ntype(series) != "RoiResponseSeries":
                        continue
                    kind = _classify(cname, ctype, sname)
                    if kind:
                        found.append(_series_info(f, series, kind))
    return found


def has_activity_series(f: Any) -> bool:
    """True when the file holds ROI traces or model rates (which "auto" prefers to spikes)."""
    return bool(_candidates(f))


def find_activity(f: Any, activity: str | None, series: str | None) -> SeriesInfo | None:
    """The series to present as ``activity``, or None when ``activity`` is None.

    Raises
    ------
    NwbMotorValueError
        When nothing of the asked kind is there, or several are and ``series`` does not
        say which.
    """
    if activity is None:
        return None
    if activity != "auto" and activity not in ACTIVITY_KINDS:
        raise NwbMotorValueError(
            f"{f.filename}: activity={activity!r}; expected 'auto', None or one of {ACTIVITY_KINDS}"
        )
    found = _candidates(f)
    listing = ", ".join(f"{c.path} ({c.kind})" for c in found) or "none"
    if series is not None:
        picked = [c for c in found if c.path == series or c.path.endswith("/" + series.strip("/"))]
        if len(picked) != 1:
            raise NwbMotorValueError(
                f"{f.filename}: series={series!r} matches {len(picked)} activity series; expected one of: {listing}"
            )
        if activity not in ("auto", picked[0].kind):
            raise NwbMotorValueError(
                f"{f.filename}: series={series!r} holds {picked[0].kind!r} traces, not activity={activity!r}"
            )
        return picked[0]
    kinds = _AUTO_ORDER if activity == "auto" else (activity,)
    for kind in kinds:
        of_kind = [c for c in found if c.kind == kind]
        if len(of_kind) == 1:
            return of_kind[0]
        if len(of_kind) > 1:
            raise NwbMotorValueError(
                f"{f.filename}: {len(of_kind)} {kind!r} series ({', '.join(c.path for c in of_kind)}); "
                "pass series=<path> to choose one"
            )
    wanted = ("ROI traces (RoiResponseSeries in DfOverF/Fluorescence/Deconvolved), model rates "
              "(processing/model/rates) or spike-sorted units (units/spike_times)")
    if activity != "auto":
        wanted = f"{activity!r} traces"
    raise NwbMotorValueError(
        f"{f.filename}: no activity; expected {wanted}, found: {listing}. "
        "Pass activity=None to open the session without activity."
    )


def find_fluorescence(f: Any, activity: SeriesInfo) -> SeriesInfo | None:
    """The raw fluorescence beside a non-fluorescence ``activity``, when there is exactly one.

    It must have the activity's shape (same frames, same ROIs) and the same timing, so
    that it can sit on the view as a second (``time``, ``unit``) variable
    ``fluorescence`` (e.g. for :func:`nwbmotor.analysis.compute_dff`).
    """
    if activity.kind in ("fluorescence", "rates"):
        return None
    raw = [c for c in _candidates(f) if c.kind == "fluorescence" and c.shape == activity.shape]
    if len(raw) != 1:
        return None
    n = activity.shape[0]
    try:
        a, b = series_timing(f, raw[0].path, n), series_timing(f, activity.path, n)
        same = a == b if isinstance(a, tuple) and isinstance(b, tuple) else np.array_equal(
            series_time(f, raw[0].path, n), series_time(f, activity.path, n))
    except NwbMotorValueError:
        return None
    return raw[0] if same else None


def series_timing(f: Any, path: str, n: int) -> tuple[float, float] | np.ndarray:
    """``(starting_time, rate)`` of a regularly sampled TimeSeries (nothing else is read),
    else its checked timestamps (see :func:`series_time`)."""
    group = f[path]
    if "timestamps" not in group and "starting_time" in group:
        st = group["starting_time"]
        rate = float(st.attrs.get("rate", np.nan))
        if np.isfinite(rate) and rate > 0:
            return float(scalar(st[()])), rate
    return series_time(f, path, n)


def series_time(f: Any, path: str, n: int) -> np.ndarray:
    """Times (s) of the ``n`` samples of the TimeSeries at ``path``, checked against ``n``."""
    group = f[path]
    if "timestamps" in group:
        t = np.asarray(group["timestamps"][()], dtype=np.float64)
        if t.shape != (n,):
            raise NwbMotorValueError(
                f"{f.filename}: {path}/timestamps has {t.shape[0] if t.ndim else 0} values but data has {n} samples; "
                "they must match"
            )
        return t
    if "starting_time" not in group:
        raise NwbMotorValueError(f"{f.filename}: {path} has neither timestamps nor starting_time")
    st = group["starting_time"]
    rate = float(st.attrs.get("rate", np.nan))
    if not np.isfinite(rate) or rate <= 0:
        raise NwbMotorValueError(f"{f.filename}: {path}/starting_time has rate {rate}; expected a positive number of Hz")
    return float(scalar(st[()])) + np.arange(n, dtype=np.float64) / rate


def _column(f: Any, table: Any, name: str, n_rows: int, notes: list[str]) -> np.ndarray | None:
    """One column of a DynamicTable as a 1-D array, or None (with a note) if it cannot be one."""
    ds = table[name]
    if not hasattr(ds, "shape"):
        notes.append(f"{table.name}/{name}: not a dataset")
        return None
    if ds.dtype.names is not None:  # compound (e.g. TimeSeriesReferenceVectorData)
        notes.append(f"{table.name}/{name}: compound column left out")
        return None
    values = ds[()]
    index_name = f"{name}_index"
    if index_name in table:
        ends = np.asarray(table[index_name][()], dtype=np.int64)
        lengths = np.diff(np.r_[0, ends])
        if ends.shape != (n_rows,) or not np.all(lengths == 1):
            notes.append(f"{table.name}/{name}: ragged column (rows of unequal length) left out")
            return None
        values = values[ends - 1]
    if values.ndim != 1:
        notes.append(f"{table.name}/{name}: {values.ndim}-D column left out")
        return None
    if values.shape[0] != n_rows:
        raise NwbMotorValueError(
            f"{f.filename}: column {table.name}/{name} has {values.shape[0]} rows but the table's id has {n_rows}; "
            "mismatched lengths"
        )
    if values.dtype.kind in "OS":
        values = np.array([_s(v) for v in values], dtype=str)
    return values


def read_table(f: Any, path: str, notes: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """A DynamicTable's ids and its 1-D columns, in colnames order; None if absent."""
    table = f.get(path)
    if table is None:
        return None
    ids = np.asarray(table["id"][()]) if "id" in table else None
    if ids is None:
        raise NwbMotorValueError(f"{f.filename}: table {path} has no 'id' dataset")
    names = [_s(c) for c in np.atleast_1d(table.attrs.get("colnames", []))]
    columns = {}
    for name in names:
        if name in table:
            values = _column(f, table, name, ids.shape[0], notes)
            if values is not None:
                columns[name] = values
    return ids, columns


def _cell_type(values: np.ndarray) -> np.ndarray:
    out = []
    for v in values:
        key = _s(v).strip().lower()
        out.append(_CELL_TYPES.get(key, "unknown"))
    return np.array(out, dtype=str)


def _global_id(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    if values.dtype.kind == "f":
        return np.where(np.isfinite(values), values, -1).astype(np.int64)
    return values.astype(str)


def _region_rows(f: Any, group: Any, field: str, n_units: int) -> tuple[Any, np.ndarray]:
    region = group[field]
    rows = np.asarray(region[()], dtype=np.int64)
    if rows.shape != (n_units,):
        n_rows = rows.shape[0] if rows.ndim else 0
        hint = ""
        if "data" in group and group["data"].ndim == 2 and group["data"].shape[0] == n_rows:
            hint = " (the data look transposed: NWB stores (time, ROI), this file (ROI, time))"
        raise NwbMotorValueError(
            f"{f.filename}: {group.name}/{field} lists {n_rows} rows but data has {n_units} columns; "
            f"mismatched lengths{hint}"
        )
    ref = region.attrs.get("table")
    try:
        table = f[ref] if ref is not None else None
    except (ValueError, KeyError, TypeError):
        table = None
    if table is None or "id" not in table:
        raise NwbMotorValueError(f"{f.filename}: {group.name}/{field} does not reference a table")
    n_rows = table["id"].shape[0]
    if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
        raise NwbMotorValueError(
            f"{f.filename}: {group.name}/{field} references row {int(rows.max())} of {table.name}, which has {n_rows} rows"
        )
    return table, rows


def _centroids(f: Any, table: Any, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Weighted centroid (x, y) in pixels of each ROI row, from pixel, voxel or image masks.

    x and y are NWB's: the ``x`` / ``y`` fields of a pixel (voxel) mask, and axes 1 / 2 of an
    ``image_mask`` of dims (roi, x, y), so a Suite2p folder converted by NeuroConv
    (x = ``ypix``) and by nwbmotor gives the same values.
    """
    if "pixel_mask" in table or "voxel_mask" in table:
        name = "pixel_mask" if "pixel_mask" in table else "voxel_mask"
        masks = table[name][()]
        ends = np.asarray(table[f"{name}_index"][()], dtype=np.int64)
        starts = np.r_[0, ends[:-1]]
        w = masks["weight"].astype(float)
        x = masks["x"].astype(float)
        y = masks["y"].astype(float)
        cx = np.full(rows.size, np.nan)
        cy = np.full(rows.size, np.nan)
        for i, r in enumerate(rows):
            sl = slice(starts[r], ends[r])
            ws = w[sl].sum()
            if ws > 0:
                cx[i] = (x[sl] * w[sl]).sum() / ws
                cy[i] = (y[sl] * w[sl]).sum() / ws
        return cx, cy
    if "image_mask" in table:
        ds = table["image_mask"]
        if ds.ndim != 3:
            return None
        nx, ny = ds.shape[1:]
        xs, ys = np.arange(nx, dtype=float), np.arange(ny, dtype=float)
        cx = np.full(rows.size, np.nan)
        cy = np.full(rows.size, np.nan)
        order = np.argsort(rows)
        block = 64
        for b in range(0, rows.size, block):
            sel = rows[order[b:b + block]]
            uniq, inv = np.unique(sel, return_inverse=True)
            masks = ds[uniq.tolist()].astype(float)[inv]
            tot = masks.sum(axis=(1, 2))
            with np.errstate(invalid="ignore", divide="ignore"):
                cx[order[b:b + block]] = (masks.sum(axis=2) @ xs) / tot
                cy[order[b:b + block]] = (masks.sum(axis=1) @ ys) / tot
        return cx, cy
    return None


_TO_UM = {"meters": 1e6, "meter": 1e6, "m": 1e6, "millimeters": 1e3, "mm": 1e3,
          "micrometers": 1.0, "micrometer": 1.0, "um": 1.0, "µm": 1.0, "microns": 1.0}


def _pixel_size_um(plane: Any) -> tuple[float, float] | None:
    if plane is None or "grid_spacing" not in plane:
        return None
    gs = plane["grid_spacing"]
    unit = _s(gs.attrs.get("unit", "meters")).lower()
    factor = _TO_UM.get(unit)
    values = np.asarray(gs[()], dtype=float).ravel()
    if factor is None or values.size < 2 or not np.all(values > 0):
        return None
    return float(values[0] * factor), float(values[1] * factor)


def unit_coords(f: Any, info: SeriesInfo) -> tuple[dict[str, tuple[str, np.ndarray, dict]], dict[str, Any]]:
    """Coordinates on ``unit`` for the activity series: name -> (dim, values, attrs), plus notes."""
    n_units = info.shape[1] if len(info.shape) > 1 else 1
    group = f[info.path]
    coords: dict[str, tuple[str, np.ndarray, dict]] = {}
    extra: dict[str, Any] = {}
    if info.kind == "rates":
        field = "units" if "units" in group else None
        source = "model"
    else:
        field = "rois" if "rois" in group else None
        source = "imaging"
    table, rows = (None, np.arange(n_units))
    if field is not None:
        table, rows = _region_rows(f, group, field, n_units)
    ids = np.asarray(table["id"][()])[rows] if table is not None else rows.astype(np.int64)
    coords["unit_id"] = ("unit", ids.astype(np.int64), {"long_name": "row id in the unit/ROI table"})
    cols: dict[str, np.ndarray] = {}
    notes: list[str] = []
    if table is not None:
        for name in ("cell_type", "global_id", "excluded", "input_source", "module", "gain_group", "region",
                     "dff_valid", "iscell"):
            if name in table:
                values = _column(f, table, name, table["id"].shape[0], notes)
                if values is not None:
                    cols[name] = values[rows]
    cell = _cell_type(cols["cell_type"]) if "cell_type" in cols else np.full(n_units, "unknown")
    coords["cell_type"] = ("unit", cell, {"values": "excitatory, inhibitory or unknown"})
    if "global_id" in cols:
        gid = _global_id(cols["global_id"])
    elif source == "model":
        gid = ids.astype(np.int64)
    else:
        gid = np.full(n_units, -1, np.int64)
    coords["global_id"] = ("unit", gid, {"long_name": "identity across sessions", "missing": -1})
    coords["source"] = ("unit", np.full(n_units, source), {})
    if source == "model":
        module = cols.get("module", np.full(n_units, "network"))
        coords["module"] = ("unit", np.asarray(module, dtype=str), {})
        if "gain_group" in cols:
            coords["gain_group"] = ("unit", cols["gain_group"].astype(np.int64), {"missing": -1})
    else:
        plane = None
        if table is not None and "imaging_plane" in table:
            plane = table["imaging_plane"]
        location = _s(scalar(plane["location"][()])) if plane is not None and "location" in plane else "unknown"
        region = cols.get("region", np.full(n_units, location))
        coords["region"] = ("unit", np.asarray(region, dtype=str), {})
        excluded = cols.get("excluded")
        coords["excluded"] = ("unit", np.zeros(n_units, bool) if excluded is None else excluded.astype(bool),
                              {"long_name": "excluded from analyses (filled or unhealthy cell)"})
        if "input_source" in cols:
            coords["input_source"] = ("unit", np.asarray(cols["input_source"], dtype=str), {})
        if "dff_valid" in cols:
            coords["dff_valid"] = ("unit", cols["dff_valid"].astype(bool),
                                   {"long_name": "False when the dF/F baseline failed (NaN trace, >= 95 % active frames)"})
        if "iscell" in cols:
            coords["iscell"] = ("unit", cols["iscell"].astype(bool), {"long_name": "Suite2p cell classifier label"})
        cent = _centroids(f, table, rows) if table is not None else None
        if cent is not None:
            size = _pixel_size_um(plane)
            units = "um" if size else "pixels"
            cx, cy = cent
            if size:
                cx, cy = cx * size[0], cy * size[1]
            for name, values in (("unit_x", cx), ("unit_y", cy)):
                coords[name] = ("unit", values, {"units": units, "long_name": f"ROI centroid {name[-1]}"})
    if notes:
        extra["notes"] = notes
    return coords, extra


_NOT_BEHAVIOR = ("TwoPhotonSeries", "OnePhotonSeries", "ImageSeries", "ImageMaskSeries", "ElectricalSeries",
                 "SpikeEventSeries", "RoiResponseSeries")


def _behavior_members(f: Any, parent: Any) -> list[SeriesInfo]:
    found = []
    for _, container in _groups(parent):
        members = [container] if "data" in container else [g for _, g in _groups(container) if "data" in g]
        for g in members:
            if _ntype(g) not in _NOT_BEHAVIOR and hasattr(g["data"], "ndim") and g["data"].ndim in (1, 2):
                found.append(_series_info(f, g, "behavior"))
    return found


def find_behavior(f: Any, notes: list[str] | None = None) -> list[SeriesInfo]:
    """Behaviour series: ``processing/behavior`` (else ``acquisition``), ``lever`` first,
    then the series on the first one's clock; the others are named in ``notes``."""
    processing = f.get("processing")
    module = processing.get("behavior") if processing is not None else None
    found = _behavior_members(f, module) if module is not None else []
    if not found and "acquisition" in f:
        found = _behavior_members(f, f["acquisition"])
    found.sort(key=lambda s: (s.path.rsplit("/", 1)[-1].lower() != "lever", s.path))
    if not found:
        return []
    first = found[0]
    same = [s for s in found if s.shape[0] == first.shape[0] and _same_clock(f, s.path, first.path)]
    left = [s.path for s in found if s not in same]
    if left and notes is not None:
        notes.append(f"behaviour series on another clock than {first.path} left out: {', '.join(left)}")
    return same


def _same_clock(f: Any, a: str, b: str) -> bool:
    ga, gb = f[a], f[b]
    if "starting_time" in ga and "starting_time" in gb:
        return (float(scalar(ga["starting_time"][()])) == float(scalar(gb["starting_time"][()]))
                and float(ga["starting_time"].attrs["rate"]) == float(gb["starting_time"].attrs["rate"]))
    if "timestamps" in ga and "timestamps" in gb:
        return ga["timestamps"].shape == gb["timestamps"].shape
    return False


def find_model_series(f: Any, name: str) -> SeriesInfo | None:
    """``processing/model/<name>`` (outputs, targets, inputs) if present."""
    group = f.get(f"processing/model/{name}")
    if group is None or "data" not in group:
        return None
    return _series_info(f, group, name)


def session_attrs(f: Any) -> dict[str, Any]:
    """Session-level metadata for a view's ``attrs``."""
    def get(path: str) -> str | None:
        return _s(scalar(f[path][()])) if path in f else None

    attrs = {
        "session_id": get("general/session_id") or "",
        "subject_id": get("general/subject/subject_id") or "",
        "identifier": get("identifier") or "",
        "session_start_time": get("session_start_time") or "",
        "session_description": get("session_description") or "",
        "species": get("general/subject/species") or "",
    }
    return attrs


def channel_labels(f: Any, info: SeriesInfo, width: int) -> list[str]:
    """Names of the columns of a series: its name for 1-D data, else from a JSON attribute or numbered."""
    base = info.path.rsplit("/", 1)[-1]
    if len(info.shape) == 1:
        return [base]
    group = f[info.path]
    for key in ("channel_names", "labels", "columns"):
        raw = group.attrs.get(key) or group["data"].attrs.get(key)
        if raw is not None:
            try:
                names = json.loads(_s(raw)) if not isinstance(raw, np.ndarray) else [_s(x) for x in raw]
            except ValueError:
                names = None
            if isinstance(names, list) and len(names) == width:
                return [str(x) for x in names]
    return [f"{base}_{i}" for i in range(width)]
