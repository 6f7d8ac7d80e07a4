"""Safe writes: a file appears at its final path only when it is complete, and one
process at a time writes it.

Every writer in nwbmotor goes through :func:`atomic_output`. The data are written under
a temporary name in the target folder (same file system, so the final rename is
atomic), and moved over the target with one ``os.replace`` when the block finishes
without error. While a target is written its lock (:func:`target_lock`, an exclusive
``flock`` on a hidden file beside it) is held, so two runs, terminals or cron jobs never
write the same target at once, and a run clears only the partial files of targets it
holds (those left by killed runs). An existing target is replaced only with
``overwrite=True`` and only if the caller recognises it as its own (``is_ours``); a
folder or a file nwbmotor did not write is never deleted.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from nwbmotor._errors import NwbMotorValueError

__all__ = [
    "atomic_output",
    "is_partial",
    "partial_owner",
    "target_lock",
    "clear_partials",
    "TargetBusyError",
    "PARTIAL_MARKER",
    "LOCK_SUFFIX",
]

PARTIAL_MARKER = ".nwbmotor-partial-"
LOCK_SUFFIX = ".nwbmotor-lock"
_OLD_MARKER = ".nwbmotor-old-"

#: locks this process holds: lock-file path -> (fd, depth); makes target_lock re-entrant
_HELD: dict[str, list[int]] = {}


class TargetBusyError(NwbMotorValueError):
    """Another process holds the target's lock: it is writing that file now."""


def is_partial(path: str | os.PathLike[str]) -> bool:
    """Return True if ``path`` is a temporary file of an unfinished (or interrupted) write."""
    return PARTIAL_MARKER in Path(path).name


def _lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}{LOCK_SUFFIX}"


def _target_of_partial(path: Path) -> Path:
    name = path.name.split(PARTIAL_MARKER, 1)[1]
    return path.with_name(name.split("-", 1)[1] if "-" in name else name)


def _holder(lock: Path) -> str:
    with contextlib.suppress(OSError):
        text = lock.read_text(errors="replace").strip()[:80]
        if text:
            return f" ({text})"
    return ""


