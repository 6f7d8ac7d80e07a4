"""Streaming multi-page TIFF reading with constant memory and strict checks.

:func:`scan_tiff` walks a file's chain of image directories (IFDs) once, keeping only
a few numbers per page (where its pixels are, and whatever a caller extracts from its
ImageDescription), and checks what the NWB conversion relies on: every page has the
shape and dtype of the first, every directory and every page's pixels lie inside the
file (a truncated file is an error, not a shorter movie). Uncompressed pages (what
ScanImage writes) are then read straight into NumPy buffers; compressed pages are
decoded by tifffile one at a time.

:class:`TiffFrameSource` presents pages of one or more files, in order, as a stream of
frames for the movie writer.
"""

from __future__ import annotations

import dataclasses
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = ["TiffIndex", "TiffFrameSource", "scan_tiff"]

_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8, 18: 8, 13: 4}
_TYPE_FMT = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 11: "f", 12: "d", 16: "Q", 17: "q", 18: "Q", 13: "I"}
_WANTED = {256, 257, 258, 259, 270, 273, 277, 279, 284, 305, 322, 339}
_SAMPLE_KIND = {1: "u", 2: "i", 3: "f"}


@dataclasses.dataclass
class TiffIndex:
    """Where the pages of one TIFF file are, after :func:`scan_tiff`.

    Attributes
    ----------
    path : Path
    n_pages : int
    shape : (height, width) of every page
    dtype : numpy dtype of every page (native byte order)
    byteorder : "<" or ">"
    ifd_offsets : ndarray of int64, shape (n_pages,)
    data_offsets : ndarray of int64, shape (n_pages,)
        Start of each page's pixels when they are uncompressed and contiguous, else -1.
    first_description, first_software : str
        ImageDescription and Software tags of the first page.
    """

    path: Path
    n_pages: int
    shape: tuple[int, int]
    dtype: np.dtype
    byteorder: str
    bigtiff: bool
    ifd_offsets: np.ndarray
    data_offsets: np.ndarray
    first_description: str
    first_software: str

    @property
    def frame_bytes(self) -> int:
        return int(self.shape[0] * self.shape[1] * self.dtype.itemsize)


def _err(path: Path, msg: str) -> NwbMotorValueError:
    return NwbMotorValueError(f"{path}: {msg}")


def _read_exact(f, offset: int, n: int, path: Path, what: str, size: int) -> bytes:
    if offset < 0 or offset + n > size:
        raise _err(path, f"truncated file: {what} (bytes {offset}..{offset + n}) extends past the end of the file ({size} bytes)")
    f.seek(offset)
    data = f.read(n)
    if len(data) != n:  # pragma: no cover - file shrank while reading
        raise _err(path, f"truncated file: could not read {what} at byte {offset}")
    return data


def scan_tiff(
    path: str | os.PathLike[str],
    *,
    on_description: Callable[[int, str], None] | None = None,
) -> TiffIndex:
    """Index every page of a multi-page TIFF and check that all pages match.

    Parameters
    ----------
    path : str or PathLike
    on_description : callable, optional
        Called as ``on_description(page_index, text)`` with every page's ImageDescription
        (e.g. to collect ScanImage frame timestamps) without keeping the texts.

    Returns
    -------
    TiffIndex

    Raises
    ------
    NwbMotorValueError
        Not a TIFF; truncated (a directory or a page's pixels past the end of the file);
        a page whose shape, dtype or samples per pixel differ from the first page's; no
        pages; tiled or multi-sample pages.

    Examples
    --------
    >>> import tempfile
    >>> from nwbmotor.testing import write_tiff_pages
    >>> p = write_tiff_pages(Path(tempfile.mkdtemp()) / "a.tif", [np.ones((4, 5), "uint16")] * 3)
    >>> idx = scan_tiff(p)
    >>> idx.n_pages, idx.shape, str(idx.dtype)
    (3, (4, 5), 'uint16')
    """
    path = Path(path)
    if not path.is_file():
        raise _err(path, "no such file")
    size = path.stat().st_size
    ifds: list[int] = []
    datas: list[int] = []
    shape0 = dtype0 = None
    first_desc = first_soft = ""
    with open(path, "rb") as f:
        head = f.read(16)
        if len(head) < 8 or head[:2] not in (b"II", b"MM"):
            raise _err(path, f"not a TIFF file (header {head[:4]!r}; expected b'II*\\x00' or b'MM\\x00*')")
        bo = "<" if head[:2] == b"II" else ">"
        magic = struct.unpack(bo + "H", head[2:4])[0]
        if magic == 42:
            bigtiff, offset = False, struct.unpack(bo + "I", head[4:8])[0]
            cnt_fmt, ent_size, off_fmt, off_size = "H", 12, "I", 4
        elif magic == 43 and len(head) >= 16:
            bigtiff, offset = True, struct.unpack(bo + "Q", head[8:16])[0]
            cnt_fmt, ent_size, off_fmt, off_size = "Q", 20, "Q", 8
        else:
            raise _err(path, f"not a TIFF file (magic number {magic}; expected 42 or 43)")
        cnt_size = struct.calcsize(cnt_fmt)
        seen: set[int] = set()
        while offset:
            page = len(ifds)
            if offset in seen:
                raise _err(path, f"corrupt file: the directory chain loops back at page {page}")
            seen.add(offset)
            this_ifd = offset
            what = f"the directory of page {page}"
            (n,) = struct.unpack(bo + cnt_fmt, _read_exact(f, offset, cnt_size, path, what, size))
            block = _read_exact(f, offset + cnt_size, n * ent_size + off_size, path, what, size)
            tags = _parse_entries(block, n, bo, bigtiff, f, path, size, page)
            offset = struct.unpack(bo + off_fmt, block[n * ent_size :])[0]
            shape, dtype, data_offset = _page_layout(tags, bo, path, page, size)
            if shape0 is None:
                shape0, dtype0 = shape, dtype
                first_desc, first_soft = tags.get(270, ""), tags.get(305, "")
            elif shape != shape0 or dtype != dtype0:
                raise _err(
                    path,
                    f"page {page} has shape {shape} and dtype {dtype}; expected shape {shape0} and dtype {dtype0} "
                    "like page 0 (every page of a movie must have the same shape and dtype)",
                )
            if on_description is not None:
                on_description(page, tags.get(270, ""))
            ifds.append(this_ifd)
            datas.append(data_offset)
    if shape0 is None:
        raise _err(path, "the TIFF file has no pages")
    return TiffIndex(
        path=path,
        n_pages=len(datas),
        shape=shape0,
        dtype=dtype0,
        byteorder=bo,
        bigtiff=bigtiff,
        ifd_offsets=np.asarray(ifds, dtype=np.int64),
        data_offsets=np.asarray(datas, dtype=np.int64),
        first_description=first_desc,
        first_software=first_soft,
    )


