from __future__ import annotations

import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.converters._ophys import ensure_imaging_plane, normalized_ophys, ophys_metadata
from nwbmotor.testing import mock_nwbfile


def test_defaults_are_complete_optical_metadata() -> None:
    md = ophys_metadata(imaging_rate=28.0)["Ophys"]
    plane = md["ImagingPlane"][0]
    assert md["Device"][0]["name"] == "Microscope"
    assert (plane["name"], plane["indicator"], plane["location"], plane["excitation_lambda"]) == (
        "ImagingPlane", "GCaMP6f", "MOp", 925.0)
    assert plane["optical_channel"][0]["name"] == "Green"
    # 470 x 500 um over 512 x 512 px, in metres per pixel, (x, y)
    assert plane["grid_spacing"] == pytest.approx([470e-6 / 512, 500e-6 / 512])
    assert md["TwoPhotonSeries"][0]["imaging_plane"] == "ImagingPlane"


def test_grid_spacing_follows_field_of_view_and_size() -> None:
    plane = ophys_metadata(field_of_view_um=(300.0, 200.0), image_shape=(100, 150))["Ophys"]["ImagingPlane"][0]
    assert plane["grid_spacing"] == pytest.approx([2e-6, 2e-6])


def test_channels_and_planes_get_one_plane_each() -> None:
    md = ophys_metadata(channel_names=("Green", "Red"), n_planes=2)["Ophys"]
    assert [p["name"] for p in md["ImagingPlane"]] == [
        "ImagingPlaneGreenPlane0", "ImagingPlaneRedPlane0", "ImagingPlaneGreenPlane1", "ImagingPlaneRedPlane1"]
    red = md["ImagingPlane"][1]["optical_channel"][0]
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
    before = {"Ophys": {k: [dict(e) for e in v] for k, v in md["Ophys"].items()}}
    plane = ensure_imaging_plane(nwbfile, md)
    assert (plane.indicator, plane.location, plane.device.name) == ("GCaMP6s", "MOs", "Microscope")
    assert ensure_imaging_plane(nwbfile, ophys_metadata(indicator="other")) is plane
    assert len(nwbfile.devices) == 1
    assert md == before  # not mutated


def test_ensure_imaging_plane_reads_neuroconv_dict_layout() -> None:
    md = {"Devices": {"scope": {"name": "Scope2P", "description": "a microscope"}},
          "Ophys": {"ImagingPlanes": {"p0": {"name": "ImagingPlane", "device_metadata_key": "scope",
                                             "indicator": "jRGECO1a", "location": "MOp", "excitation_lambda": 1040.0}}}}
    assert normalized_ophys(md)["ImagingPlane"][0]["device"] == "Scope2P"
    plane = ensure_imaging_plane(mock_nwbfile(), md)
    assert (plane.device.name, plane.indicator, plane.excitation_lambda) == ("Scope2P", "jRGECO1a", 1040.0)


def test_unknown_plane_name_is_an_error() -> None:
    with pytest.raises(NwbMotorValueError, match="no entry named 'Nope'"):
        ensure_imaging_plane(mock_nwbfile(), ophys_metadata(), name="Nope")
