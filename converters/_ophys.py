"""Optical-physiology metadata shared by every imaging converter.

Two functions, stable for every converter that writes imaging data (raw movies,
Suite2p, the lab's ROI files):

* :func:`ophys_metadata` builds NeuroConv's ``Devices`` and ``Ophys`` metadata with
  complete optical metadata (microscope, indicator, excitation wavelength, imaging
  plane location as an Allen CCF acronym, grid spacing from the field of view).
* :func:`ensure_imaging_plane` creates the device and imaging plane a metadata dict
  describes in an ``NWBFile``, or returns the plane already there with that name, so
  that a movie and its segmentation share one ``ImagingPlane``.

The layout is NeuroConv's dict-based ophys metadata (the list-based one, ``Ophys.Device``
/ ``Ophys.ImagingPlane`` / ``Ophys.TwoPhotonSeries``, is deprecated in NeuroConv 0.10 for
removal in 2027). Each entry is keyed by a name of its own (here: the name of the NWB
object it becomes) and links to the others by key, so
``neuroconv.utils.dict_deep_update`` merges the interfaces of a session entry by entry::

    {"Devices": {"Microscope": {"name": "Microscope", "description": ...}},
     "Ophys": {
        "ImagingPlanes": {"ImagingPlane": {
            "name": "ImagingPlane", "description": ..., "device_metadata_key": "Microscope",
            "excitation_lambda": 925.0, "indicator": "GCaMP6f", "location": "MOp",
            "imaging_rate": 28.0, "grid_spacing": [row_m, column_m], "grid_spacing_unit": "meters",
            "optical_channel": [{"name": "Green", "description": ..., "emission_lambda": 510.0}]}},
        "MicroscopySeries": {"TwoPhotonSeries": {
            "name": "TwoPhotonSeries", "imaging_plane_metadata_key": "ImagingPlane", ...}},
    }}

Metadata in the old list layout is still read (:func:`normalized_ophys`), never written.

Names when a recording has several channels or planes: see :func:`imaging_plane_name`.

Image axes follow NWB's dims literally, as NeuroConv writes Suite2p ROIs: a movie is
stored (frames, x, y), so for nwbmotor's row-major frames (frames, height, width) NWB's
x is the row axis and y the column axis. ``grid_spacing``, ``dimension`` and
``field_of_view`` are given in that (x, y) order, and ROI pixel masks hold (x = row,
y = column, weight), exactly as ``neuroconv``'s ``Suite2pSegmentationInterface`` writes
Suite2p's (``ypix``, ``xpix``, ``lam``); the session view's ``unit_x`` / ``unit_y`` read
them the same way, so both conversions of one Suite2p folder give the same coordinates.
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
    "imaging_plane_entry",
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
    """NeuroConv's dict-based ``{"Devices": ..., "Ophys": ...}`` metadata, complete optical metadata.

    One ``ImagingPlanes`` and one ``MicroscopySeries`` entry per (channel, plane), keyed and named by
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
        Pixels per frame; with the field of view it gives the grid spacing, in NWB's
        (x, y) order: spacing between rows, then between columns (see the module notes).
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
        ``{"Devices": {name: ...}, "Ophys": {"ImagingPlanes": {name: ...}, "MicroscopySeries": {name: ...}}}``.

    Raises
    ------
    NwbMotorValueError
        For a non-positive wavelength, rate, field of view or image size.

    Examples
    --------
    >>> md = ophys_metadata(imaging_rate=28.0)
    >>> plane = md["Ophys"]["ImagingPlanes"]["ImagingPlane"]
    >>> plane["location"], plane["indicator"], plane["device_metadata_key"]
    ('MOp', 'GCaMP6f', 'Microscope')
    >>> md["Ophys"]["MicroscopySeries"]["TwoPhotonSeries"]["imaging_plane_metadata_key"]
    'ImagingPlane'
    >>> [round(v * 1e6, 3) for v in plane["grid_spacing"]]  # NWB (x, y): rows, then columns
    [0.977, 0.918]
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
    # NWB (x, y) = (first, second) image axis = (rows, columns) of the stored frames
    grid_spacing = [fov[1] * 1e-6 / height, fov[0] * 1e-6 / width]

    device: dict[str, Any] = {"name": device_name, "description": device_description}
    if device_manufacturer:
        device["manufacturer"] = device_manufacturer
    planes: dict[str, dict[str, Any]] = {}
    series: dict[str, dict[str, Any]] = {}
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
                "device_metadata_key": device_name,
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
            planes[entry["name"]] = entry
            series_name = two_photon_series_name(channel, plane, n_channels=n_channels, n_planes=n_planes)
            series[series_name] = {
                "name": series_name,
                "description": series_description,
                "imaging_plane_metadata_key": entry["name"],
                "unit": "n.a.",
            }
    return {"Devices": {device_name: device}, "Ophys": {"ImagingPlanes": planes, "MicroscopySeries": series}}