def _parse_entries(block: bytes, n: int, bo: str, bigtiff: bool, f, path: Path, size: int, page: int) -> dict[int, object]:
    tags: dict[int, object] = {}
    ent = 20 if bigtiff else 12
    inline = 8 if bigtiff else 4
    for i in range(n):
        e = block[i * ent : (i + 1) * ent]
        if bigtiff:
            tag, typ, count = struct.unpack(bo + "HHQ", e[:12])
            raw = e[12:20]
        else:
            tag, typ, count = struct.unpack(bo + "HHI", e[:8])
            raw = e[8:12]
        if tag not in _WANTED:
            continue
        nbytes = _TYPE_SIZE.get(typ, 1) * count
        if nbytes > inline:
            (voff,) = struct.unpack(bo + ("Q" if bigtiff else "I"), raw)
            raw = _read_exact(f, voff, nbytes, path, f"tag {tag} of page {page}", size)
        else:
            raw = raw[:nbytes]
        if typ == 2:
            tags[tag] = raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace")
        elif typ in _TYPE_FMT:
            tags[tag] = struct.unpack(f"{bo}{count}{_TYPE_FMT[typ]}", raw)
        else:
            tags[tag] = raw
    return tags


def _page_layout(tags: dict[int, object], bo: str, path: Path, page: int, size: int) -> tuple[tuple[int, int], np.dtype, int]:
    def one(tag: int, default: int | None = None) -> int:
        v = tags.get(tag)
        if v is None:
            if default is None:
                raise _err(path, f"page {page} lacks TIFF tag {tag}")
            return default
        return int(v[0])

    shape = (one(257), one(256))
    spp = one(277, 1)
    if spp != 1:
        raise _err(path, f"page {page} has SamplesPerPixel {spp}; expected 1 (a grayscale movie frame)")
    if 322 in tags:
        raise _err(path, f"page {page} is tiled; expected strips (tiled TIFF movies are not supported)")
    bits = one(258, 1)
    kind = _SAMPLE_KIND.get(one(339, 1))
    if kind is None or bits not in (8, 16, 32, 64):
        raise _err(path, f"page {page} has BitsPerSample {bits} / SampleFormat {one(339, 1)}; expected 8-64 bit integers or floats")
    dtype = np.dtype(f"{kind}{bits // 8}")
    offsets, counts = tags.get(273), tags.get(279)
    if not offsets or not counts or len(offsets) != len(counts):
        raise _err(path, f"page {page} has no valid StripOffsets/StripByteCounts")
    end = max(o + c for o, c in zip(offsets, counts))
    if end > size:
        raise _err(
            path,
            f"truncated file: the pixels of page {page} end at byte {end}, past the end of the file ({size} bytes)",
        )
    compression = one(259, 1)
    contiguous = all(offsets[i] + counts[i] == offsets[i + 1] for i in range(len(offsets) - 1))
    nbytes = shape[0] * shape[1] * dtype.itemsize
    if compression == 1:
        if sum(counts) < nbytes:
            raise _err(path, f"page {page} holds {sum(counts)} bytes of pixels; expected {nbytes} for {shape} {dtype}")
        data_offset = int(offsets[0]) if contiguous else -1
    else:
        data_offset = -1
    return shape, dtype, data_offset


