"""``compute_dff``: the Peters et al. 2014 dF/F baseline on a session's fluorescence."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from nwbmotor.analysis._common import as_activity, frame_rate
from nwbmotor.methods import DFF_PRESETS, dff_from_fluorescence

__all__ = ["compute_dff"]


def compute_dff(
    fluorescence: xr.DataArray | xr.Dataset,
    *,
    preset: str = "peters2014",
    variable: str = "fluorescence",
    **overrides: Any,
) -> xr.DataArray:
    """dF/F = (F − B) / B with the iterative baseline of Peters et al. 2014.

    Per ROI, iteratively: 1-min moving baseline over non-excluded frames; the
    residual smoothed by loess (30 frames); its mode and σ from a one-component
    Gaussian fit; frames above mode + 2σ are active and, padded by 2.5 s, excluded;
    the baseline is re-estimated on the other frames and interpolated across the
    excluded ones, then the mode offset is added. An ROI with ≥ 95 % active frames,
    any NaN, or a non-positive baseline is marked invalid. The numpy core is
    :func:`nwbmotor.methods._dff.dff_from_fluorescence` (shared with the Suite2p converter).

    Parameters
    ----------
    fluorescence : xarray.DataArray (time, unit) or xarray.Dataset
        Raw fluorescence with a ``time`` coordinate in seconds; a Dataset stands for
        its ``variable``.
    preset : str
        Parameter set (``"peters2014"``).
    variable : str
        Variable read from a Dataset (``"fluorescence"``: session views carry the raw
        traces under that name beside a dF/F ``activity``; a view opened with
        ``activity="fluorescence"`` is read from ``activity``).
    **overrides
        Any parameter of the preset (``baseline_window_s=60``, ``loess_frames=30``,
        ``active_sd=2``, ``pad_s=2.5``, ``max_active_fraction=0.95``, ...).

    Returns
    -------
    xarray.DataArray (time, unit)
        dF/F with the input's coords, plus ``dff_valid`` (unit, bool) and
        ``baseline`` (time, unit); ``attrs`` hold the preset and every parameter,
        and ``invalid_reason`` when some ROI is invalid.

    Raises
    ------
    NwbMotorValueError
        On an empty or mis-shaped input, a bad time axis, or an unknown parameter.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ds, truth = planted_session(n_cells=4, n_frames=3000)
    >>> dff = compute_dff(ds.fluorescence)
    >>> bool(dff.dff_valid.all()), dff.attrs["preset"]
    (True, 'peters2014')
    """
    func = "compute_dff"
    if (
        isinstance(fluorescence, xr.Dataset)
        and variable == "fluorescence"
        and "fluorescence" not in fluorescence.data_vars
        and "activity" in fluorescence.data_vars
        and fluorescence["activity"].attrs.get("kind") == "fluorescence"
    ):
        variable = "activity"
    f = as_activity(fluorescence, func, variable)
    fs = frame_rate(f["time"].values, func)
    dff, base, valid = dff_from_fluorescence(
        np.asarray(f.values, dtype=np.float64).T, fs, preset=preset, **overrides
    )
    params = {**DFF_PRESETS[preset], **overrides}
    out = xr.DataArray(
        dff.T,
        dims=("time", "unit"),
        coords=f.coords,
        name="dff",
        attrs={
            "units": "dF/F",
            "kind": "dff",
            "analysis": func,
            "preset": preset,
            "frame_rate": fs,
            **params,
        },
    )
    out = out.assign_coords(dff_valid=("unit", valid), baseline=(("time", "unit"), base.T))
    if not valid.all():
        out.attrs["invalid_reason"] = (
            f"{int((~valid).sum())} ROIs invalid (>= {params['max_active_fraction']:.0%} active "
            f"frames, NaN samples, or baseline <= 0): positions {np.flatnonzero(~valid).tolist()}"
        )
    return out
