"""Lazy arrays over NWB datasets: xarray ``BackendArray`` s and a parallel chunk reader.

Nothing is read when a view is opened. A :class:`NwbDatasetArray` names a dataset of a
file held by an ``xarray.backends.CachingFileManager``; xarray wraps it in a
``LazilyIndexedArray`` and calls :meth:`NwbDatasetArray.__getitem__` only when values
are needed. It pickles (the manager re-opens the file in the receiving process), so
views travel to dask.distributed workers.

Reading: HDF5 datasets that are chunked and compressed with gzip (optionally with the
shuffle filter) — what NeuroConv and nwbmotor write — are read chunk by chunk: the raw
bytes of each needed chunk are fetched under the HDF5 lock (h5py serialises every call
anyway), then inflated and copied into the result on a pool of threads (zlib releases
the GIL; libdeflate from imagecodecs when installed, else zlib), so decompression runs
on every core. Other storage falls back to h5py's own
read under the lock.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import threading
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from xarray.backends import BackendArray
from xarray.core import indexing

__all__ = ["NwbDatasetArray", "StackedArray", "read_outer", "read_rows", "H5_LOCK"]

from xarray.backends.locks import HDF5_LOCK as H5_LOCK  # noqa: E402  (a SerializableLock shared with h5netcdf)

#: Above this many bytes, a sparse selection of unchunked data is read run by run, not as its bounding box.
_BOX_LIMIT = 64_000_000
_FILTER_DEFLATE = 1
_FILTER_SHUFFLE = 2
_POOL: concurrent.futures.ThreadPoolExecutor | None = None
_POOL_GUARD = threading.Lock()


def _forget_pool() -> None:  # a forked child must not use the parent's threads
    global _POOL
    _POOL = None


os.register_at_fork(after_in_child=_forget_pool)


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    global _POOL
    with _POOL_GUARD:
        if _POOL is None:
            _POOL = concurrent.futures.ThreadPoolExecutor(
                max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="nwbmotor-read"
            )
        return _POOL


def _filters(dset: Any) -> list[int] | None:
    """The filter pipeline if every filter is one we decode (deflate, shuffle), else None."""
    if dset.chunks is None or dset.dtype.kind not in "biuf":
        return None
    plist = dset.id.get_create_plist()
    codes = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    if any(c not in (_FILTER_DEFLATE, _FILTER_SHUFFLE) for c in codes):
        return None
    return codes


_libdeflate: Any
try:  # libdeflate (through imagecodecs, installed with tifffile) inflates 2-3x faster than zlib
    from imagecodecs import deflate_decode as _libdeflate
except ImportError:  # pragma: no cover - zlib is always there
    _libdeflate = None


def _inflate(buf: bytes, nbytes: int) -> bytes:
    if _libdeflate is not None:
        try:
            return bytes(_libdeflate(buf, out=nbytes))
        except Exception:  # noqa: BLE001 - fall back to zlib, which names the problem if there is one
            pass
    return zlib.decompress(buf)


def _decode(raw: bytes, codes: list[int], mask: int, dtype: np.dtype, chunk: tuple[int, ...]) -> np.ndarray:
    buf: Any = raw
    nbytes = int(np.prod(chunk)) * dtype.itemsize
    for i in reversed(range(len(codes))):
        if mask & (1 << i):  # filter i was skipped for this chunk
            continue
        if codes[i] == _FILTER_DEFLATE:
            buf = _inflate(buf, nbytes)
        else:  # shuffle: bytes stored as itemsize planes
            n = len(buf) // dtype.itemsize
            planes = np.frombuffer(buf, np.uint8).reshape(dtype.itemsize, n)
            buf = np.ascontiguousarray(planes.T).tobytes()
    return np.frombuffer(buf, dtype=dtype).reshape(chunk)


def _as_index(key: Any, size: int) -> np.ndarray:
    if isinstance(key, slice):
        return np.arange(size)[key]
    arr = np.asarray(key, dtype=np.int64)
    return np.where(arr < 0, arr + size, arr)


def _runs(local: np.ndarray) -> slice | np.ndarray:
    """A slice when ``local`` is a contiguous increasing run, else the array."""
    if local.size and local[-1] - local[0] == local.size - 1 and (local.size < 2 or np.all(np.diff(local) == 1)):
        return slice(int(local[0]), int(local[-1]) + 1)
    return local


def read_outer(dset: Any, key: Sequence[Any], lock: Any = H5_LOCK) -> np.ndarray:
    """Read an outer selection (one slice or integer array per dimension) of an h5py dataset.

    Gzip/shuffle-compressed chunked datasets are read chunk by chunk, decompressing on a
    thread pool; anything else goes through h5py.

    Parameters
    ----------
    dset : h5py.Dataset
    key : sequence of slice or ndarray of int
        One entry per dimension; arrays may be unsorted and repeat indices.
    lock : lock
        Held around every h5py call.

    Returns
    -------
    ndarray
        Of shape ``(len(selection_0), len(selection_1), ...)``.
    """
    shape = dset.shape
    if hasattr(dset, "read_outer"):  # a Zarr array: zarr decodes its own chunks
        return np.asarray(dset.read_outer(tuple(key)))
    sel = [_as_index(k, n) for k, n in zip(key, shape, strict=True)]
    uniq, inverse = zip(*(np.unique(s, return_inverse=True) for s in sel), strict=True)
    codes = _filters(dset)
    if codes is None or any(u.size == 0 for u in uniq):
        out = _read_h5py(dset, uniq, lock)
    else:
        out = _read_chunks(dset, uniq, codes, lock)
    for axis, (u, s, inv) in enumerate(zip(uniq, sel, inverse, strict=True)):
        if u.size != s.size or not np.array_equal(u, s):
            out = np.take(out, inv.reshape(-1), axis=axis)
    return out


def _read_h5py(dset: Any, uniq: Sequence[np.ndarray], lock: Any) -> np.ndarray:
    out_shape = tuple(u.size for u in uniq)
    if any(n == 0 for n in out_shape):
        return np.empty(out_shape, dset.dtype)
    bounds = tuple(slice(int(u[0]), int(u[-1]) + 1) for u in uniq)
    box = int(np.prod([b.stop - b.start for b in bounds])) * dset.dtype.itemsize
    if dset.ndim and box > _BOX_LIMIT and box > 4 * int(np.prod(out_shape)) * dset.dtype.itemsize:
        # sparse rows of a large dataset: read each run of consecutive rows, not the whole box
        first = uniq[0]
        cuts = np.flatnonzero(np.diff(first) != 1) + 1
        parts = []
        for run in np.split(first, cuts):
            with lock:
                parts.append(np.asarray(dset[(slice(int(run[0]), int(run[-1]) + 1),) + bounds[1:]]))
        block = np.concatenate(parts, axis=0)
        local = (np.arange(first.size),) + tuple(u - u[0] for u in uniq[1:])
        if all(isinstance(_runs(x), slice) for x in local):
            return block
        return block[np.ix_(*local)]
    with lock:
        block = dset[bounds] if dset.ndim else dset[()]
    local = tuple(u - u[0] for u in uniq)
    if all(isinstance(_runs(x), slice) for x in local):
        return np.asarray(block)
    return np.asarray(block)[np.ix_(*local)]


def _read_chunks(dset: Any, uniq: Sequence[np.ndarray], codes: list[int], lock: Any) -> np.ndarray:
    chunk = dset.chunks
    dtype = dset.dtype
    fill = dset.fillvalue
    out = np.empty(tuple(u.size for u in uniq), dtype=dtype)
    per_dim = []
    for u, c in zip(uniq, chunk, strict=True):
        ids = u // c
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        stops = np.r_[starts[1:], u.size]
        per_dim.append([(int(ids[a]), slice(int(a), int(b)), _runs(u[a:b] - ids[a] * c)) for a, b in zip(starts, stops, strict=True)])
    dsid = dset.id

    def work(task: tuple) -> None:
        offset = tuple(t[0] * c for t, c in zip(task, chunk, strict=True))
        out_sel = tuple(t[1] for t in task)
        local = tuple(t[2] for t in task)
        with lock:
            info = dsid.get_chunk_info_by_coord(offset)
            raw = None if info.byte_offset is None else dsid.read_direct_chunk(offset)
        if raw is None:
            out[out_sel] = fill
            return
        data = _decode(raw[1], codes, raw[0], dtype, chunk)
        if all(isinstance(x, slice) for x in local):
            out[out_sel] = data[local]
        else:
            out[out_sel] = data[np.ix_(*[np.arange(x.start, x.stop) if isinstance(x, slice) else x for x in local])]

    tasks = list(itertools.product(*per_dim))
    if len(tasks) == 1:
        work(tasks[0])
    else:
        for fut in [_pool().submit(work, t) for t in tasks]:
            fut.result()
    return out


def read_rows(dset: Any, rows: np.ndarray, cols: Any, lock: Any = H5_LOCK) -> np.ndarray:
    """``dset[rows][:, cols]`` for a 2-D dataset and rows of any shape, in one pass over the chunks.

    Each needed chunk is inflated once (on the thread pool) and its rows are copied
    straight to their places in the result, so windows around many events (a trial
    alignment) cost one read of the chunks they touch and no intermediate copy.

    Parameters
    ----------
    dset : h5py.Dataset of 2 dimensions
    rows : ndarray of int
        Row indices (any shape; repeats allowed, order free).
    cols : slice or ndarray of int
        Columns to keep.

    Returns
    -------
    ndarray of shape ``rows.shape + (n_cols,)``
    """
    flat = np.asarray(rows, dtype=np.int64).ravel()
    if flat.size and (flat.min() < -dset.shape[0] or flat.max() >= dset.shape[0]):
        raise IndexError(f"row index out of range for {dset.shape[0]} rows")
    flat = np.where(flat < 0, flat + dset.shape[0], flat)
    col_idx = _as_index(cols, dset.shape[1])
    codes = _filters(dset)
    if codes is None or dset.ndim != 2 or not flat.size or not col_idx.size:
        uniq, inv = np.unique(flat, return_inverse=True)
        block = read_outer(dset, (uniq, col_idx), lock) if uniq.size else np.empty((0, col_idx.size), dset.dtype)
        return block[inv.reshape(-1)].reshape(np.shape(rows) + (col_idx.size,))
    ucols, cinv = np.unique(col_idx, return_inverse=True)
    order = np.argsort(flat, kind="stable")
    srt = flat[order]
    ct, cu = dset.chunks
    out = np.empty((flat.size, ucols.size), dset.dtype)
    tid = srt // ct
    t_starts = np.flatnonzero(np.r_[True, tid[1:] != tid[:-1]])
    t_stops = np.r_[t_starts[1:], srt.size]
    uid = ucols // cu
    u_starts = np.flatnonzero(np.r_[True, uid[1:] != uid[:-1]])
    u_stops = np.r_[u_starts[1:], ucols.size]
    dsid = dset.id
    fill = dset.fillvalue

    def work(task: tuple[int, int, int, int]) -> None:
        a, b, c, d = task
        t, u = int(tid[a]), int(uid[c])
        offset = (t * ct, u * cu)
        with lock:
            info = dsid.get_chunk_info_by_coord(offset)
            raw = None if info.byte_offset is None else dsid.read_direct_chunk(offset)
        dest = order[a:b]
        if raw is None:
            out[dest, c:d] = fill
            return
        data = _decode(raw[1], codes, raw[0], dset.dtype, (ct, cu))
        local_cols = _runs(ucols[c:d] - u * cu)
        block = data[srt[a:b] - t * ct]
        out[dest, c:d] = block[:, local_cols]

    tasks = [(int(a), int(b), int(c), int(d)) for a, b in zip(t_starts, t_stops, strict=True)
             for c, d in zip(u_starts, u_stops, strict=True)]
    if len(tasks) == 1:
        work(tasks[0])
    else:
        for fut in [_pool().submit(work, t) for t in tasks]:
            fut.result()
    if ucols.size != col_idx.size or not np.array_equal(ucols, col_idx):
        out = out[:, cinv.reshape(-1)]
    return out.reshape(np.shape(rows) + (col_idx.size,))


def _rows_and_columns(key: tuple, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray] | None:
    """Split an arrayized vectorized key of a 2-D array into (rows, columns) when it is
    "any rows, then the same columns for each" (what indexing time by a (trial, rel_time)
    array gives); else None."""
    if len(key) != 2 or len(shape) != 2:
        return None
    r, c = (np.asarray(k) for k in key)
    if r.ndim != c.ndim or r.ndim < 2:
        return None
    r, c = np.broadcast_arrays(r, c)
    rows, cols = r[..., 0], c.reshape(-1, c.shape[-1])[0]
    if not (np.array_equal(r, np.broadcast_to(rows[..., None], r.shape)) and np.array_equal(c, np.broadcast_to(cols, c.shape))):
        return None
    return rows, cols


class NwbDatasetArray(BackendArray):
    """A lazy (n,) or (n, m) view of one dataset of an NWB file.

    Parameters
    ----------
    manager : xarray.backends.CachingFileManager
        Holds the open ``h5py.File``.
    path : str
        The dataset's path in the file.
    shape : tuple of int
        Shape presented to xarray (a 1-D dataset may be presented as ``(n, 1)``).
    dtype : numpy dtype
        Dtype presented (float64 when ``conversion``/``offset`` apply).
    conversion, offset : float
        NWB TimeSeries scaling: values are ``data * conversion + offset``.
    lock : lock
        Held around h5py calls.
    """

    def __init__(self, manager: Any, path: str, shape: tuple[int, ...], dtype: np.dtype, *,
                 conversion: float = 1.0, offset: float = 0.0, lock: Any = H5_LOCK) -> None:
        self.manager = manager
        self.path = path
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.conversion = float(conversion)
        self.offset = float(offset)
        self.lock = lock

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        if isinstance(key, indexing.VectorizedIndexer) and len(self.shape) == 2:
            split = _rows_and_columns(key.tuple, self.shape)
            if split is not None:
                return self._read_rows(*split)
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.OUTER, self._raw_indexing_method)

    def _read_rows(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        with self.lock:
            dset = self.manager.acquire()[self.path]
        if dset.ndim == 1 or hasattr(dset, "read_outer"):  # (n, 1) views and Zarr: through outer reads
            uniq, inv = np.unique(rows.reshape(-1), return_inverse=True)
            block = self._raw_indexing_method((uniq, cols))
            return block[inv.reshape(-1)].reshape(rows.shape + (cols.size,))
        data = read_rows(dset, rows, cols, self.lock)
        if self.conversion != 1.0 or self.offset != 0.0:
            data = data * self.conversion + self.offset
        return np.asarray(data, dtype=self.dtype)

    def _raw_indexing_method(self, key: tuple) -> np.ndarray:
        with self.lock:
            dset = self.manager.acquire()[self.path]
        squeeze = [i for i, k in enumerate(key) if isinstance(k, (int, np.integer))]
        outer = tuple(slice(int(k), int(k) + 1) if isinstance(k, (int, np.integer)) else k for k in key)
        if dset.ndim == 1 and len(self.shape) == 2:  # a 1-D series presented as (n, 1)
            data = read_outer(dset, outer[:1], self.lock)[:, None][:, _as_index(outer[1], 1)]
        else:
            data = read_outer(dset, outer, self.lock)
        if squeeze:
            data = data.reshape([n for i, n in enumerate(data.shape) if i not in squeeze])
        if self.conversion != 1.0 or self.offset != 0.0:
            data = data * self.conversion + self.offset
        return np.asarray(data, dtype=self.dtype)


class StackedArray(BackendArray):
    """Several lazy (n, k_i) arrays side by side along the last axis: (n, sum k_i).

    Used for ``behavior`` when several series of one clock become its channels.
    """

    def __init__(self, parts: Sequence[NwbDatasetArray]) -> None:
        self.parts = tuple(parts)
        n = {p.shape[0] for p in self.parts}
        if len(n) != 1:
            raise ValueError(f"stacked parts differ in length: {sorted(n)}")
        self.shape = (n.pop(), sum(p.shape[1] for p in self.parts))
        self.dtype = np.result_type(*[p.dtype for p in self.parts])
        self._edges = np.cumsum([0] + [p.shape[1] for p in self.parts])

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.OUTER, self._raw_indexing_method)

    def _raw_indexing_method(self, key: tuple) -> np.ndarray:
        rows, cols = key
        cols_idx = _as_index(cols, self.shape[1]) if not isinstance(cols, (int, np.integer)) else np.array([int(cols)])
        which = np.searchsorted(self._edges, cols_idx, side="right") - 1
        out = None
        for j, part in enumerate(self.parts):
            pick = np.flatnonzero(which == j)
            if not pick.size:
                continue
            vals = part._raw_indexing_method((rows, cols_idx[pick] - self._edges[j]))
            if out is None:
                out = np.empty(vals.shape[:-1] + (cols_idx.size,), self.dtype)
            out[..., pick] = vals
        if out is None:
            n = _as_index(rows, self.shape[0]).size if not isinstance(rows, (int, np.integer)) else None
            out = np.empty((0,) if n is None else (n, 0), self.dtype)
        if isinstance(cols, (int, np.integer)):
            out = out[..., 0]
        return out
