"""Sessions by URL: HTTP(S) byte-range reads of an NWB (HDF5) file, through fsspec.

``open_session("https://…/file.nwb")`` opens the file lazily over HTTP: h5py reads it
through an fsspec file object that fetches only the blocks it asks for (the file's
metadata at open, then the chunks an analysis touches), keeping the most recent ones in
a block cache. A DANDI asset URL (``https://api.dandiarchive.org/api/assets/<id>/download/``)
is resolved once to the storage URL it redirects to, so range requests go there directly.
"""

from __future__ import annotations

from typing import Any

import h5py

__all__ = ["BLOCK_SIZE", "MAX_BLOCKS", "RemoteH5File", "is_url", "resolve_url"]

#: Bytes per HTTP range request (and per block of the cache): small enough that reading
#: the HDF5 metadata of a session fetches little, large enough that a compressed chunk
#: (NeuroConv's default chunks are ~10 MB, nwbmotor's ~1 MB) comes in a few requests.
BLOCK_SIZE = 256 * 1024
#: Blocks kept in memory per open file (64 x 256 KiB = 16 MiB).
MAX_BLOCKS = 64


def is_url(value: Any) -> bool:
    """True for an ``http://`` or ``https://`` address.

    Examples
    --------
    >>> is_url("https://dandiarchive.s3.amazonaws.com/blobs/abc"), is_url("session.nwb")
    (True, False)
    """
    return isinstance(value, str) and value.split("://", 1)[0].lower() in ("http", "https")


def resolve_url(url: str) -> str:
    """The storage URL behind a DANDI asset URL (which redirects); other URLs as given."""
    if "/api/assets/" not in url or "dandiarchive" not in url:
        return url
    import requests

    response = requests.head(url, allow_redirects=True, timeout=30)
    response.raise_for_status()
    return response.url


def _open_remote(url: str) -> Any:
    import fsspec

    fs = fsspec.filesystem("http")
    return fs.open(url, "rb", block_size=BLOCK_SIZE, cache_type="blockcache",
                   cache_options={"maxblocks": MAX_BLOCKS})


class RemoteH5File(h5py.File):
    """Opener for ``CachingFileManager``: an ``h5py.File`` read over HTTP range requests,
    whose ``close`` also closes the HTTP file object and whose ``filename`` is the URL."""

    def __init__(self, url: str, mode: str = "r") -> None:
        if mode != "r":
            raise ValueError("remote NWB files open read-only")
        handle = _open_remote(url)
        try:
            super().__init__(handle, "r")
        except Exception:
            handle.close()
            raise
        self._nwbmotor_handle = handle
        self._nwbmotor_url = url

    @property
    def filename(self) -> str:  # messages name the URL, not the file object
        return getattr(self, "_nwbmotor_url", "") or super().filename

    def close(self) -> None:
        super().close()
        handle = getattr(self, "_nwbmotor_handle", None)
        if handle is not None:
            handle.close()
            self._nwbmotor_handle = None
