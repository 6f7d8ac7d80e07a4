"""Parallel, constant-memory, lossless writing of a frame stream into a chunked HDF5 dataset.

The dataset is created beforehand (empty, with its final shape, dtype, chunk shape and
the standard HDF5 ``shuffle`` + ``deflate`` (gzip) filters); :func:`write_frames_direct`
then fills it: one thread reads blocks of frames from the source, a pool of threads
byte-shuffles and deflates them (the codecs release the GIL, so all cores work), and the
compressed chunks are written in order with ``h5py``'s direct chunk writes, bypassing
HDF5's serial filter pipeline. At most a bounded number of chunks are in flight, so the
memory used does not depend on the length of the movie.

The bytes written are exactly what HDF5's own ``shuffle`` then ``deflate`` filters would
write (a zlib stream of the byte-shuffled chunk), so any HDF5 reader decodes them.
"""

from __future__ import annotations

import collections
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from nwbmotor._errors import NwbMotorValueError

if TYPE_CHECKING:
    import h5py

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "DEFAULT_LEVEL",
    "chunk_frames_for",
    "deflate_compress",
    "encode_chunk",
    "n_workers",
    "write_frames_direct",
]

DEFAULT_LEVEL = 4
#: Target size of one uncompressed chunk (full frames along time).
DEFAULT_CHUNK_BYTES = 2 * 1024 * 1024


def _make_deflate() -> Callable[[bytes | memoryview, int], bytes]:
    """The fastest zlib-format deflate available that releases the GIL.

    libdeflate (through imagecodecs, a tifffile companion) is about twice as fast as zlib
    at the same level and writes a standard zlib stream; the standard library's zlib
    is the fallback.
    """
    try:
        import imagecodecs

        if imagecodecs.DEFLATE.available:
            probe = b"nwbmotor" * 64
            if zlib.decompress(imagecodecs.deflate_encode(probe, level=4)) == probe:

                def _libdeflate(data: bytes | memoryview, level: int) -> bytes:
                    return imagecodecs.deflate_encode(data, level=level)

                return _libdeflate
    except Exception:  # noqa: BLE001 - any problem with the optional codec: use zlib
        pass
    return zlib.compress


deflate_compress = _make_deflate()