def _read_page_tifffile(index: TiffIndex, page: int) -> np.ndarray:
    """Decode one (compressed or scattered) page with tifffile, without caching pages."""
    import tifffile

    with tifffile.TiffFile(index.path) as tif:
        tif.filehandle.seek(int(index.ifd_offsets[page]))
        arr = tifffile.TiffPage(tif, index=page).asarray()
    return np.asarray(arr, dtype=index.dtype).reshape(index.shape)


class TiffFrameSource:
    """Selected pages of one or more TIFF files, in order, as a stream of frames.

    Parameters
    ----------
    indices : sequence of TiffIndex
        The files, in acquisition order; all must have the same page shape and dtype.
    pages : sequence of ndarray of int, optional
        For each file, which of its pages are frames of this stream (default all),
        e.g. every second page for one of two interleaved channels.

    Examples
    --------
    >>> import tempfile
    >>> from nwbmotor.testing import write_tiff_pages
    >>> frames = np.arange(24, dtype="uint16").reshape(6, 2, 2)
    >>> p = write_tiff_pages(Path(tempfile.mkdtemp()) / "a.tif", frames)
    >>> src = TiffFrameSource([scan_tiff(p)], pages=[np.arange(0, 6, 2)])
    >>> src.n_frames, bool((src.read(0, 3) == frames[::2]).all())
    (3, True)
    """

    def __init__(self, indices: Sequence[TiffIndex], pages: Sequence[np.ndarray] | None = None) -> None:
        if not indices:
            raise NwbMotorValueError("no TIFF files to read")
        first = indices[0]
        for idx in indices[1:]:
            if idx.shape != first.shape or idx.dtype != first.dtype:
                raise _err(
                    idx.path,
                    f"pages have shape {idx.shape} and dtype {idx.dtype}; expected shape {first.shape} and dtype "
                    f"{first.dtype} like {first.path.name} (every file of a session must match)",
                )
        self.indices = list(indices)
        self.pages = [np.arange(i.n_pages) if pages is None else np.asarray(pages[k], dtype=np.int64) for k, i in enumerate(indices)]
        self.frame_shape: tuple[int, int] = first.shape
        self.dtype: np.dtype = first.dtype
        self._starts = np.concatenate([[0], np.cumsum([len(p) for p in self.pages])]).astype(np.int64)
        self.n_frames = int(self._starts[-1])

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.n_frames, *self.frame_shape)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start:stop`` as an array ``(stop - start, height, width)``."""
        if not 0 <= start <= stop <= self.n_frames:
            raise IndexError(f"frames {start}:{stop} outside 0:{self.n_frames}")
        out = np.empty((stop - start, *self.frame_shape), dtype=self.dtype)
        k = int(np.searchsorted(self._starts, start, side="right") - 1)
        pos = start
        while pos < stop:
            idx, pages = self.indices[k], self.pages[k]
            lo = pos - int(self._starts[k])
            hi = min(stop - int(self._starts[k]), len(pages))
            self._read_file(idx, pages[lo:hi], out[pos - start : pos - start + hi - lo])
            pos += hi - lo
            k += 1
        return out

    def iter_blocks(self, block_frames: int) -> Iterator[np.ndarray]:
        """Consecutive blocks of ``block_frames`` frames (the last may be shorter)."""
        for start in range(0, self.n_frames, block_frames):
            yield self.read(start, min(start + block_frames, self.n_frames))

    @staticmethod
    def _read_file(idx: TiffIndex, pages: np.ndarray, out: np.ndarray) -> None:
        nbytes = idx.frame_bytes
        size = idx.path.stat().st_size
        swap = idx.dtype.itemsize > 1 and idx.byteorder != ("<" if np.little_endian else ">")
        with open(idx.path, "rb", buffering=0) as f:
            for j, page in enumerate(pages):
                off = int(idx.data_offsets[page])
                if off < 0:
                    out[j] = _read_page_tifffile(idx, int(page))
                    continue
                if off + nbytes > size:
                    raise _err(idx.path, f"truncated file: page {page} ends past the end of the file ({size} bytes)")
                f.seek(off)
                view = memoryview(out[j]).cast("B")
                got = f.readinto(view)
                if got != nbytes:
                    raise _err(idx.path, f"truncated file: read {got} of {nbytes} bytes of page {page}")
                if swap:
                    out[j].byteswap(inplace=True)
