"""One lazy-export helper for the package namespaces.

A namespace lists its public names once, in a mapping ``name -> defining module``, and
also imports them under ``TYPE_CHECKING`` so that type checkers and IDEs see the real
objects. At run time the defining module is imported on first attribute access only, so
``import nwbmotor`` (and the CLI) stay fast and the heavy libraries (pynwb, NeuroConv,
dask) load when a name that needs them is used.

Examples
--------
>>> from nwbmotor._lazy import attach
>>> __getattr__, __dir__, __all__ = attach("pkg", {"sqrt": "math"})
>>> __getattr__("sqrt")(9.0)
3.0
>>> __all__
['sqrt']
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["attach"]


def attach(
    package: str, exports: Mapping[str, str], *, eager: tuple[str, ...] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Return ``(__getattr__, __dir__, __all__)`` for a namespace with lazy public names.

    Parameters
    ----------
    package : str
        The namespace's ``__name__``; the loaded value is cached in its globals.
    exports : mapping of str to str
        Public name -> absolute name of the module that defines it.
    eager : tuple of str
        Names already bound in the namespace that ``__all__`` also lists.

    Returns
    -------
    tuple
        The module-level ``__getattr__`` and ``__dir__`` functions, and the sorted
        ``__all__`` list.
    """
    names = sorted({*exports, *eager})

    def __getattr__(name: str) -> Any:
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), name)
        namespace = sys.modules.get(package)
        if namespace is not None:
            setattr(namespace, name, value)
        return value

    def __dir__() -> list[str]:
        return list(names)

    return __getattr__, __dir__, names
