"""The numerical methods nwbmotor's converters and analyses share: numpy and scipy only.

Lever movement detection (whole trace and block by block) and the assignment of
movements to trials, the one cued-rewarded rule, the dF/F baseline, calcium event
detection, the one event→frame rule, and the model-comparison metrics. These functions
take and return numpy arrays; they import neither pynwb, h5py nor xarray, so that the
converters (which write NWB) and the analyses (which read xarray views) use the same
code. The xarray forms are in :mod:`nwbmotor.analysis`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.methods._dff import (
        DFF_PRESETS,
        dff_from_fluorescence,
        dff_lab,
        loess_smooth,
    )
    from nwbmotor.methods._events import (
        EVENT_DEFAULTS,
        EVENT_PRESETS,
        events_excitatory,
        events_excitatory_lab,
        events_inhibitory,
        events_inhibitory_lab,
    )
    from nwbmotor.methods._frames import (
        check_frame_times,
        frame_report,
        map_to_frames,
        map_to_regular_frames,
    )
    from nwbmotor.methods._matlab import matlab_loess, matlab_moving_mean
    from nwbmotor.methods._model_metrics import (
        activity_change,
        covariance_change,
        dw_dimensionality,
        output_error,
        participation_ratio,
        principal_angles,
        weight_change,
        with_noise,
    )
    from nwbmotor.methods._movements import (
        DEFAULT_MOVEMENT_PRESET,
        MOVEMENT_PRESETS,
        LeverMovements,
        detect_movements,
        movement_parameters,
    )
    from nwbmotor.methods._movements_blockwise import (
        detect_movements_blockwise,
    )
    from nwbmotor.methods._trials import (
        TrialMovements,
        assign_movements_to_trials,
        cued_rewarded_trials,
        find_cued_movements,
        find_rewarded_movements,
        lever_busy_before,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "DEFAULT_MOVEMENT_PRESET": "nwbmotor.methods._movements",
        "DFF_PRESETS": "nwbmotor.methods._dff",
        "EVENT_DEFAULTS": "nwbmotor.methods._events",
        "EVENT_PRESETS": "nwbmotor.methods._events",
        "LeverMovements": "nwbmotor.methods._movements",
        "MOVEMENT_PRESETS": "nwbmotor.methods._movements",
        "TrialMovements": "nwbmotor.methods._trials",
        "activity_change": "nwbmotor.methods._model_metrics",
        "assign_movements_to_trials": "nwbmotor.methods._trials",
        "check_frame_times": "nwbmotor.methods._frames",
        "covariance_change": "nwbmotor.methods._model_metrics",
        "cued_rewarded_trials": "nwbmotor.methods._trials",
        "detect_movements": "nwbmotor.methods._movements",
        "detect_movements_blockwise": "nwbmotor.methods._movements_blockwise",
        "dff_from_fluorescence": "nwbmotor.methods._dff",
        "dff_lab": "nwbmotor.methods._dff",
        "dw_dimensionality": "nwbmotor.methods._model_metrics",
        "events_excitatory": "nwbmotor.methods._events",
        "events_excitatory_lab": "nwbmotor.methods._events",
        "events_inhibitory": "nwbmotor.methods._events",
        "events_inhibitory_lab": "nwbmotor.methods._events",
        "matlab_loess": "nwbmotor.methods._matlab",
        "matlab_moving_mean": "nwbmotor.methods._matlab",
        "find_cued_movements": "nwbmotor.methods._trials",
        "find_rewarded_movements": "nwbmotor.methods._trials",
        "frame_report": "nwbmotor.methods._frames",
        "lever_busy_before": "nwbmotor.methods._trials",
        "loess_smooth": "nwbmotor.methods._dff",
        "map_to_frames": "nwbmotor.methods._frames",
        "map_to_regular_frames": "nwbmotor.methods._frames",
        "movement_parameters": "nwbmotor.methods._movements",
        "output_error": "nwbmotor.methods._model_metrics",
        "participation_ratio": "nwbmotor.methods._model_metrics",
        "principal_angles": "nwbmotor.methods._model_metrics",
        "weight_change": "nwbmotor.methods._model_metrics",
        "with_noise": "nwbmotor.methods._model_metrics",
    },
)
