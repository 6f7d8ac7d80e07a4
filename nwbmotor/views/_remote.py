"""Sessions by URL: HTTP(S) byte-range reads of an NWB (HDF5) file, through fsspec.

``open_session("https://…/file.nwb")`` opens the file lazily over HTTP: h5py reads it
through an fsspec file object that fetches only the blocks it asks for (the file's
metadata at open, then the chunks an analysis touches), keeping the most recent ones in
a block cache. A DANDI asset URL (``https://api.dandiarchive.org/api/assets/<id>/download/``, and the
other asset forms: see :func:`resolve_url`) is resolved once to the storage URL it
redirects to, so range requests go there directly.
"""

from __future__ import annotations

import re
from typing import Any

import h5py

from nwbmotor._errors import NwbMotorValueError

__all__ = ["BLOCK_SIZE", "MAX_BLOCKS", "RemoteH5File", "dandi_download_url", "is_url", "resolve_url"]

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


#: A DANDI asset URL, any instance (the archive, its staging server, or a mirror): the
#: asset download form, its metadata form, and both under a dandiset version.
_DANDI_ASSET = re.compile(
    r"^(?P<api>https?://[^?#]*?)/api/(?:dandisets/[^/]+/versions/[^/]+/)?assets/"
    r"(?P<asset>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?:/download)?/?$"
)
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def dandi_download_url(url: str) -> str | None:
    """The ``/api/assets/<id>/download/`` URL of a DANDI asset URL, or None for another URL.

    Examples
    --------
    >>> dandi_download_url("https://api.dandiarchive.org/api/dandisets/000688/versions/draft/"
    ...                    "assets/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/")
    'https://api.dandiarchive.org/api/assets/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/download/'
    >>> dandi_download_url("https://example.org/session.nwb") is None
    True
    """
    match = _DANDI_ASSET.match(url)
    if match is None:
        return None
    return f"{match.group('api')}/api/assets/{match.group('asset').lower()}/download/"


def resolve_url(url: str) -> str:
    """The URL to read ``url``'s NWB file from by byte ranges, checked with one small request.

    A DANDI asset URL (``.../api/assets/<id>/download/``, ``.../api/assets/<id>/``, or either
    under ``.../api/dandisets/<id>/versions/<version>/``) becomes its download URL, whose
    redirect (to the S3 object) is followed; the range requests then go to the final URL
    directly. One ranged GET of the first 8 bytes checks that the server honours ranges
    (206, not the whole file with 200) and that the file is HDF5.

    Raises
    ------
    NwbMotorValueError
        One line naming the URL, what was expected and what was got: no connection, an
        HTTP error (404, ...), a server that ignores ranges, or content that is not HDF5.
    """
    import requests

    target = dandi_download_url(url) or url
    asked = f"{url} (DANDI asset download {target})" if target != url else url
    try:
        response = requests.get(target, headers={"Range": "bytes=0-7"}, allow_redirects=True, stream=True,
                                timeout=30)
    except requests.RequestException as exc:
        raise NwbMotorValueError(
            f"{asked}: cannot be reached ({type(exc).__name__}: {exc}); expected an HTTP(S) server holding an NWB file"
        ) from None
    try:
        final = response.url
        where = asked if final == target else f"{asked}, redirected to {final}"
        if response.status_code >= 400:
            raise NwbMotorValueError(
                f"{where}: HTTP {response.status_code} {response.reason}; expected 206 (the NWB file's bytes)"
            )
        if response.status_code != 206:
            raise NwbMotorValueError(
                f"{where}: the server answered a byte-range request with HTTP {response.status_code} (the whole "
                "body) instead of 206; expected Range support (as S3 and DANDI give) to read the file lazily"
            )
        head = response.raw.read(8, decode_content=True)
    finally:
        response.close()
    if head != _HDF5_SIGNATURE:
        kind = response.headers.get("Content-Type", "unknown")
        raise NwbMotorValueError(
            f"{where}: expected an HDF5 NWB file (first bytes {_HDF5_SIGNATURE!r}), got {head!r} "
            f"(Content-Type {kind})"
        )
    return final


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
