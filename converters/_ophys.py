"""Optical-physiology metadata shared by every imaging converter.

Two functions, stable for every converter that writes imaging data (raw movies,
Suite2p, the lab's ROI files):

* :func:`ophys_metadata` builds the NeuroConv-style ``metadata["Ophys"]`` section with
  complete optical metadata (microscope, indicator, excitation wavelength, imaging
  plane location as an Allen CCF acronym, grid spacing from the field of view).
* :func:`ensure_imaging_plane` creates the device and imaging plane a metadata dict
  describes in an ``NWBFile``, or returns the plane already there with that name, so
  that a movie and its segmentation share one ``ImagingPlane``.

The layout is NeuroConv's list-based ophys metadata (``Ophys.Device``,
``Ophys.ImagingPlane``, ``Ophys.TwoPhotonSeries``, entries matched by ``name``), which
``neuroconv.utils.dict_deep_update`` merges entry by entry across the interfaces of a
session::

    {"Ophys": {
        "Device": [{"name": "Microscope", "description": ...}],
        "ImagingPlane": [{"name": "ImagingPlane", "description": ..., "device": "Microscope",
                          "excitation_lambda": 925.0, "indicator": "GCaMP6f", "location": "MOp",
                          "imaging_rate": 28.0, "grid_spacing": [x_m, y_m],
                          "grid_spacing_unit": "meters",
                          "optical_channel": [{"name": "Green", "description": ...,
                                               "emission_lambda": 510.0}]}],
        "TwoPhotonSeries": [{"name": "TwoPhotonSeries", "imaging_plane": "ImagingPlane", ...}],
    }}

Names when a recording has several channels or planes: see :func:`imaging_plane_name`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nwbmotor._errors import NwbMotorValueError

if TYPE_CHECKING:
    from pynwb import NWBFile
    from pynwb.ophys import ImagingPlane

__all__ = [
    "DEFAULT_DEVICE_NAME",
    "DEFAULT_EMISSION_LAMBDA",
    "DEFAULT_EXCITATION_LAMBDA",
    "DEFAULT_FIELD_OF_VIEW_UM",
    "DEFAULT_IMAGE_SHAPE",
    "DEFAULT_INDICATOR",
    "DEFAULT_LOCATION",
    "ensure_imaging_plane",
    "imaging_plane_name",
    "normalized_ophys",
    "ophys_metadata",
    "two_photon_series_name",
]

DEFAULT_DEVICE_NAME = "Microscope"
DEFAULT_INDICATOR = "GCaMP6f"
DEFAULT_EXCITATION_LAMBDA = 925.0  # nm
DEFAULT_LOCATION = "MOp"  # Allen CCF acronym: primary motor area
#: Field of view (x = image width, y = image height) in micrometres for DEFAULT_IMAGE_SHAPE.
DEFAULT_FIELD_OF_VIEW_UM = (470.0, 500.0)
#: (height, width) in pixels.
DEFAULT_IMAGE_SHAPE = (512, 512)
#: Emission wavelength (nm) by channel name: GCaMP green, tdTomato red.
DEFAULT_EMISSION_LAMBDA = {"Green": 510.0, "Red": 581.0}

_CHANNEL_DESCRIPTION = {
    "Green": "Green emission (calcium indicator), PMT channel 1.",
    "Red": "Red emission (e.g. tdTomato label of inhibitory neurons), PMT channel 2.",
}


def imaging_plane_name(channel: str, plane: int, *, n_channels: int = 1, n_planes: int = 1) -> str:
    """Name of the ``ImagingPlane`` of one channel and plane of a recording.

    ``"ImagingPlane"`` for a single-channel, single-plane recording; otherwise the
    channel name and/or plane index are appended (``"ImagingPlanePlane1"``,
    ``"ImagingPlaneRed"``, ``"ImagingPlaneRedPlane1"``).

    Examples
    --------
    >>> imaging_plane_name("Green", 0)
    'ImagingPlane'
    >>> imaging_plane_name("Red", 1, n_channels=2, n_planes=3)
    'ImagingPlaneRedPlane1'
    """
    return "ImagingPlane" + _suffix(channel, plane, n_channels, n_planes)


def two_photon_series_name(channel: str, plane: int, *, n_channels: int = 1, n_planes: int = 1) -> str:
    """Name of the ``TwoPhotonSeries`` of one channel and plane (same rule as :func:`imaging_plane_name`).

    Examples
    --------
    >>> two_photon_series_name("Green", 2, n_planes=3)
    'TwoPhotonSeriesPlane2'
    """
    return "TwoPhotonSeries" + _suffix(channel, plane, n_channels, n_planes)


def _suffix(channel: str, plane: int, n_channels: int, n_planes: int) -> str:
    return (channel if n_channels > 1 else "") + (f"Plane{plane}" if n_planes > 1 else "")


def ophys_metadata(
    *,
    indicator: str = DEFAULT_INDICATOR,
    excitation_lambda: float = DEFAULT_EXCITATION_LAMBDA,
    location: str = DEFAULT_LOCATION,
    field_of_view_um: Sequence[float] | None = None,
    image_shape: Sequence[int] = DEFAULT_IMAGE_SHAPE,
    imaging_rate: float | None = None,
    channel_names: Sequence[str] = ("Green",),
    n_planes: int = 1,
    emission_lambda: Mapping[str, float] | None = None,
    device_name: str = DEFAULT_DEVICE_NAME,
    device_description: str = "Two-photon laser-scanning microscope controlled by ScanImage.",
    device_manufacturer: str | None = None,
    plane_description: str | None = None,
    plane_depths_um: Sequence[float] | None = None,
    series_description: str = "Raw two-photon movie.",
) -> dict[str, Any]:
    """NeuroConv-style ``{"Ophys": {...}}`` metadata with complete optical metadata.

    One ``ImagingPlane`` and one ``TwoPhotonSeries`` entry per (channel, plane), named by
    :func:`imaging_plane_name` / :func:`two_photon_series_name`; a single-channel,
    single-plane recording gets ``"ImagingPlane"`` and ``"TwoPhotonSeries"``.

    Parameters
    ----------
    indicator : str, default "GCaMP6f"
    excitation_lambda : float, default 925.0
        Laser wavelength in nm.
    location : str, default "MOp"
        Allen CCF acronym of the imaged area.
    field_of_view_um : (x, y) sequence of float, optional
        Width and height of the imaged field in micrometres. Default: 470 × 500 µm for
        a 512 × 512 image, scaled linearly for other image sizes (same zoom).
    image_shape : (height, width), default (512, 512)
        Pixels per frame; with the field of view it gives the grid spacing.
    imaging_rate : float, optional
        Frames per second of each plane.
    channel_names : sequence of str, default ("Green",)
    n_planes : int, default 1
    emission_lambda : mapping of channel name to nm, optional
        Default: Green 510 nm, Red 581 nm.
    device_name, device_description, device_manufacturer : str
        The microscope ``Device``.
    plane_description : str, optional
        Free text; a default names the location and depth.
    plane_depths_um : sequence of float, optional
        Depth below the pia of each plane, written into the plane description.
    series_description : str
        Description of each ``TwoPhotonSeries``.

    Returns
    -------
    dict
        ``{"Ophys": {"Device": [...], "ImagingPlane": [...], "TwoPhotonSeries": [...]}}``.

    Raises
    ------
    NwbMotorValueError
        For a non-positive wavelength, rate, field of view or image size.

    Examples
    --------
    >>> md = ophys_metadata(imaging_rate=28.0)
    >>> plane = md["Ophys"]["ImagingPlane"][0]
    >>> plane["name"], plane["location"], plane["indicator"], plane["device"]
    ('ImagingPlane', 'MOp', 'GCaMP6f', 'Microscope')
    >>> [round(v * 1e6, 3) for v in plane["grid_spacing"]]
    [0.918, 0.977]
    """
    height, width = (int(v) for v in image_shape)
    if height <= 0 or width <= 0:
        raise NwbMotorValueError(f"ophys metadata: image_shape must be positive (height, width); got {tuple(image_shape)}")
    if field_of_view_um is None:
        fx, fy = DEFAULT_FIELD_OF_VIEW_UM
        fov = (fx * width / DEFAULT_IMAGE_SHAPE[1], fy * height / DEFAULT_IMAGE_SHAPE[0])
    else:
        fov = tuple(float(v) for v in field_of_view_um)
        if len(fov) != 2 or min(fov) <= 0:
            raise NwbMotorValueError(
                f"ophys metadata: field_of_view_um must be two positive numbers (x, y) in µm; got {field_of_view_um!r}"
            )
    if not excitation_lambda > 0:
        raise NwbMotorValueError(f"ophys metadata: excitation_lambda must be > 0 nm; got {excitation_lambda!r}")
    if imaging_rate is not None and not imaging_rate > 0:
        raise NwbMotorValueError(f"ophys metadata: imaging_rate must be > 0 Hz; got {imaging_rate!r}")
    if not channel_names:
        raise NwbMotorValueError("ophys metadata: channel_names is empty; expected at least one channel")
    if n_planes < 1:
        raise NwbMotorValueError(f"ophys metadata: n_planes must be >= 1; got {n_planes}")
    emission = dict(DEFAULT_EMISSION_LAMBDA)
    emission.update(emission_lambda or {})
    grid_spacing = [fov[0] * 1e-6 / width, fov[1] * 1e-6 / height]

    device: dict[str, Any] = {"name": device_name, "description": device_description}
    if device_manufacturer:
        device["manufacturer"] = device_manufacturer
    planes, series = [], []
    n_channels = len(channel_names)
    for plane in range(n_planes):
        depth = ""
        if plane_depths_um is not None and plane < len(plane_depths_um):
            depth = f", {float(plane_depths_um[plane]):g} µm below the pia"
        for channel in channel_names:
            description = plane_description or (
                f"Imaging plane in {location} (Allen CCF acronym){depth}; "
                f"field of view {fov[0]:g} × {fov[1]:g} µm over {width} × {height} px"
                + (f"; plane {plane} of {n_planes}" if n_planes > 1 else "")
                + (f"; channel {channel}" if n_channels > 1 else "")
                + "."
            )
            entry: dict[str, Any] = {
                "name": imaging_plane_name(channel, plane, n_channels=n_channels, n_planes=n_planes),
                "description": description,
                "device": device_name,
                "excitation_lambda": float(excitation_lambda),
                "indicator": indicator,
                "location": location,
                "grid_spacing": grid_spacing,
                "grid_spacing_unit": "meters",
                "optical_channel": [
                    {
                        "name": channel,
                        "description": _CHANNEL_DESCRIPTION.get(channel, f"Optical channel {channel}."),
                        "emission_lambda": float(emission.get(channel, DEFAULT_EMISSION_LAMBDA["Green"])),
                    }
                ],
            }
            if imaging_rate is not None:
                entry["imaging_rate"] = float(imaging_rate)
            planes.append(entry)
            series.append(
                {
                    "name": two_photon_series_name(channel, plane, n_channels=n_channels, n_planes=n_planes),
                    "description": series_description,
                    "imaging_plane": entry["name"],
                    "unit": "n.a.",
                }
            )
    return {"Ophys": {"Device": [device], "ImagingPlane": planes, "TwoPhotonSeries": series}}


def normalized_ophys(metadata: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``Device``/``ImagingPlane``/``TwoPhotonSeries`` lists from either NeuroConv metadata layout.

    NeuroConv 0.10 converts list-based ophys metadata into its dict-based layout
    (``Devices``, ``Ophys.ImagingPlanes``, ``Ophys.MicroscopySeries``, entries keyed and
    linked by ``*_metadata_key``) inside ``run_conversion``; this maps both back to the
    list layout of :func:`ophys_metadata`. The input is not modified.

    Examples
    --------
    >>> md = {"Devices": {"scope": {"name": "Microscope"}},
    ...       "Ophys": {"ImagingPlanes": {"p": {"name": "ImagingPlane", "device_metadata_key": "scope"}}}}
    >>> normalized_ophys(md)["ImagingPlane"][0]["device"]
    'Microscope'
    """
    ophys = copy.deepcopy(dict(metadata.get("Ophys") or {}))
    devices_by_key = copy.deepcopy(dict(metadata.get("Devices") or {})) if isinstance(metadata.get("Devices"), Mapping) else {}
    out: dict[str, list[dict[str, Any]]] = {
        "Device": [dict(d) for d in ophys.get("Device", []) or []],
        "ImagingPlane": [dict(p) for p in ([ophys["ImagingPlane"]] if isinstance(ophys.get("ImagingPlane"), Mapping) else ophys.get("ImagingPlane", []) or [])],
        "TwoPhotonSeries": [dict(t) for t in ophys.get("TwoPhotonSeries", []) or []],
    }
    known = {d.get("name") for d in out["Device"]}
    for dev in devices_by_key.values():
        if isinstance(dev, Mapping) and dev.get("name") not in known:
            out["Device"].append({k: v for k, v in dev.items() if k != "device_model_metadata_key"})
    plane_names: dict[str, str] = {}
    have = {p.get("name") for p in out["ImagingPlane"]}
    for key, plane in (ophys.get("ImagingPlanes") or {}).items():
        entry = dict(plane)
        dev_key = entry.pop("device_metadata_key", None)
        if dev_key is not None:
            entry["device"] = (devices_by_key.get(dev_key) or {}).get("name", dev_key)
        plane_names[key] = entry.get("name", key)
        if entry.get("name") not in have:
            out["ImagingPlane"].append(entry)
    have = {t.get("name") for t in out["TwoPhotonSeries"]}
    for key, series in (ophys.get("MicroscopySeries") or {}).items():
        entry = dict(series)
        plane_key = entry.pop("imaging_plane_metadata_key", None)
        if plane_key is not None:
            entry["imaging_plane"] = plane_names.get(plane_key, plane_key)
        if entry.get("name") not in have:
            out["TwoPhotonSeries"].append(entry)
    return out


