"""Optogenetics: ndx-optogenetics metadata and light epochs (source kind ``optogenetics``)."""

from __future__ import annotations

from nwbmotor.converters.optogenetics._epochs import LightEpochs, measure_epochs, pulse_trains
from nwbmotor.converters.optogenetics.optogenetics_interface import OptogeneticsInterface

__all__ = ["LightEpochs", "OptogeneticsInterface", "measure_epochs", "pulse_trains"]
