"""nwbmotor's ophys metadata is NeuroConv's dict-based layout: no deprecation warning, same file.

NeuroConv 0.10 translates the list layout (``Ophys.Device`` / ``ImagingPlane`` /
``TwoPhotonSeries``) and warns once per process (a ``FutureWarning``: removal on or after
August 2027). The control converts the same session with the metadata rewritten into the
list layout: it must warn (so the check below can fail), and must write the same objects.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from neuroconv import NWBConverter
from neuroconv.utils._metadata_translation import _warn_that_the_old_format_is_deprecated

from nwbmotor.converters.imaging import TiffMovieInterface
from nwbmotor.converters.segmentation import Suite2pInterface
from nwbmotor.testing import SyntheticMovie, assert_valid_nwb, mock_metadata, write_suite2p_plane, write_tiff_movie

OLD_LAYOUT = r"old list-based format"


class _Session(NWBConverter):
    data_interface_classes = {"movie": TiffMovieInterface, "rois": Suite2pInterface}


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("layout")
    plane = write_suite2p_plane(root / "suite2p" / "plane0", n_rois=4, n_frames=60, image_shape=(24, 40))
    movie = write_tiff_movie(root / "movie.tif", SyntheticMovie(n_frames=60, shape=(24, 40)))
    return {"movie": {"file_path": str(movie), "sampling_frequency": 30.0},
            "rois": {"folder_path": str(plane["folder"])}}


def _list_layout(metadata: dict) -> dict:
    """The same metadata in NeuroConv's deprecated list layout."""
    out = copy.deepcopy(metadata)
    devices = out.pop("Devices")
    ophys = out["Ophys"]
    planes = ophys.pop("ImagingPlanes")
    series = ophys.pop("MicroscopySeries")
    for plane in planes.values():
        plane["device"] = devices[plane.pop("device_metadata_key")]["name"]
    for entry in series.values():
        entry["imaging_plane"] = planes[entry.pop("imaging_plane_metadata_key")]["name"]
    ophys.update(Device=list(devices.values()), ImagingPlane=list(planes.values()), TwoPhotonSeries=list(series.values()))
    return out


def _convert(sources: dict, path: Path, *, layout: str) -> list[warnings.WarningMessage]:
    converter = _Session(source_data=sources)
    metadata = converter.get_metadata()
    for level, values in mock_metadata().items():
        metadata.setdefault(level, {}).update(values)
    if layout == "list":
        metadata = _list_layout(metadata)
    _warn_that_the_old_format_is_deprecated.cache_clear()  # NeuroConv warns once per process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        converter.run_conversion(nwbfile_path=str(path), metadata=metadata)
    return [w for w in caught if issubclass(w.category, (FutureWarning, DeprecationWarning))
            and OLD_LAYOUT in str(w.message)]


def test_metadata_is_in_the_dict_layout(sources: dict) -> None:
    metadata = _Session(source_data=sources).get_metadata()
    assert set(metadata["Ophys"]) == {"ImagingPlanes", "MicroscopySeries"}
    assert metadata["Devices"]["Microscope"]["name"] == "Microscope"
    assert metadata["Ophys"]["ImagingPlanes"]["ImagingPlane"]["device_metadata_key"] == "Microscope"


def _content(path: Path) -> dict[str, Any]:
    """Every attribute and small dataset of the devices, imaging planes, movie and ROI table."""
    out: dict[str, Any] = {}
    with h5py.File(path) as f:
        def visit(name: str, obj: Any) -> None:
            if not name.startswith(("general/devices", "general/optophysiology", "acquisition/TwoPhotonSeries",
                                    "processing/ophys/ImageSegmentation")):
                return
            for key, value in obj.attrs.items():
                if key not in ("object_id",) and not isinstance(value, h5py.Reference):
                    out[f"{name}@{key}"] = value.tolist() if isinstance(value, np.ndarray) else value
            if isinstance(obj, h5py.Dataset) and obj.size < 10_000 and obj.dtype.kind != "O":
                out[name] = obj[()].tolist()
        f.visititems(visit)
    return out


def test_conversion_gives_no_layout_deprecation_warning_and_the_same_file(sources: dict, tmp_path: Path) -> None:
    new = _convert(sources, tmp_path / "dict.nwb", layout="dict")
    assert new == [], [str(w.message) for w in new]
    old = _convert(sources, tmp_path / "list.nwb", layout="list")
    assert len(old) == 1  # the control: the list layout is what NeuroConv warns about
    assert_valid_nwb(tmp_path / "dict.nwb")
    expected, actual = _content(tmp_path / "list.nwb"), _content(tmp_path / "dict.nwb")
    assert any(k.startswith("general/optophysiology/ImagingPlane") for k in actual)
    assert any(k.startswith("processing/ophys/ImageSegmentation") for k in actual)
    assert actual == expected
