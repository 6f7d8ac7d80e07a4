"""NWB Zarr stores (hdmf-zarr) seen through the small part of h5py's API the views use.

hdmf-zarr writes the same hierarchy as HDF5 with three differences this adapter hides:
object references are attributes ``{"zarr_dtype": "object", "value": {"path": ...}}``,
links are listed in a group's ``zarr_link`` attribute, and scalar datasets are arrays
of shape (1,) (read them with :func:`scalar`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ZarrFile", "ZarrArray", "ZarrGroup", "is_zarr_store", "scalar"]


def is_zarr_store(path: Path) -> bool:
    """True for a folder that is a Zarr (v2) store."""
    return path.is_dir() and ((path / ".zgroup").exists() or (path / "zarr.json").exists())


def scalar(value: Any) -> Any:
    """The single value of a scalar dataset read from HDF5 (shape ()) or Zarr (shape (1,))."""
    arr = np.asarray(value)
    return arr.reshape(-1)[0] if arr.size == 1 else value


class ZarrArray:
    """A Zarr array with h5py's ``name``/``shape``/``dtype``/``chunks``/``attrs`` and indexing."""

    def __init__(self, array: Any, name: str) -> None:
        self.array = array
        self.name = name
        self.attrs = array.attrs
        self.shape = tuple(array.shape)
        self.dtype = array.dtype
        self.ndim = len(self.shape)
        self.chunks = tuple(array.chunks)

    def __getitem__(self, key: Any) -> np.ndarray:
        if key == () or key is Ellipsis:
            return self.array[...]
        if isinstance(key, (list, np.ndarray)):
            return self.array.oindex[np.asarray(key)]
        if isinstance(key, tuple) and any(isinstance(k, (list, np.ndarray)) for k in key):
            return self.array.oindex[key]
        return self.array[key]

    def read_outer(self, key: tuple) -> np.ndarray:
        """Orthogonal selection: one slice or integer array per dimension."""
        return self.array.oindex[tuple(np.asarray(k) if not isinstance(k, slice) else k for k in key)]


class ZarrGroup:
    """A Zarr group that resolves paths, hdmf-zarr links and object references like h5py."""

    def __init__(self, group: Any, root: ZarrFile) -> None:
        self.group = group
        self.root = root
        self.name = group.name
        self.attrs = group.attrs

    def _links(self) -> dict[str, str]:
        return {link["name"]: link["path"] for link in self.attrs.get("zarr_link", []) if "name" in link}

    def _wrap(self, item: Any, name: str) -> ZarrGroup | ZarrArray:
        if hasattr(item, "oindex"):
            return ZarrArray(item, name)
        return ZarrGroup(item, self.root)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        yield from self.group.keys()
        yield from self._links()

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except (KeyError, ValueError, TypeError):
            return default

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, dict):  # an hdmf-zarr object reference
            return self.root[key.get("value", key)["path"]]
        key = str(key)
        if key.startswith("/"):
            return self.root[key.lstrip("/")] if key.strip("/") else self.root
        head, _, rest = key.partition("/")
        links = self._links()
        if head in links:
            target = self.root[links[head]]
        else:
            item = self.group[head]  # KeyError when absent
            target = self._wrap(item, f"{self.name.rstrip('/')}/{head}")
        return target[rest] if rest else target


class ZarrFile(ZarrGroup):
    """The root of an NWB Zarr store, opened read-only; ``close`` is a no-op."""

    def __init__(self, path: str, mode: str = "r") -> None:
        import zarr

        self.filename = str(path)
        super().__init__(zarr.open_group(str(path), mode=mode), self)

    def close(self) -> None:
        """Nothing to release: Zarr opens chunk files per read."""
