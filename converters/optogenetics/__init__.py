"""Optogenetics: ndx-optogenetics metadata and light epochs (source kind ``optogenetics``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.converters.optogenetics._epochs import (
        LightEpochs,
        epochs_from_states,
        measure_epochs,
        pulse_trains,
    )
    from nwbmotor.converters.optogenetics.optogenetics_interface import (
        OptogeneticsInterface,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "LightEpochs": "nwbmotor.converters.optogenetics._epochs",
        "OptogeneticsInterface": "nwbmotor.converters.optogenetics.optogenetics_interface",
        "epochs_from_states": "nwbmotor.converters.optogenetics._epochs",
        "measure_epochs": "nwbmotor.converters.optogenetics._epochs",
        "pulse_trains": "nwbmotor.converters.optogenetics._epochs",
    },
)
