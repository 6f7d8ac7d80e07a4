from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from nwbmotor import NwbMotorValueError
from nwbmotor.converters.imaging import TiffFrameSource, scan_tiff
from nwbmotor.testing import SyntheticMovie, write_tiff_movie, write_tiff_pages


@pytest.fixture
def movie() -> SyntheticMovie:
    return SyntheticMovie(n_frames=40, shape=(24, 32), seed=5)


@pytest.mark.parametrize("bigtiff", [False, True])
def test_pages_read_back_exactly(tmp_path: Path, movie: SyntheticMovie, bigtiff: bool) -> None:
    path = write_tiff_movie(tmp_path / "m.tif", movie, bigtiff=bigtiff)
    idx = scan_tiff(path)
    assert (idx.n_pages, idx.shape, idx.dtype, idx.bigtiff) == (40, (24, 32), np.dtype("uint16"), bigtiff)
    src = TiffFrameSource([idx])
    np.testing.assert_array_equal(src.read(0, 40), movie.frames())
    np.testing.assert_array_equal(src.read(13, 17), movie.frames(13, 17))


def test_big_endian_and_compressed_pages(tmp_path: Path, movie: SyntheticMovie) -> None:
    frames = movie.frames()
    be = tmp_path / "be.tif"
    tifffile.imwrite(be, frames, byteorder=">", photometric="minisblack")
    np.testing.assert_array_equal(TiffFrameSource([scan_tiff(be)]).read(0, 40), frames)
    z = tmp_path / "z.tif"
    tifffile.imwrite(z, frames, compression="zlib", photometric="minisblack")
    np.testing.assert_array_equal(TiffFrameSource([scan_tiff(z)]).read(5, 9), frames[5:9])


def test_truncated_pixels(tmp_path: Path, movie: SyntheticMovie) -> None:
    path = write_tiff_movie(tmp_path / "m.tif", movie)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size - 700)
    with pytest.raises(NwbMotorValueError, match=r"m\.tif: truncated file: .* past the end of the file"):
        scan_tiff(path)


def test_truncated_inside_a_directory(tmp_path: Path) -> None:
    frames = np.zeros((3, 8, 8), "uint16")
    path = write_tiff_pages(tmp_path / "m.tif", frames, descriptions=["x" * 100] * 3)
    idx = scan_tiff(path)
    with open(path, "r+b") as f:  # cut in the middle of the last page's directory
        f.truncate(int(idx.ifd_offsets[-1]) + 5)
    with pytest.raises(NwbMotorValueError, match=r"truncated file: .*page 2"):
        scan_tiff(path)


def test_mismatched_shape(tmp_path: Path) -> None:
    pages = [np.zeros((8, 8), "uint16")] * 3 + [np.zeros((8, 9), "uint16")]
    path = write_tiff_pages(tmp_path / "bad.tif", pages)
    with pytest.raises(NwbMotorValueError, match=r"bad\.tif: page 3 has shape \(8, 9\) and dtype uint16; expected shape \(8, 8\)"):
        scan_tiff(path)


def test_mismatched_dtype(tmp_path: Path) -> None:
    pages = [np.zeros((8, 8), "uint16"), np.zeros((8, 8), "int16")]
    path = write_tiff_pages(tmp_path / "bad.tif", pages)
    with pytest.raises(NwbMotorValueError, match=r"page 1 has shape \(8, 8\) and dtype int16; expected .*dtype uint16"):
        scan_tiff(path)


def test_not_a_tiff(tmp_path: Path) -> None:
    path = tmp_path / "x.tif"
    path.write_bytes(b"hello world, not a tiff")
    with pytest.raises(NwbMotorValueError, match=r"x\.tif: not a TIFF file"):
        scan_tiff(path)
