from __future__ import annotations

import copy

import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.converters._ophys import ensure_imaging_plane, normalized_ophys, ophys_metadata
from nwbmotor.testing import mock_nwbfile


def test_defaults_are_complete_optical_metadata() -> None:
    full = ophys_metadata(imaging_rate=28.0)
    md = full["Ophys"]
    # NeuroConv's dict-based layout: entries keyed by name, linked by *_metadata_key
    assert set(full) == {"Devices", "Ophys"} and set(md) == {"ImagingPlanes", "MicroscopySeries"}
    plane = md["ImagingPlanes"]["ImagingPlane"]
    assert full["Devices"]["Microscope"]["name"] == "Microscope"
    assert plane["device_metadata_key"] == "Microscope"
    assert (plane["name"], plane["indicator"], plane["location"], plane["excitation_lambda"]) == (
        "ImagingPlane", "GCaMP6f", "MOp", 925.0)
    assert plane["optical_channel"][0]["name"] == "Green"
    # 470 (wide) x 500 (high) um over 512 x 512 px, in metres per pixel, in NWB's (x, y) order
    # of the stored (frames, height, width) data: between rows, then between columns
    assert plane["grid_spacing"] == pytest.approx([500e-6 / 512, 470e-6 / 512])
    assert md["MicroscopySeries"]["TwoPhotonSeries"]["imaging_plane_metadata_key"] == "ImagingPlane"


def test_grid_spacing_follows_field_of_view_and_size() -> None:
    plane = ophys_metadata(field_of_view_um=(300.0, 200.0), image_shape=(100, 150))["Ophys"]["ImagingPlanes"]["ImagingPlane"]
    assert plane["grid_spacing"] == pytest.approx([2e-6, 2e-6])
    # 300 um wide over 100 px, 200 um high over 200 px: rows 1 um apart, columns 3 um
    plane = ophys_metadata(field_of_view_um=(300.0, 200.0), image_shape=(200, 100))["Ophys"]["ImagingPlanes"]["ImagingPlane"]
    assert plane["grid_spacing"] == pytest.approx([1e-6, 3e-6])


def test_channels_and_planes_get_one_plane_each() -> None:
    md = ophys_metadata(channel_names=("Green", "Red"), n_planes=2)["Ophys"]
    names = ["ImagingPlaneGreenPlane0", "ImagingPlaneRedPlane0", "ImagingPlaneGreenPlane1", "ImagingPlaneRedPlane1"]
    assert list(md["ImagingPlanes"]) == names
    assert [p["name"] for p in md["ImagingPlanes"].values()] == names
    assert [s["imaging_plane_metadata_key"] for s in md["MicroscopySeries"].values()] == names
    red = md["ImagingPlanes"]["ImagingPlaneRedPlane0"]["optical_channel"][0]
    assert (red["name"], red["emission_lambda"]) == ("Red", 581.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"field_of_view_um": (0, 5)}, "field_of_view_um"), ({"excitation_lambda": -1}, "excitation_lambda"),
     ({"imaging_rate": 0}, "imaging_rate")],
)
def test_bad_values_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(NwbMotorValueError, match=match):
        ophys_metadata(**kwargs)


def test_ensure_imaging_plane_creates_once_and_reuses() -> None:
    nwbfile = mock_nwbfile()
    md = ophys_metadata(indicator="GCaMP6s", location="MOs")
    before = copy.deepcopy(md)
    plane = ensure_imaging_plane(nwbfile, md)
    assert (plane.indicator, plane.location, plane.device.name) == ("GCaMP6s", "MOs", "Microscope")
    assert ensure_imaging_plane(nwbfile, ophys_metadata(indicator="other")) is plane
    assert len(nwbfile.devices) == 1
    assert md == before  # not mutated


def test_ensure_imaging_plane_reads_neuroconv_dict_layout() -> None:
    md = {"Devices": {"scope": {"name": "Scope2P", "description": "a microscope"}},
          "Ophys": {"ImagingPlanes": {"p0": {"name": "ImagingPlane", "device_metadata_key": "scope",
                                             "indicator": "jRGECO1a", "location": "MOp", "excitation_lambda": 1040.0}}}}
    assert normalized_ophys(md)["ImagingPlanes"]["p0"]["device_metadata_key"] == "scope"
    plane = ensure_imaging_plane(mock_nwbfile(), md)
    assert (plane.device.name, plane.indicator, plane.excitation_lambda) == ("Scope2P", "jRGECO1a", 1040.0)


def test_unknown_plane_name_is_an_error() -> None:
    with pytest.raises(NwbMotorValueError, match="no entry named 'Nope'"):
        ensure_imaging_plane(mock_nwbfile(), ophys_metadata(), name="Nope")


def test_old_list_layout_is_still_read_and_wins_over_defaults_of_the_same_name() -> None:
    """A user's (or an old spec's) list-layout entries are read; nwbmotor itself never writes them."""
    md = ophys_metadata(location="MOp")
    md["Ophys"]["ImagingPlane"] = [{"name": "ImagingPlane", "location": "MOs", "device": "Scope2P"}]
    md["Ophys"]["Device"] = [{"name": "Scope2P", "description": "the lab's second microscope"}]
    plane = ensure_imaging_plane(mock_nwbfile(), md)
    assert (plane.location, plane.device.name, plane.indicator) == ("MOs", "Scope2P", "GCaMP6f")
