"""Source kind ``model``: outputs of network models (NPZ/HDF5, Stroud MAT, Feulner pickles, PyTorch)."""

from __future__ import annotations

from nwbmotor.converters.model.model_interface import FORMATS, ModelOutputInterface

__all__ = ["FORMATS", "ModelOutputInterface"]