@contextlib.contextmanager
def target_lock(target: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the exclusive lock of ``target`` (re-entrant within a process).

    Parameters
    ----------
    target : str or PathLike
        The file to be written; its folder must exist. The lock is a hidden file
        ``.<name>.nwbmotor-lock`` beside it, locked with ``fcntl.flock`` (released by
        the kernel when the process dies, so a killed run never leaves it held) and
        removed when released.

    Raises
    ------
    TargetBusyError
        If another process holds it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.nwb"
    >>> with target_lock(target):
    ...     with target_lock(target):  # the same process may nest it
    ...         pass
    """
    final = Path(target)
    lock = _lock_path(final)
    key = str(lock.resolve())
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    fd = _acquire(final, lock)
    try:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
        _HELD[key] = [fd, 1]
        try:
            yield
        finally:
            del _HELD[key]
            # removed while still locked; a process that opened it meanwhile sees, once it
            # gets the lock, that the name no longer points at its file, and starts over
            with contextlib.suppress(OSError):
                lock.unlink()
    finally:
        os.close(fd)  # releases the flock


def _acquire(final: Path, lock: Path) -> int:
    """Open and lock ``lock``, making sure the name still points at the locked file."""
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise NwbMotorValueError(
                f"{final}: cannot create its lock file in {final.parent} ({exc.strerror}); "
                "expected a writable folder"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise TargetBusyError(
                f"{final}: another nwbmotor process{_holder(lock)} is writing it now; nothing was done: "
                "rerun when that run has finished"
            ) from None
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder removed it as we opened it: try again on the new name


def partial_owner(path: str | os.PathLike[str]) -> str | None:
    """For a partial file: who is writing it now (``'pid N on host'``), or None if nobody is.

    None means the write that made it was interrupted (the process was killed).
    """
    path = Path(path)
    target = _target_of_partial(path)
    lock = _lock_path(target)
    if not lock.exists():
        return None
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(lock).strip(" ()") or "another process"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _remove_own(path: Path) -> None:
    """Remove a temporary file or store nwbmotor made (never anything else)."""
    if path.is_symlink() or not path.is_dir():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    shutil.rmtree(path, ignore_errors=True)


def clear_partials(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the partial files left by interrupted writes of ``target``.

    Only while holding the target's lock (taken here if not already held): then no
    other process is writing it, so every partial of it is a leftover.

    Returns
    -------
    list of Path
        The removed leftovers.
    """
    final = Path(target)
    if not final.parent.is_dir():
        return []
    removed = []
    with target_lock(final):
        for pattern in (f"{PARTIAL_MARKER}*-{final.name}", f"{_OLD_MARKER}*-{final.name}"):
            for stale in final.parent.glob(pattern):
                if pattern.startswith(_OLD_MARKER) and not stale.is_dir():
                    continue
                _remove_own(stale)
                removed.append(stale)
    return removed


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _describe(path: Path) -> str:
    if path.is_symlink():
        return "a symbolic link"
    if path.is_dir():
        return "a folder"
    return "a file"


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    is_ours: Callable[[Path], str | None] | None = None,
    make_parents: bool = True,
) -> Iterator[Path]:
    """Yield a temporary path to write; move it to ``path`` when the block succeeds.

    Parameters
    ----------
    path : str or PathLike
        The final path of the file (or folder, for Zarr stores).
    overwrite : bool, default False
        Replace an existing ``path``. Without it an existing target is an error
        raised before anything is written.
    is_ours : callable, optional
        ``is_ours(path)`` returns None if the existing ``path`` is a finished output of
        this writer (so it may be replaced), or why not. Default: a regular file may
        be replaced, a folder or a link never.
    make_parents : bool, default True
        Create the target's missing folders; otherwise a missing folder is an error
        (where a typo in a path must not create folders anywhere).

    Yields
    ------
    Path
        A path in the same folder as ``path`` whose name marks it as partial. The
        caller writes there; nothing exists at it yet.

    Raises
    ------
    NwbMotorValueError
        If ``path`` exists and ``overwrite`` is False, or it is not the writer's own
        output; if its folder does not exist or cannot be written.
    TargetBusyError
        If another process is writing ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_output(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    final = Path(path)
    if not final.parent.is_dir():
        if final.parent.exists():
            raise NwbMotorValueError(f"{final}: {final.parent} is a file; expected a folder for the output")
        if not make_parents:
            raise NwbMotorValueError(
                f"{final}: the folder {final.parent} does not exist; expected an existing folder (create it first)"
            )
        final.parent.mkdir(parents=True, exist_ok=True)
    with target_lock(final):
        clear_partials(final)
        if os.path.lexists(final):
            if not overwrite:
                raise NwbMotorValueError(
                    f"{final}: the output exists; pass overwrite=True (--overwrite) to replace it"
                )
            if is_ours is not None:
                problem = is_ours(final)
            else:
                problem = None if final.is_file() and not final.is_symlink() else _describe(final)
            if problem is not None:
                raise NwbMotorValueError(
                    f"{final}: exists and is not a finished file nwbmotor wrote ({problem}); it is left alone: "
                    "move it away, then rerun"
                )
        tmp = final.with_name(f"{PARTIAL_MARKER}{uuid.uuid4().hex[:8]}-{final.name}")
        try:
            yield tmp
            if not os.path.lexists(tmp):
                raise NwbMotorValueError(f"{final}: the writer produced no file at {tmp}")
            if final.is_dir() and not final.is_symlink():
                # a store (folder) cannot be replaced in one step: move the old one aside
                # under a marked name, move the new one in, then remove the old one
                old = final.with_name(f"{_OLD_MARKER}{uuid.uuid4().hex[:8]}-{final.name}")
                os.replace(final, old)
                os.replace(tmp, final)
                _remove_own(old)
            else:
                os.replace(tmp, final)
            _fsync_dir(final.parent)
        except BaseException:
            _remove_own(tmp)
            raise


def output_folder_problem(folder: str | os.PathLike[str], *, create: bool = True) -> str | None:
    """Why files cannot be written in ``folder`` (None if they can); made if missing.

    Its parent must exist: a typo must not create folders anywhere.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        return "is a file; expected a folder"
    if not folder.exists():
        if not folder.parent.is_dir():
            return f"does not exist, nor does its parent {folder.parent}; expected an existing folder"
        if not create:
            return None if os.access(folder.parent, os.W_OK | os.X_OK) else "cannot be created (permission denied)"
        try:
            folder.mkdir()
        except OSError as exc:
            return f"cannot be created ({exc.strerror})"
    probe = folder / f"{PARTIAL_MARKER}{uuid.uuid4().hex[:8]}-probe"
    try:
        with open(probe, "wb") as fh:
            fh.write(b"\0" * 4096)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        reason = {errno.ENOSPC: "the disk is full", errno.EROFS: "read-only file system",
                  errno.EACCES: "permission denied", errno.EDQUOT: "disk quota exceeded"}.get(exc.errno, exc.strerror)  # type: ignore[arg-type]
        return f"cannot be written ({reason})"
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return None
