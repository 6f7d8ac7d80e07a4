"""Source kind ``model``: outputs of network models (NPZ/HDF5, Stroud MAT, Feulner pickles,
PyTorch), and the NWB writer and reader of :class:`nwbmotor.models.ModelSession`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.converters.model._nwb import (
        MODULE_NAME,
        add_model_session,
        model_metadata,
        model_session_to_nwbfile,
        read_model_session,
        write_model_session,
    )
    from nwbmotor.converters.model.model_interface import (
        FORMATS,
        ModelOutputInterface,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "FORMATS": "nwbmotor.converters.model.model_interface",
        "MODULE_NAME": "nwbmotor.converters.model._nwb",
        "ModelOutputInterface": "nwbmotor.converters.model.model_interface",
        "add_model_session": "nwbmotor.converters.model._nwb",
        "model_metadata": "nwbmotor.converters.model._nwb",
        "model_session_to_nwbfile": "nwbmotor.converters.model._nwb",
        "read_model_session": "nwbmotor.converters.model._nwb",
        "write_model_session": "nwbmotor.converters.model._nwb",
    },
)
