"""Safe writes: a file appears at its final path only when it is complete.

Every writer in nwbmotor goes through :func:`atomic_output`. The data are written under
a temporary name in the target folder (same file system, so the final rename is
atomic), and renamed when the block finishes without error. An existing target is
never replaced unless ``overwrite=True``; on any error, or if the process is killed,
no file that looks finished is left at the target path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from nwbmotor._errors import NwbMotorValueError

__all__ = ["atomic_output", "is_partial", "PARTIAL_MARKER"]

PARTIAL_MARKER = ".nwbmotor-partial-"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def is_partial(path: str | os.PathLike[str]) -> bool:
    """Return True if ``path`` is a temporary file left by an interrupted write."""
    return PARTIAL_MARKER in Path(path).name


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; move it to ``path`` when the block succeeds.

    Parameters
    ----------
    path : str or PathLike
        The final path of the file (or folder, for Zarr stores).
    overwrite : bool, default False
        Replace an existing ``path``. Without it an existing target is an error
        raised before anything is written.

    Yields
    ------
    Path
        A path in the same folder as ``path`` whose name marks it as partial. The
        caller writes there; nothing exists at it yet.

    Raises
    ------
    NwbMotorValueError
        If ``path`` exists and ``overwrite`` is False.

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
    if final.exists() and not overwrite:
        raise NwbMotorValueError(
            f"{final}: the output exists; pass overwrite=True (--overwrite) to replace it"
        )
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f"{PARTIAL_MARKER}{uuid.uuid4().hex[:8]}-{final.name}")
    try:
        yield tmp
        if not tmp.exists():
            raise NwbMotorValueError(f"{final}: the writer produced no file at {tmp}")
        if final.exists():  # overwrite=True was checked above
            _remove(final)
        os.replace(tmp, final)
    except BaseException:
        _remove(tmp)
        raise
