"""Reading ``.npy`` files that hold pickled objects without ever running their code.

Suite2p saves ``stat.npy`` (an object array of dicts) and ``ops.npy`` (a dict wrapped in
a 0-d object array) with ``np.save``; NumPy stores such arrays as a pickle. Loading
them with ``np.load(..., allow_pickle=True)`` executes whatever the pickle asks for,
so a hostile file runs arbitrary code. :func:`load_npy` reads the ``.npy`` header
itself and unpickles the payload with an unpickler that can build only plain data:
NumPy arrays, dtypes and scalars, and the builtin containers, strings, numbers,
booleans and None. Any other global a pickle names (``os.system``, ``builtins.eval``,
``subprocess.Popen``...) is refused *before* it is looked up, so nothing runs.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from nwbmotor._errors import NwbMotorValueError

__all__ = ["UnsafePickleError", "NpyRows", "load_npy", "restricted_loads"]

#: (module, name) pairs a Suite2p pickle may name. Both the NumPy 1 (``numpy.core``) and
#: NumPy 2 (``numpy._core``) module paths, since files outlive the NumPy that wrote them.
_ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    [
        (m, n)
        for m in ("numpy.core.multiarray", "numpy._core.multiarray")
        for n in ("_reconstruct", "scalar")
    ]
    + [(m, "_frombuffer") for m in ("numpy.core.numeric", "numpy._core.numeric")]
    + [("numpy", "ndarray"), ("numpy", "dtype")]
    # dtype classes NumPy >= 1.25 may name when pickling a dtype (numpy.dtypes.Float64DType, ...)
    + [("numpy.dtypes", n) for n in dir(np.dtypes) if n.endswith("DType")]
    # protocol-2 pickles of sets/complex; plain data only
    + [("builtins", n) for n in ("set", "frozenset", "complex", "slice", "range", "bytearray")]
    # (bytearray is built through _bounded_bytearray: bytearray(2**42) must not allocate 4 TiB)
    + [("copy_reg", "_reconstructor"), ("__builtin__", "set")]
    # protocol-2 pickles store the bytes of an array as _codecs.encode(text, "latin1")
    + [("_codecs", "encode")]
)


class UnsafePickleError(NwbMotorValueError):
    """A pickle asked for something other than plain data; nothing was executed."""


def _allowed_object(module: str, name: str) -> Any:
    if module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        return getattr(np._core.multiarray, name)
    if module in ("numpy.core.numeric", "numpy._core.numeric"):
        return getattr(np._core.numeric, name)
    if module == "numpy":
        return getattr(np, name)
    if module == "numpy.dtypes":
        return getattr(np.dtypes, name)
    if (module, name) in {("builtins", "bytearray"), ("__builtin__", "bytearray")}:
        return _bounded_bytearray
    if module in ("builtins", "__builtin__"):
        import builtins

        return getattr(builtins, name)
    if (module, name) == ("_codecs", "encode"):
        import codecs

        return codecs.encode
    if (module, name) == ("copy_reg", "_reconstructor"):
        import copyreg

        return copyreg._reconstructor
    raise AssertionError((module, name))  # pragma: no cover - guarded by _ALLOWED_GLOBALS


#: largest bytearray a pickle may ask to allocate from a number (its data are given otherwise)
_MAX_EMPTY_BYTEARRAY = 1 << 20


def _bounded_bytearray(*args: Any) -> bytearray:
    if args and isinstance(args[0], int) and args[0] > _MAX_EMPTY_BYTEARRAY:
        raise UnsafePickleError(
            f"refused to unpickle: the file asks for an empty buffer of {args[0]} bytes (at most "
            f"{_MAX_EMPTY_BYTEARRAY} expected); nothing was allocated"
        )
    return bytearray(*args)


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        super().__init__(file, fix_imports=True, encoding="latin1")
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise UnsafePickleError(
                f"{self._source}: refused to unpickle: the file asks for {module}.{name}, "
                "but only NumPy arrays, dtypes and scalars, dicts, lists, tuples, strings, "
                "numbers, booleans and None are allowed (nothing was executed). The file is "
                "not plain Suite2p output; re-export it from Suite2p or check where it came from."
            )
        return _allowed_object(module, name)

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(
            f"{self._source}: refused to unpickle: persistent ids are not allowed"
        )


def restricted_loads(data: bytes, *, source: str = "<bytes>") -> Any:
    """Unpickle ``data`` admitting only plain data (NumPy arrays and builtin containers).

    Parameters
    ----------
    data : bytes
        A pickle.
    source : str
        Name used in error messages (usually the file path).

    Returns
    -------
    object
        The unpickled value.

    Raises
    ------
    UnsafePickleError
        If the pickle names any global outside the allowed set; nothing is executed.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> restricted_loads(pickle.dumps({"fs": 30.0, "meanImg": np.zeros(2)}))["fs"]
    30.0
    >>> import os
    >>> class Evil:
    ...     def __reduce__(self):
    ...         return (os.getcwd, ())
    >>> try:
    ...     restricted_loads(pickle.dumps(Evil()))
    ... except UnsafePickleError as err:
    ...     print(str(err)[:60])
    <bytes>: refused to unpickle: the file asks for posix.getcwd
    """
    return _unpickle(io.BytesIO(data), source)


def _unpickle(fh: io.BufferedIOBase, source: str) -> Any:
    try:
        return _RestrictedUnpickler(fh, source).load()
    except UnsafePickleError as exc:
        if str(exc).startswith(source):
            raise
        raise UnsafePickleError(f"{source}: {exc}") from None
    except MemoryError:
        raise NwbMotorValueError(
            f"{source}: the pickled content asks for more memory than there is; expected plain Suite2p output"
        ) from None
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
    ) as exc:
        raise NwbMotorValueError(
            f"{source}: the pickled content is corrupt or truncated ({type(exc).__name__}: {exc})"
        ) from None


def _read_header(fh: io.BufferedIOBase, source: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = npy_format.read_magic(fh)
        if version == (1, 0):
            return npy_format.read_array_header_1_0(fh)
        if version == (2, 0):
            return npy_format.read_array_header_2_0(fh)
        return npy_format._read_array_header(fh, version)  # (3, 0): utf-8 header
    except (ValueError, OSError, SyntaxError) as exc:
        raise NwbMotorValueError(f"{source}: not a valid .npy file ({exc})") from None


class NpyRows:
    """A read-only 2-D ``.npy`` array read row block by row block with ``os.pread``.

    A memory map of a file that shrinks (truncated or rewritten while a conversion
    reads it) kills the process with SIGBUS on the first missing page; a positional
    read returns short instead, which is reported as an error naming the file.
    Supports what the converters need: ``shape``, ``dtype``, ``ndim``, ``len``,
    slicing (``a[i:j]``, ``a[i:j, k:l]``, ``a[i]``) and ``np.asarray``.
    """

    def __init__(self, path: Path, shape: tuple[int, ...], dtype: np.dtype, offset: int) -> None:
        self.path = path
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self._offset = offset
        self._row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def _rows(self, start: int, stop: int) -> np.ndarray:
        n = max(stop - start, 0)
        want = n * self._row_bytes
        out = np.empty((n, *self.shape[1:]), dtype=self.dtype)
        if want == 0:
            return out
        view = memoryview(out.reshape(-1).view(np.uint8))
        fd = os.open(self.path, os.O_RDONLY)
        try:
            got = 0
            while got < want:
                chunk = os.preadv(fd, [view[got:]], self._offset + start * self._row_bytes + got)
                if chunk <= 0:
                    raise NwbMotorValueError(
                        f"{self.path}: truncated while being read (rows {start}..{stop - 1} of {self.shape[0]} "
                        "are missing); expected the file not to change during the conversion: rerun it"
                    )
                got += chunk
        finally:
            os.close(fd)
        return out

    def __getitem__(self, key: Any) -> np.ndarray:
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if isinstance(first, (int, np.integer)):
            i = int(first) + (self.shape[0] if first < 0 else 0)
            if not 0 <= i < self.shape[0]:
                raise IndexError(f"index {first} is out of bounds for {self.shape[0]} rows")
            block = self._rows(i, i + 1)[0]
            return block[rest] if rest else block
        if isinstance(first, slice):
            start, stop, step = first.indices(self.shape[0])
            if step != 1:
                return np.asarray(self)[key]
            block = self._rows(start, stop)
            return block[(slice(None), *rest)] if rest else block
        return np.asarray(self)[key]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self._rows(0, self.shape[0])
        return out if dtype is None else out.astype(dtype)


def load_npy(path: str | os.PathLike[str], *, mmap: bool = False) -> Any:
    """Load a ``.npy`` file; pickled (object) content goes through the restricted unpickler.

    Parameters
    ----------
    path : str or PathLike
        The file.
    mmap : bool, default False
        Return numeric arrays as an :class:`NpyRows` that reads row blocks on demand
        instead of reading them whole (ignored for object arrays). Never a memory map:
        a file truncated while mapped would kill the process with SIGBUS.

    Returns
    -------
    ndarray or object
        The array. A 0-d object array (how ``np.save`` stores a dict) is unwrapped to
        its content, as Suite2p's ``np.load(...).item()`` would.

    Raises
    ------
    NwbMotorValueError
        If the file is not a ``.npy`` file or is truncated.
    UnsafePickleError
        If the pickle names anything but plain data.

    Examples
    --------
    >>> import tempfile, numpy as np, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ops.npy"
    >>> np.save(p, {"fs": 30.0}, allow_pickle=True)
    >>> load_npy(p)
    {'fs': 30.0}
    """
    path = Path(path)
    source = str(path)
    with open(path, "rb") as fh:
        shape, _fortran_order, dtype = _read_header(fh, source)
        if not dtype.hasobject:
            offset = fh.tell()
        else:
            value = _unpickle(fh, source)
            if not isinstance(value, np.ndarray):
                raise NwbMotorValueError(
                    f"{source}: expected a pickled NumPy array, got {type(value).__name__}"
                )
            if value.shape != tuple(shape):
                raise NwbMotorValueError(
                    f"{source}: header says shape {tuple(shape)}, the pickle holds {value.shape}"
                )
            return value.item() if value.ndim == 0 else value
    n_items = int(np.prod(shape))
    expected = offset + n_items * dtype.itemsize
    size = path.stat().st_size
    if size < expected:
        raise NwbMotorValueError(
            f"{source}: truncated: the header says {tuple(shape)} {dtype} ({expected} bytes), the file has {size}"
        )
    if mmap and n_items and not _fortran_order and len(shape) >= 1:
        return NpyRows(path, tuple(shape), dtype, offset)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise NwbMotorValueError(f"{source}: cannot be read as .npy ({type(exc).__name__}: {str(exc)[:100]})") from None
