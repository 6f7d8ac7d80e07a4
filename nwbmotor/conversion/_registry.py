"""Source kinds: the names a conversion spec uses for each kind of input.

Each kind maps to a NeuroConv ``BaseDataInterface`` subclass, named by import path so
that importing nwbmotor does not import every reader. A spec entry
``sources: {kind: {...}}`` becomes ``Interface(**entry)``. Third-party code can add
kinds with :func:`register_source_kind`.

Two optional hooks extend NeuroConv's interface contract; the session converter calls
them when an interface defines them:

``link_session(self, interfaces: Mapping[str, BaseDataInterface]) -> None``
    Called once, after every interface of the session is built and before any
    ``add_to_nwbfile``: lets an interface read what it needs from the others of the
    same session (the Dispatcher trials need the acquisition bitcodes; movements need
    the lever trace; frame mapping needs the movie's frame count). ``interfaces`` is
    keyed by source kind. Interfaces are linked in order of their ``link_order``
    class attribute (default 0; the acquisition interfaces use -1, since they put the
    movie on the session clock before the segmentation reads its frame times).

``finalize_nwbfile(self, nwbfile_path: Path, backend: str) -> None``
    Called after the file is written and closed, before it is renamed to its final
    name: lets an interface fill datasets it created empty (the parallel movie writer
    writes compressed chunks straight into the file).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from nwbmotor._errors import NwbMotorValueError

if TYPE_CHECKING:
    from neuroconv import BaseDataInterface

__all__ = ["SOURCE_KINDS", "register_source_kind", "get_interface_class"]

_C = "nwbmotor.converters"
SOURCE_KINDS: dict[str, str] = {
    "scanimage": f"{_C}.imaging.scanimage_interface:ScanImageMovieInterface",
    "tiff": f"{_C}.imaging.tiff_interface:TiffMovieInterface",
    "suite2p": f"{_C}.segmentation.suite2p_interface:Suite2pInterface",
    "lab_rois": f"{_C}.segmentation.lab_rois_interface:LabRoisInterface",
    "registration": f"{_C}.segmentation.registration_interface:CellRegistrationInterface",
    "spines": f"{_C}.spines.spines_interface:SpineScoringInterface",
    "xsg": f"{_C}.lever.xsg_interface:XsgLeverInterface",
    "xsglog": f"{_C}.lever.xsglog_interface:XsglogLeverInterface",
    "dispatcher": f"{_C}.lever.dispatcher_interface:DispatcherTrialsInterface",
    "lever_table": f"{_C}.lever.lever_table_interface:LeverTableInterface",
    "optogenetics": f"{_C}.optogenetics.optogenetics_interface:OptogeneticsInterface",
    "model": f"{_C}.model.model_interface:ModelOutputInterface",
}


def register_source_kind(kind: str, target: str) -> None:
    """Add a source kind: ``target`` is ``"package.module:ClassName"``."""
    if ":" not in target:
        raise NwbMotorValueError(f"source kind {kind!r}: target {target!r} must look like 'package.module:Class'")
    SOURCE_KINDS[kind] = target


def get_interface_class(kind: str) -> type[BaseDataInterface]:
    """Import and return the interface class of a source kind.

    Besides the registered kinds, ``neuroconv:<InterfaceName>`` names any of
    NeuroConv's own interfaces (e.g. ``neuroconv:ScanImageImagingInterface``), so a
    spec can mix the lab's formats with every format NeuroConv reads.
    """
    if kind.startswith("neuroconv:"):
        import neuroconv.datainterfaces

        name = kind.partition(":")[2]
        cls = getattr(neuroconv.datainterfaces, name, None)
        if cls is None:
            raise NwbMotorValueError(f"source kind {kind!r}: NeuroConv has no interface named {name!r}")
        return cls
    try:
        target = SOURCE_KINDS[kind]
    except KeyError:
        raise NwbMotorValueError(
            f"unknown source kind {kind!r}; expected one of {sorted(SOURCE_KINDS)}"
        ) from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if cls is None:
        raise NwbMotorValueError(f"source kind {kind!r}: module {module_name!r} has no class {class_name!r}")
    return cls