def _entry(entries: Any, name: str | None, section: str) -> dict[str, Any] | None:
    if not entries:
        return None
    if isinstance(entries, Mapping):  # a single entry instead of a list
        entries = [entries]
    if name is None:
        return dict(entries[0])
    for e in entries:
        if e.get("name") == name:
            return dict(e)
    names = [e.get("name") for e in entries]
    raise NwbMotorValueError(f"metadata['Ophys']['{section}']: no entry named {name!r}; entries are {names}")


def ensure_imaging_plane(nwbfile: NWBFile, metadata: Mapping[str, Any], *, name: str | None = None) -> ImagingPlane:
    """Return the ``ImagingPlane`` named in ``metadata``, creating it (and its device) if absent.

    Parameters
    ----------
    nwbfile : pynwb.NWBFile
        The file to add to. An imaging plane already there with the same name is
        returned unchanged, so a movie and a segmentation of one session share it.
    metadata : mapping
        Metadata holding an ``"Ophys"`` section shaped like :func:`ophys_metadata`'s, or
        NeuroConv's dict-based layout (see :func:`normalized_ophys`); missing keys fall
        back to :func:`ophys_metadata`'s defaults. Not modified.
    name : str, optional
        Which ``Ophys.ImagingPlane`` entry; default the first one (``"ImagingPlane"``
        when the metadata has no entry at all).

    Returns
    -------
    pynwb.ophys.ImagingPlane

    Raises
    ------
    NwbMotorValueError
        If ``name`` is given and no ``ImagingPlane`` entry has it.

    Examples
    --------
    >>> from nwbmotor.testing import mock_nwbfile
    >>> nwbfile = mock_nwbfile()
    >>> plane = ensure_imaging_plane(nwbfile, ophys_metadata(location="MOp"))
    >>> plane.location, plane.device.name
    ('MOp', 'Microscope')
    >>> ensure_imaging_plane(nwbfile, ophys_metadata()) is plane
    True
    """
    from pynwb.ophys import ImagingPlane, OpticalChannel

    ophys = normalized_ophys(metadata)
    defaults = ophys_metadata()["Ophys"]
    entry = _entry(ophys.get("ImagingPlane"), name, "ImagingPlane")
    if entry is None:
        if name is not None and name != defaults["ImagingPlane"][0]["name"]:
            raise NwbMotorValueError(f"metadata['Ophys']['ImagingPlane']: no entry named {name!r}; the section is empty")
        entry = {}
    entry = {**defaults["ImagingPlane"][0], **entry}
    if entry["name"] in nwbfile.imaging_planes:
        return nwbfile.imaging_planes[entry["name"]]

    device_name = entry.pop("device", None) or DEFAULT_DEVICE_NAME
    if isinstance(device_name, Mapping):  # an inline device entry
        device_entry, device_name = dict(device_name), device_name.get("name", DEFAULT_DEVICE_NAME)
    else:
        device_entry = None
    if device_name in nwbfile.devices:
        device = nwbfile.devices[device_name]
    else:
        if device_entry is None:
            devices = ophys.get("Device") or []
            device_entry = next((dict(d) for d in devices if d.get("name") == device_name), None)
        if device_entry is None:
            device_entry = {**defaults["Device"][0], "name": device_name}
        device = nwbfile.create_device(**device_entry)

    channels = [
        c if isinstance(c, OpticalChannel) else OpticalChannel(**{**defaults["ImagingPlane"][0]["optical_channel"][0], **c})
        for c in entry.pop("optical_channel")
    ]
    plane = ImagingPlane(optical_channel=channels, device=device, **entry)
    nwbfile.add_imaging_plane(plane)
    return plane
