"""DANDI asset URLs and bad servers, against a loopback server that plays the DANDI API.

The API answers ``/api/assets/<id>/download/`` with a 302 to the blob (on S3, which
honours byte ranges). The server counts redirects, ranged answers and body bytes, so a
view that did not follow the redirect, or read the file whole, fails here.
"""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

import nwbmotor
from nwbmotor.testing import serve_files, write_long_lever_session
from nwbmotor.views._remote import dandi_download_url

ASSET = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
BLOB = "blobs/0a1/b2c/lever.nwb"


@pytest.fixture(scope="module")
def served_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("dandi")
    path = write_long_lever_session(root / BLOB, minutes=3)
    (root / "notes.nwb").write_bytes(b"<html>not found, but 200</html>" * 40)
    return root, path


@pytest.mark.parametrize(
    "form",
    [f"api/assets/{ASSET}/download/", f"api/assets/{ASSET}/", f"api/assets/{ASSET.upper()}/download",
     f"api/dandisets/000688/versions/draft/assets/{ASSET}/download/",
     f"api/dandisets/000688/versions/0.230301.1234/assets/{ASSET}/"],
)
def test_dandi_asset_url_is_followed_to_the_blob_and_read_by_ranges(served_root: tuple[Path, Path], form: str) -> None:
    root, path = served_root
    local = nwbmotor.open_session(path, activity=None)
    with serve_files(root, redirects={f"api/assets/{ASSET}/download/": BLOB}) as served:
        ds = nwbmotor.open_session(f"{served.base_url}/{form}", activity=None)
        values = ds.behavior[:2000].values
        assert served.redirects == 1  # resolved once, then the blob is read directly
        assert served.requests >= 2 and served.ranged == served.requests  # every read a byte range
        assert served.bytes_sent < 0.2 * path.stat().st_size
        assert ds.attrs["source_file"] == served.url(BLOB)
        ds.close()
    np.testing.assert_array_equal(values, local.behavior[:2000].values)


def test_dandi_url_forms_map_to_the_download_endpoint() -> None:
    expected = f"https://api.dandiarchive.org/api/assets/{ASSET}/download/"
    for url in (f"https://api.dandiarchive.org/api/assets/{ASSET}/download/",
                f"https://api.dandiarchive.org/api/assets/{ASSET}",
                f"https://api.dandiarchive.org/api/dandisets/000128/versions/draft/assets/{ASSET}/"):
        assert dandi_download_url(url) == expected
    assert dandi_download_url("https://dandiarchive.s3.amazonaws.com/blobs/0a1/b2c/0a1b2c3d") is None


def _one_line(err: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


def test_an_unknown_asset_is_a_404_naming_the_url(served_root: tuple[Path, Path]) -> None:
    root, _ = served_root
    other = "ffffffff-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    with serve_files(root) as served, pytest.raises(
        nwbmotor.NwbMotorValueError, match=rf"{other}/download/.*: HTTP 404 .*; expected 206"
    ) as err:
        nwbmotor.open_session(f"{served.base_url}/api/assets/{other}/download/")
    _one_line(err)


def test_a_server_without_ranges_is_named(served_root: tuple[Path, Path]) -> None:
    root, _ = served_root
    with serve_files(root, ranges=False) as served, pytest.raises(
        nwbmotor.NwbMotorValueError,
        match=rf"{served.url(BLOB)}: the server answered a byte-range request with HTTP 200 .* expected Range support",
    ) as err:
        nwbmotor.open_session(served.url(BLOB))
    _one_line(err)


def test_content_that_is_not_hdf5_is_named(served_root: tuple[Path, Path]) -> None:
    root, _ = served_root
    with serve_files(root) as served, pytest.raises(
        nwbmotor.NwbMotorValueError, match=r"notes\.nwb: expected an HDF5 NWB file .*, got b'<html>no'"
    ) as err:
        nwbmotor.open_session(served.url("notes.nwb"))
    _one_line(err)


def test_a_server_that_does_not_answer_is_named() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/session.nwb"
    with pytest.raises(nwbmotor.NwbMotorValueError, match=rf"{url}: cannot be reached .*expected an HTTP") as err:
        nwbmotor.open_session(url)
    _one_line(err)