def normalized_ophys(metadata: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The ``Devices``, ``ImagingPlanes`` and ``MicroscopySeries`` entries of either NeuroConv layout.

    The dict-based layout (what :func:`ophys_metadata` writes) is returned as it is; entries
    of the deprecated list layout (``Ophys.Device`` / ``Ophys.ImagingPlane`` /
    ``Ophys.TwoPhotonSeries``, linked by name) are added under their names, their links
    turned into ``device_metadata_key`` / ``imaging_plane_metadata_key``. The input is not
    modified and no warning is given: nwbmotor reads what a user or an older spec wrote.

    Examples
    --------
    >>> md = {"Ophys": {"Device": [{"name": "Scope2P"}],
    ...                 "ImagingPlane": [{"name": "ImagingPlane", "device": "Scope2P"}]}}
    >>> normalized_ophys(md)["ImagingPlanes"]["ImagingPlane"]["device_metadata_key"]
    'Scope2P'
    """
    ophys = dict(metadata.get("Ophys") or {})
    registry = metadata.get("Devices")
    devices: dict[str, dict[str, Any]] = (
        {str(k): dict(v) for k, v in registry.items() if isinstance(v, Mapping)}
        if isinstance(registry, Mapping) else {}
    )
    planes = {str(k): dict(v) for k, v in (ophys.get("ImagingPlanes") or {}).items() if isinstance(v, Mapping)}
    series = {str(k): dict(v) for k, v in (ophys.get("MicroscopySeries") or {}).items() if isinstance(v, Mapping)}

    def listed(value: Any) -> list[dict[str, Any]]:
        if isinstance(value, Mapping):  # a single entry instead of a list
            return [dict(value)]
        return [dict(v) for v in value or [] if isinstance(v, Mapping)]

    def key_of(entries: dict[str, dict[str, Any]], name: str) -> str:
        return next((k for k, e in entries.items() if e.get("name", k) == name), name)

    old_devices = listed(ophys.get("Device")) + (listed(registry) if isinstance(registry, list) else [])
    # nwbmotor never writes the list layout: its entries are a user's, and win over an entry of the same name
    for device in old_devices:
        key = key_of(devices, device.get("name", DEFAULT_DEVICE_NAME))
        devices[key] = {**devices.get(key, {}), **device}
    for plane in listed(ophys.get("ImagingPlane")):
        device = plane.pop("device", None)
        if isinstance(device, Mapping):  # an inline device entry
            key = key_of(devices, device.get("name", DEFAULT_DEVICE_NAME))
            devices[key] = {**devices.get(key, {}), **device}
            device = device.get("name", DEFAULT_DEVICE_NAME)
        if device is not None:
            plane["device_metadata_key"] = key_of(devices, str(device))
        key = key_of(planes, plane.get("name", "ImagingPlane"))
        planes[key] = {**planes.get(key, {}), **plane}
    for entry in listed(ophys.get("TwoPhotonSeries")):
        plane_name = entry.pop("imaging_plane", None)
        if plane_name is not None:
            entry["imaging_plane_metadata_key"] = key_of(planes, str(plane_name))
        key = key_of(series, entry.get("name", "TwoPhotonSeries"))
        series[key] = {**series.get(key, {}), **entry}
    return copy.deepcopy({"Devices": devices, "ImagingPlanes": planes, "MicroscopySeries": series})


def imaging_plane_entry(metadata: Mapping[str, Any], name: str | None = None) -> dict[str, Any] | None:
    """The ``Ophys.ImagingPlanes`` entry whose NWB name (or key) is ``name``; default the first.

    None when the metadata has no imaging plane at all.

    Raises
    ------
    NwbMotorValueError
        If ``name`` is given and no entry has it.

    Examples
    --------
    >>> imaging_plane_entry(ophys_metadata(location="MOs"))["location"]
    'MOs'
    """
    planes = normalized_ophys(metadata)["ImagingPlanes"]
    if not planes:
        return None
    if name is None:
        return next(iter(planes.values()))
    for key, entry in planes.items():
        if entry.get("name", key) == name:
            return entry
    if name in planes:
        return planes[name]
    names = [e.get("name", k) for k, e in planes.items()]
    raise NwbMotorValueError(f"metadata['Ophys']['ImagingPlanes']: no entry named {name!r}; entries are {names}")


def ensure_imaging_plane(nwbfile: NWBFile, metadata: Mapping[str, Any], *, name: str | None = None) -> ImagingPlane:
    """Return the ``ImagingPlane`` named in ``metadata``, creating it (and its device) if absent.

    Parameters
    ----------
    nwbfile : pynwb.NWBFile
        The file to add to. An imaging plane already there with the same name is
        returned unchanged, so a movie and a segmentation of one session share it.
    metadata : mapping
        Metadata shaped like :func:`ophys_metadata`'s (NeuroConv's dict-based layout: the
        plane in ``Ophys.ImagingPlanes``, its device in ``Devices`` by
        ``device_metadata_key``), or the deprecated list layout (see
        :func:`normalized_ophys`); missing keys fall back to :func:`ophys_metadata`'s
        defaults. Not modified.
    name : str, optional
        The NWB name of the imaging plane (an ``Ophys.ImagingPlanes`` entry's ``name``, or
        its key); default the first entry (``"ImagingPlane"`` when there is none).

    Returns
    -------
    pynwb.ophys.ImagingPlane

    Raises
    ------
    NwbMotorValueError
        If ``name`` is given and no ``ImagingPlanes`` entry has it.

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

    defaults = ophys_metadata()
    default_plane = defaults["Ophys"]["ImagingPlanes"]["ImagingPlane"]
    default_device = defaults["Devices"][DEFAULT_DEVICE_NAME]
    entry = imaging_plane_entry(metadata, name)
    if entry is None:
        if name is not None and name != default_plane["name"]:
            raise NwbMotorValueError(
                f"metadata['Ophys']['ImagingPlanes']: no entry named {name!r}; the section is empty"
            )
        entry = {}
    entry = {**default_plane, **entry}
    if entry["name"] in nwbfile.imaging_planes:
        return nwbfile.imaging_planes[entry["name"]]

    device_key = entry.pop("device_metadata_key", None) or DEFAULT_DEVICE_NAME
    device_entry = normalized_ophys(metadata)["Devices"].get(device_key)
    device_name = (device_entry or {}).get("name", device_key)
    if device_name in nwbfile.devices:
        device = nwbfile.devices[device_name]
    else:
        if device_entry is None:
            device_entry = {**default_device, "name": device_name}
        device_entry = {k: v for k, v in device_entry.items() if k != "device_model_metadata_key"}
        device = nwbfile.create_device(**device_entry)

    channels = [
        c if isinstance(c, OpticalChannel) else OpticalChannel(**{**default_plane["optical_channel"][0], **c})
        for c in entry.pop("optical_channel")
    ]
    plane = ImagingPlane(optical_channel=channels, device=device, **entry)
    nwbfile.add_imaging_plane(plane)
    return plane
