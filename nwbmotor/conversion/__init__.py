"""Conversion: the YAML spec, the shared metadata model, the source-kind registry, ``convert``.

``convert(spec)`` validates a spec, builds each session's interfaces (one per source kind,
see :data:`SOURCE_KINDS`), links them through NeuroConv's temporal alignment, and writes
one NWB file per session, atomically.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.conversion._convert import (
        ConversionResult,
        SessionOutcome,
        build_interfaces,
        build_nwbfile,
        convert,
        convert_session,
    )
    from nwbmotor.conversion._metadata import (
        SessionMetadata,
        SharedMetadata,
        SubjectMetadata,
        to_neuroconv_metadata,
    )
    from nwbmotor.conversion._registry import (
        SOURCE_KINDS,
        get_interface_class,
        register_source_kind,
    )
    from nwbmotor.conversion._spec import (
        ConversionSpec,
        SessionSpec,
        load_spec,
        session_file_name,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "ConversionResult": "nwbmotor.conversion._convert",
        "ConversionSpec": "nwbmotor.conversion._spec",
        "SOURCE_KINDS": "nwbmotor.conversion._registry",
        "SessionMetadata": "nwbmotor.conversion._metadata",
        "SessionOutcome": "nwbmotor.conversion._convert",
        "SessionSpec": "nwbmotor.conversion._spec",
        "SharedMetadata": "nwbmotor.conversion._metadata",
        "SubjectMetadata": "nwbmotor.conversion._metadata",
        "build_interfaces": "nwbmotor.conversion._convert",
        "build_nwbfile": "nwbmotor.conversion._convert",
        "convert": "nwbmotor.conversion._convert",
        "convert_session": "nwbmotor.conversion._convert",
        "get_interface_class": "nwbmotor.conversion._registry",
        "load_spec": "nwbmotor.conversion._spec",
        "register_source_kind": "nwbmotor.conversion._registry",
        "session_file_name": "nwbmotor.conversion._spec",
        "to_neuroconv_metadata": "nwbmotor.conversion._metadata",
    },
)
