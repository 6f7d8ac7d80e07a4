"""Detected lever movements into an NWBFile: ``intervals/movements`` and the trials' movement columns.

The detection itself is :func:`nwbmotor.methods._movements.detect_movements`; this module
only writes its result. The ``MovementsTable`` (ndx-motor-learning) records the preset
and every parameter as JSON, so a reader can redo the detection exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.methods import (
    DEFAULT_MOVEMENT_PRESET as DEFAULT_PRESET,
)
from nwbmotor.methods import (
    LeverMovements,
    TrialMovements,
    assign_movements_to_trials,
    detect_movements,
)

if TYPE_CHECKING:
    from pynwb import NWBFile
    from pynwb.epoch import TimeIntervals

__all__ = ["add_movements_to_nwbfile", "write_movements", "movements_table", "trial_column_name", "TRIAL_MOVEMENT_COLUMNS"]

#: Columns this module adds to an existing trials table, with their descriptions.
TRIAL_MOVEMENT_COLUMNS: dict[str, str] = {
    "movement_onset": (
        "Onset (s) of the trial's rewarded movement: the refined onset of the detected lever movement "
        "containing the reward onset. NaN when the trial was not rewarded or no detected movement contains "
        "the reward."
    ),
    "movement_offset": "Offset (s) of the trial's rewarded movement; NaN as for movement_onset.",
    "cued_rewarded": (
        "The rewarded movement started after the cue, with no lever activity in the "
        "quiet_before_cue_s (default 100 ms) before the cue."
    ),
}

_DESCRIPTION = (
    "Lever movements detected in the lever trace (Peters, Chen & Komiyama 2014 method; preset "
    "'{preset}'): resampled to 1 kHz, low-passed at 5 Hz, active where the Hilbert envelope of the "
    "velocity exceeds the threshold, dilated, gaps filled; onsets/offsets refined by the lab's rule "
    "(presets peters2014, updated) or by nwbmotor's onset fit (preset nwbmotor). "
    "start_time/stop_time are the refined onset and offset. Every parameter is in detection_parameters."
)


def trial_column_name() -> str:
    """Name of the MovementsTable's trial-row column in the loaded ndx-motor-learning spec.

    The spec names it ``trial`` (a 0-based row index, -1 outside every trial); an earlier
    draft called it ``trial_index``. Both are accepted so files follow the loaded spec.
    """
    from nwbmotor.extensions import MovementsTable

    names = [c["name"] for c in MovementsTable.__columns__]
    return "trial_index" if "trial_index" in names else "trial"


def _trial_columns(trials: Any) -> dict[str, np.ndarray]:
    """start/stop/cue/reward times of a trials table (pynwb TimeIntervals) or a mapping of arrays."""
    names = {"start_time": None, "stop_time": None, "cue_time": np.nan, "reward_time": np.nan}
    out: dict[str, np.ndarray] = {}
    colnames = set(getattr(trials, "colnames", ())) | {"start_time", "stop_time"}
    is_table = hasattr(trials, "colnames")
    n = len(trials) if is_table else None
    for name, default in names.items():
        if is_table:
            present = name in colnames
            values = trials[name].data[:] if present else None
        else:
            present = name in trials
            values = trials[name] if present else None
        if values is None:
            if default is None:
                raise NwbMotorValueError(f"trials: column {name!r} is missing; expected start_time and stop_time")
            if n is None:
                n = len(out["start_time"])
            values = np.full(n, default)
        out[name] = np.asarray(values, dtype=np.float64)
    return out


def movements_table(
    moves: LeverMovements,
    *,
    trial_movements: TrialMovements | None = None,
    notes: Sequence[str] = (),
    name: str = "movements",
) -> Any:
    """Build the ndx-motor-learning ``MovementsTable`` of detected movements.

    Parameters
    ----------
    moves : LeverMovements
        Output of :func:`nwbmotor.methods._movements.detect_movements`.
    trial_movements : TrialMovements, optional
        Movement-to-trial assignment; fills ``rewarded``, ``cued`` (False otherwise) and
        ``trial_index`` (-1 otherwise).
    notes : sequence of str
        Remarks about the input (e.g. padding left out), recorded in the parameters JSON
        and the description.
    name : str, default "movements"

    Returns
    -------
    MovementsTable
    """
    from hdmf.common import VectorData

    from nwbmotor.extensions import MovementsTable

    n = len(moves)
    if trial_movements is not None:
        rewarded, cued = trial_movements.rewarded, trial_movements.cued
    else:
        rewarded = cued = np.zeros(n, dtype=bool)
    params = json.loads(moves.parameters_json())
    params["noise_volts"] = moves.noise
    params["sample_rate_hz"] = moves.sample_rate
    if notes:
        params["notes"] = list(notes)
    description = _DESCRIPTION.format(preset=moves.preset)
    if notes:
        description += " Notes: " + " ".join(notes)
    columns = [
        VectorData(name="start_time", description="Refined movement onset, in seconds.", data=moves.onset_times),
        VectorData(name="stop_time", description="Refined movement offset, in seconds.", data=moves.offset_times),
        VectorData(
            name="peak_amplitude",
            description="Largest lever deflection from the onset value during the movement, in volts.",
            data=moves.peak_amplitudes,
        ),
        VectorData(name="rewarded", description="True for the movement that earned its trial's reward.", data=rewarded),
        VectorData(
            name="cued",
            description=(
                "True when the movement is the first to start after its trial's cue, with no lever "
                "activity in the 100 ms before the cue."
            ),
            data=cued,
        ),
    ]
    trial_index = trial_movements.trial if trial_movements is not None else np.full(n, -1, dtype=np.int64)
    columns.append(
        VectorData(
            name=trial_column_name(),
            description=(
                "Row index (0-based) of the trial in the file's trials table during which the movement "
                "starts; -1 outside every trial (or when the session has no trials)."
            ),
            data=np.asarray(trial_index, dtype=np.int64),
        )
    )
    return MovementsTable(
        name=name,
        description=description,
        detection_preset=moves.preset,
        detection_parameters=json.dumps(params, sort_keys=True),
        columns=columns,
    )


def add_movements_to_nwbfile(
    nwbfile: NWBFile,
    lever_volts: ArrayLike,
    sample_rate: float,
    *,
    preset: str = DEFAULT_PRESET,
    overrides: Mapping[str, Any] | None = None,
    trials: TimeIntervals | Mapping[str, ArrayLike] | None = None,
    start_time: float = 0.0,
    quiet_before_cue_s: float = 0.1,
    notes: Sequence[str] = (),
    **more_overrides: Any,
) -> tuple[LeverMovements, TrialMovements | None]:
    """Detect lever movements and write ``intervals/movements`` (and the trials' movement columns).

    Parameters
    ----------
    nwbfile : pynwb.NWBFile
    lever_volts : array_like of shape (n_samples,)
        The lever trace in volts as recorded (finite; see ``nan_policy``).
    sample_rate : float
        Its sample rate in Hz.
    preset : {"nwbmotor", "peters2014", "updated"}
    overrides : mapping, optional
        Detection parameters to change (also accepted as keyword arguments).
    trials : pynwb TimeIntervals or mapping of arrays, optional
        The session's trials (``start_time``, ``stop_time``, ``cue_time``,
        ``reward_time`` — NaN where absent). A TimeIntervals (e.g. ``nwbfile.trials``)
        gets the columns ``movement_onset``, ``movement_offset`` and ``cued_rewarded``;
        the movements' ``trial_index`` gives the row of the trial they start in.
    start_time : float, default 0.0
        Session time of the first lever sample.
    quiet_before_cue_s : float, default 0.1
    notes : sequence of str
        Remarks about the input, recorded with the parameters.

    Returns
    -------
    (LeverMovements, TrialMovements or None)

    Raises
    ------
    NwbMotorValueError
        If the file already has ``intervals/movements`` or the trials table already has
        one of the movement columns, or for any detection error (NaN in the lever, ...).

    Examples
    --------
    >>> from nwbmotor.testing import mock_nwbfile, synthesize_lever_trace
    >>> nwbfile = mock_nwbfile()
    >>> trace, truth = synthesize_lever_trace(30.0, n_movements=4, seed=1, press_styles={"typical": 1})
    >>> moves, _ = add_movements_to_nwbfile(nwbfile, trace, 10_000.0)
    >>> len(nwbfile.intervals["movements"])
    4
    """
    _check_no_movements(nwbfile)
    params = {**dict(overrides or {}), **more_overrides}
    moves = detect_movements(lever_volts, sample_rate, preset=preset, start_time=start_time, **params)
    return write_movements(nwbfile, moves, trials=trials, quiet_before_cue_s=quiet_before_cue_s, notes=notes)


def _check_no_movements(nwbfile: NWBFile) -> None:
    if "movements" in (nwbfile.intervals or {}):
        raise NwbMotorValueError("the NWB file already has intervals/movements; expected one movement source")


def write_movements(
    nwbfile: NWBFile,
    moves: LeverMovements,
    *,
    trials: TimeIntervals | Mapping[str, ArrayLike] | None = None,
    quiet_before_cue_s: float = 0.1,
    notes: Sequence[str] = (),
) -> tuple[LeverMovements, TrialMovements | None]:
    """Write detected movements: ``intervals/movements`` and, with ``trials``, the trials' movement columns.

    The second half of :func:`add_movements_to_nwbfile`, for movements detected
    elsewhere (e.g. block by block with ``detect_movements_blockwise``).

    Parameters
    ----------
    nwbfile : pynwb.NWBFile
    moves : LeverMovements
    trials, quiet_before_cue_s, notes
        As for :func:`add_movements_to_nwbfile`.

    Returns
    -------
    (LeverMovements, TrialMovements or None)

    Examples
    --------
    >>> from nwbmotor.methods import detect_movements
    >>> from nwbmotor.testing import mock_nwbfile, synthesize_lever_trace
    >>> trace, truth = synthesize_lever_trace(30.0, n_movements=4, seed=1, press_styles={"typical": 1})
    >>> nwbfile = mock_nwbfile()
    >>> _ = write_movements(nwbfile, detect_movements(trace, 10_000.0))
    >>> len(nwbfile.intervals["movements"])
    4
    """
    _check_no_movements(nwbfile)
    trial_movements = None
    if trials is not None:
        cols = _trial_columns(trials)
        trial_movements = assign_movements_to_trials(
            moves.onset_times,
            moves.offset_times,
            start_times=cols["start_time"],
            stop_times=cols["stop_time"],
            cue_times=cols["cue_time"],
            reward_times=cols["reward_time"],
            quiet_before_cue_s=quiet_before_cue_s,
        )
        if hasattr(trials, "add_column"):
            clash = sorted(set(TRIAL_MOVEMENT_COLUMNS) & set(trials.colnames))
            if clash:
                raise NwbMotorValueError(
                    f"trials: column(s) {clash} exist already; movements fill them, expected them absent"
                )
            values = {
                "movement_onset": trial_movements.movement_onset,
                "movement_offset": trial_movements.movement_offset,
                "cued_rewarded": trial_movements.cued_rewarded,
            }
            for name, doc in TRIAL_MOVEMENT_COLUMNS.items():
                trials.add_column(name=name, description=doc, data=values[name])
    table = movements_table(moves, trial_movements=trial_movements, notes=notes)
    nwbfile.add_time_intervals(table)
    return moves, trial_movements
