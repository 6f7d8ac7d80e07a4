from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.converters.imaging import (
    find_tiff_files,
    parse_matlab_value,
    parse_scanimage_header,
    read_scanimage_layout,
)
from nwbmotor.testing import si4_header, write_scanimage_session, write_tiff_pages


@pytest.mark.parametrize(
    ("text", "expected"),
    [("28.5", 28.5), ("512", 512), ("'AP071_day01'", "AP071_day01"), ("[1;2]", [1, 2]), ("[1 2 3]", [1, 2, 3]),
     ("Inf", float("inf")), ("false", False), ("[]", []), ("1e-3", 1e-3)],
)
def test_matlab_values(text: str, expected: object) -> None:
    assert parse_matlab_value(text) == expected


def test_header_lines_are_parsed(tmp_path: Path) -> None:
    s = write_scanimage_session(tmp_path, n_frames=4, shape=(8, 8), frame_rate=29.7, zoom=1.6)
    from nwbmotor.converters.imaging import scan_tiff

    header = parse_scanimage_header(scan_tiff(s.files[0]).first_description)
    assert header["scanimage.SI4.scanFrameRate"] == 29.7
    assert header["scanimage.SI4.scanZoomFactor"] == 1.6
    assert header["scanimage.SI4.scanPixelsPerLine"] == 8
    assert header["frameNumbers"] == 1


def test_files_in_acquisition_order_not_alphabetical(tmp_path: Path) -> None:
    s = write_scanimage_session(tmp_path, n_frames=24, shape=(8, 8), n_files=12, seed=3)
    files = find_tiff_files(tmp_path)
    assert [p.name for p in files] == [p.name for p in s.files]  # ..._2 before ..._10
    assert sorted(p.name for p in files) != [p.name for p in s.files]
    layout = read_scanimage_layout(files)
    np.testing.assert_array_equal(layout.source(0, 0).read(0, 24), s.frames())


def test_files_out_of_order_are_refused(tmp_path: Path) -> None:
    s = write_scanimage_session(tmp_path, n_frames=12, shape=(8, 8), n_files=3)
    with pytest.raises(NwbMotorValueError, match=r"_001_3\.tif: frameNumbers starts at 9; expected 5"):
        read_scanimage_layout([s.files[0], s.files[2], s.files[1]])


@pytest.mark.parametrize(("n_channels", "n_planes"), [(2, 1), (1, 3), (2, 2)])
def test_channels_and_planes_are_split(tmp_path: Path, n_channels: int, n_planes: int) -> None:
    s = write_scanimage_session(tmp_path, n_frames=10, shape=(12, 10), n_files=2, n_channels=n_channels,
                                n_planes=n_planes, frame_rate=30.0)
    layout = read_scanimage_layout(find_tiff_files(tmp_path))
    assert (layout.n_channels, layout.n_planes, layout.n_volumes) == (n_channels, n_planes, 10)
    assert layout.volume_rate == pytest.approx(30.0 / n_planes)
    assert layout.channel_names == ["Green", "Red"][:n_channels]
    np.testing.assert_allclose(layout.timestamps, np.arange(10) * n_planes / 30.0, atol=1e-6)
    for c in range(n_channels):
        for z in range(n_planes):
            np.testing.assert_array_equal(layout.source(c, z).read(0, 10), s.frames(c, z))


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no movie here")
    with pytest.raises(NwbMotorValueError, match=r"the folder holds no TIFF files"):
        find_tiff_files(tmp_path)


def test_missing_frame_rate(tmp_path: Path) -> None:
    desc = si4_header({"channelsSave": 1, "scanZoomFactor": 1.0})
    path = write_tiff_pages(tmp_path / "a_001.tif", [np.zeros((4, 4), "uint16")] * 2, descriptions=[desc] * 2)
    with pytest.raises(NwbMotorValueError, match=r"a_001\.tif: header field scanimage\.SI4\.scanFrameRate is None"):
        read_scanimage_layout([path])


def test_headers_that_disagree(tmp_path: Path) -> None:
    a = write_scanimage_session(tmp_path / "a", n_frames=4, shape=(8, 8), frame_rate=28.0, file_stem="s")
    b = write_scanimage_session(tmp_path / "b", n_frames=4, shape=(8, 8), frame_rate=15.0, file_stem="t")
    with pytest.raises(NwbMotorValueError, match=r"t_001_1\.tif: header field scanimage\.SI4\.scanFrameRate is 15\.0; expected 28\.0"):
        read_scanimage_layout([a.files[0], b.files[0]])


def test_incomplete_volume(tmp_path: Path) -> None:
    s = write_scanimage_session(tmp_path, n_frames=4, shape=(8, 8), n_channels=2)
    from nwbmotor.converters.imaging import scan_tiff

    idx = scan_tiff(s.files[0])
    with open(s.files[0], "r+b") as f:  # drop the last page (a red frame) cleanly: cut the chain
        f.truncate(int(idx.ifd_offsets[-1]))
    with pytest.raises(NwbMotorValueError, match="truncated"):
        read_scanimage_layout(list(s.files))


def test_scanimage_3_8_header(tmp_path: Path) -> None:
    s = write_scanimage_session(tmp_path, n_frames=12, shape=(8, 10), n_files=2, n_channels=2, version="3.8", frame_rate=15.6, zoom=2.0)
    layout = read_scanimage_layout(find_tiff_files(tmp_path))
    assert (layout.version, layout.n_channels, layout.n_planes, layout.zoom) == ("SI3", 2, 1, 2.0)
    assert layout.volume_rate == pytest.approx(15.6) and layout.timestamps is None
    for c in range(2):
        np.testing.assert_array_equal(layout.source(c, 0).read(0, 12), s.frames(c))


def test_files_with_other_frame_shape(tmp_path: Path) -> None:
    a = write_scanimage_session(tmp_path / "a", n_frames=4, shape=(8, 8), file_stem="s")
    b = write_scanimage_session(tmp_path / "b", n_frames=4, shape=(8, 6), file_stem="t")
    with pytest.raises(NwbMotorValueError, match=r"t_001_1\.tif: pages have shape \(8, 6\) and dtype uint16; expected shape \(8, 8\)"):
        read_scanimage_layout([a.files[0], b.files[0]])


def test_separate_acquisitions_are_joined_with_a_warning(tmp_path: Path) -> None:
    a = write_scanimage_session(tmp_path, n_frames=6, shape=(8, 8), file_stem="AP071_a", seed=1)
    b = write_scanimage_session(tmp_path, n_frames=4, shape=(8, 8), file_stem="AP071_b", seed=2)
    with pytest.warns(UserWarning) as record:
        layout = read_scanimage_layout([a.files[0], b.files[0]])
    messages = [str(w.message) for w in record]
    assert any(re.search(r"AP071_b_001_1\.tif: frameNumbers restarts at 1", m) for m in messages)
    assert any(re.search(r"frameTimestamps_sec goes back from 0\.1786 s to 0\.0000 s at volume 6", m) for m in messages)
    assert layout.n_volumes == 10 and layout.timestamps is None  # times restart: not used
    np.testing.assert_array_equal(layout.source(0, 0).read(0, 10), np.concatenate([a.frames(), b.frames()]))