def n_workers(workers: int | None = None) -> int:
    """Number of compression threads: ``workers`` or the cores this process may use."""
    if workers is not None:
        if workers < 1:
            raise NwbMotorValueError(f"workers must be >= 1; got {workers}")
        return int(workers)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def chunk_frames_for(frame_shape: tuple[int, ...], dtype: np.dtype, n_frames: int, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> int:
    """Frames per chunk so that one chunk holds about ``chunk_bytes`` (at least 1, at most ``n_frames``).

    Examples
    --------
    >>> chunk_frames_for((512, 512), np.dtype("uint16"), 2000)
    4
    """
    frame_bytes = int(np.prod(frame_shape)) * np.dtype(dtype).itemsize
    return int(max(1, min(max(n_frames, 1), chunk_bytes // max(frame_bytes, 1))))


def encode_chunk(block: np.ndarray, chunk_shape: tuple[int, ...], *, level: int = DEFAULT_LEVEL, shuffle: bool = True) -> bytes:
    """Bytes of one HDF5 chunk after the ``shuffle`` and ``deflate`` filters.

    Parameters
    ----------
    block : ndarray
        The chunk's data; a block shorter than ``chunk_shape`` along any axis (the
        dataset's edge) is padded with zeros, as HDF5 stores edge chunks whole.
    chunk_shape : tuple of int
        The dataset's chunk shape.
    level : int, default 4
        Deflate level (1-9).
    shuffle : bool, default True
        Apply HDF5's byte shuffle first (all first bytes of the elements, then all second
        bytes, ...).

    Returns
    -------
    bytes
        A zlib stream, as HDF5's deflate filter writes it.

    Examples
    --------
    >>> import zlib
    >>> a = np.arange(6, dtype="<u2").reshape(1, 2, 3)
    >>> raw = zlib.decompress(encode_chunk(a, (1, 2, 3)))
    >>> raw[:6] == bytes([0, 1, 2, 3, 4, 5])
    True
    """
    if block.shape != tuple(chunk_shape):
        padded = np.zeros(chunk_shape, dtype=block.dtype)
        padded[tuple(slice(0, n) for n in block.shape)] = block
        block = padded
    block = np.ascontiguousarray(block)
    itemsize = block.dtype.itemsize
    if shuffle and itemsize > 1:
        data = memoryview(np.ascontiguousarray(block.view(np.uint8).reshape(-1, itemsize).T)).cast("B")
    else:
        data = memoryview(block.view(np.uint8).reshape(-1))
    return deflate_compress(data, level)


def write_frames_direct(
    dset: h5py.Dataset,
    blocks: Iterable[np.ndarray],
    *,
    level: int = DEFAULT_LEVEL,
    shuffle: bool = True,
    workers: int | None = None,
    max_inflight: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Fill ``dset`` from consecutive blocks of frames by parallel compression and direct chunk writes.

    Parameters
    ----------
    dset : h5py.Dataset
        An empty chunked dataset with filters ``shuffle`` (if ``shuffle``) then
        ``gzip`` at ``level``, whose chunk shape spans whole frames (``(t, *frame_shape)``).
    blocks : iterable of ndarray
        Frames in order, each block exactly ``t`` frames except the last, which may be
        shorter. Read on the calling thread.
    level, shuffle
        Must match the dataset's filters.
    workers : int, optional
        Compression threads; default one per core.
    max_inflight : int, optional
        Chunks read but not yet written, at most; default ``2 * workers + 2``. Bounds
        the memory used to about ``max_inflight`` chunks.
    progress : callable, optional
        Called with the number of frames of each written chunk.

    Returns
    -------
    int
        Number of frames written.

    Raises
    ------
    NwbMotorValueError
        If a block has the wrong frame shape or length, or the blocks hold more or fewer
        frames than the dataset.

    Examples
    --------
    >>> import h5py, io
    >>> frames = np.arange(5 * 4 * 4, dtype="uint16").reshape(5, 4, 4)
    >>> with h5py.File(io.BytesIO(), "w") as f:
    ...     d = f.create_dataset("x", shape=frames.shape, dtype="uint16", chunks=(2, 4, 4),
    ...                          shuffle=True, compression="gzip", compression_opts=4)
    ...     write_frames_direct(d, (frames[i:i + 2] for i in range(0, 5, 2)))
    ...     bool((d[()] == frames).all())
    5
    True
    """
    chunk_shape = tuple(dset.chunks or ())
    if len(chunk_shape) != dset.ndim or tuple(chunk_shape[1:]) != tuple(dset.shape[1:]):
        raise NwbMotorValueError(
            f"dataset {dset.name}: direct writes need chunks spanning whole frames (t, {', '.join(map(str, dset.shape[1:]))}); "
            f"got chunks {dset.chunks}"
        )
    t_chunk, n_total = chunk_shape[0], dset.shape[0]
    nw = n_workers(workers)
    limit = max_inflight if max_inflight is not None else 2 * nw + 2
    pending: collections.deque = collections.deque()
    written = 0

    def drain(keep: int) -> None:
        nonlocal written
        while len(pending) > keep:
            start, n, future = pending.popleft()
            dset.id.write_direct_chunk((start,) + (0,) * (dset.ndim - 1), future.result(), filter_mask=0)
            written += n
            if progress is not None:
                progress(n)

    start = 0
    with ThreadPoolExecutor(max_workers=nw, thread_name_prefix="nwbmotor-deflate") as pool:
        try:
            for block in _checked(blocks, dset, t_chunk):
                if start + block.shape[0] > n_total:
                    raise NwbMotorValueError(
                        f"dataset {dset.name}: the source yields more than the {n_total} frames it announced"
                    )
                pending.append((start, block.shape[0], pool.submit(encode_chunk, block, chunk_shape, level=level, shuffle=shuffle)))
                start += block.shape[0]
                drain(limit)
            drain(0)
        except BaseException:
            for _, _, future in pending:
                future.cancel()
            raise
    if written != n_total:
        raise NwbMotorValueError(f"dataset {dset.name}: the source yielded {written} frames; expected {n_total}")
    return written


def _checked(blocks: Iterable[np.ndarray], dset: h5py.Dataset, t_chunk: int) -> Iterator[np.ndarray]:
    frame_shape = tuple(dset.shape[1:])
    short_seen = False
    for i, block in enumerate(blocks):
        if short_seen:
            raise NwbMotorValueError(f"dataset {dset.name}: block {i} follows a short block; only the last may be short")
        if tuple(block.shape[1:]) != frame_shape or not 0 < block.shape[0] <= t_chunk:
            raise NwbMotorValueError(
                f"dataset {dset.name}: block {i} has shape {block.shape}; expected (1..{t_chunk}, {', '.join(map(str, frame_shape))})"
            )
        if block.dtype != dset.dtype:
            raise NwbMotorValueError(f"dataset {dset.name}: block {i} has dtype {block.dtype}; expected {dset.dtype}")
        short_seen = block.shape[0] < t_chunk
        yield block
