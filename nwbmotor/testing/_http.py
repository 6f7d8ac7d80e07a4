"""A loopback HTTP server with byte ranges, for testing remote reads (and counting their bytes)."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = ["ServedFiles", "serve_files"]


@dataclasses.dataclass
class ServedFiles:
    """A running loopback server: ``url(name)`` of a served file, and what it sent.

    Attributes
    ----------
    base_url : str
    bytes_sent : int
        Body bytes sent (range or whole-file responses), all files together; counted as each
        response is written, so a client that has its bytes sees them counted.
    requests : int
        GET requests answered with the file's bytes.
    redirects : int
        Requests answered with a redirect (see ``serve_files(redirects=...)``).
    ranged : int
        GET requests answered with a byte range (206).
    """

    base_url: str
    bytes_sent: int = 0
    requests: int = 0
    redirects: int = 0
    ranged: int = 0

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def reset(self) -> None:
        self.bytes_sent = 0
        self.requests = 0
        self.redirects = 0
        self.ranged = 0


def _handler(root: Path, stats: ServedFiles, redirects: Mapping[str, str],
             ranges: bool) -> type[http.server.BaseHTTPRequestHandler]:
    lock = threading.Lock()
    moved = {k.strip("/"): v for k, v in redirects.items()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _target(self) -> Path | None:
            path = (root / self.path.lstrip("/").split("?")[0]).resolve()
            return path if path.is_file() and root in path.parents else None

        def _redirect(self) -> bool:
            name = moved.get(self.path.split("?")[0].strip("/"))
            if name is None:
                return False
            self.send_response(302)
            self.send_header("Location", f"{stats.base_url}/{name}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            with lock:
                stats.redirects += 1
            return True

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's spelling
            if self._redirect():
                return
            path = self._target()
            if path is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(path.stat().st_size))
            if ranges:
                self.send_header("Accept-Ranges", "bytes")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            if self._redirect():
                return
            path = self._target()
            if path is None:
                self.send_error(404)
                return
            size = path.stat().st_size
            start, stop = 0, size
            ranged = self.headers.get("Range", "") if ranges else ""
            if ranged.startswith("bytes="):
                first, _, last = ranged[6:].split(",")[0].partition("-")
                if first:
                    start, stop = int(first), min(size, int(last) + 1 if last else size)
                else:  # suffix range: the last N bytes
                    start, stop = max(0, size - int(last)), size
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{size}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(stop - start))
            if ranges:
                self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            with open(path, "rb") as fh:
                fh.seek(start)
                body = fh.read(stop - start)
            # Counted before the write: a client that has read the body must already see it
            # counted (counting after the write raced the client's read on a busy machine).
            with lock:
                stats.bytes_sent += len(body)
                stats.requests += 1
                stats.ranged += int(bool(ranged.startswith("bytes=")))
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client stopped reading: normal
                with lock:
                    stats.bytes_sent -= len(body)
                    stats.requests -= 1
                    stats.ranged -= int(bool(ranged.startswith("bytes=")))

    return Handler


@contextlib.contextmanager
def serve_files(
    root: str | os.PathLike[str], *, redirects: Mapping[str, str] | None = None, ranges: bool = True
) -> Iterator[ServedFiles]:
    """Serve the files under ``root`` on ``http://127.0.0.1:<free port>`` while the block runs.

    Byte ranges (``Range: bytes=a-b``) are honoured, as by S3 and the DANDI archive.

    Parameters
    ----------
    root : str or PathLike
    redirects : mapping of str to str, optional
        URL path -> name of a served file: such requests get a 302 to the file, as the
        DANDI API answers ``/api/assets/<id>/download/`` with the S3 URL of the blob.
    ranges : bool, default True
        False: a server without Range support (every GET gets the whole file, 200).

    Examples
    --------
    >>> import tempfile, pathlib, urllib.request
    >>> root = pathlib.Path(tempfile.mkdtemp()); _ = (root / "a.bin").write_bytes(b"0123456789")
    >>> with serve_files(root) as served:
    ...     req = urllib.request.Request(served.url("a.bin"), headers={"Range": "bytes=2-4"})
    ...     urllib.request.urlopen(req).read(), served.bytes_sent
    (b'234', 3)
    """
    stats = ServedFiles(base_url="")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), _handler(Path(root).resolve(), stats, dict(redirects or {}), ranges))
    stats.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stats
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
