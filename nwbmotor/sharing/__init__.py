"""Sharing: ``inspect`` (pynwb validation + nwbinspector with DANDI's configuration) and
``organize`` (the DANDI layout, ``dandiset.yaml`` and ``dandi validate``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.sharing._inspect import (
        FileReport,
        Finding,
        assert_valid_nwb,
        inspect_file,
        inspect_paths,
    )
    from nwbmotor.sharing._organize import (
        OrganizeResult,
        organize,
        validate_dandiset,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "FileReport": "nwbmotor.sharing._inspect",
        "Finding": "nwbmotor.sharing._inspect",
        "OrganizeResult": "nwbmotor.sharing._organize",
        "assert_valid_nwb": "nwbmotor.sharing._inspect",
        "inspect_file": "nwbmotor.sharing._inspect",
        "inspect_paths": "nwbmotor.sharing._inspect",
        "organize": "nwbmotor.sharing._organize",
        "validate_dandiset": "nwbmotor.sharing._organize",
    },
)
