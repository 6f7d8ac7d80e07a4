"""Behaviour-rig sessions in the rig's own file formats, with the truth planted in them.

:func:`write_rig_session` writes what an Ephus + Dispatcher rig leaves on disk for one
session of the cued lever-press task (formats documented in the project's formats
notes): the acquisition (continuous ``.xsglog`` raw channels, or per-acquisition
``.xsg`` MAT files) and the Dispatcher file ``data_@lever2p_<exp>_<animal>_<date>.mat``
with its parsed events, catch flags, ``saved``/``saved_autoset`` structs and MATLAB
``StateMachineAssembler`` objects that scipy cannot decode. Two clocks run: the
acquisition board (the session clock, t = 0 at its first sample) and the Dispatcher
clock, which is offset and drifts; the state machine loses a little time per state, so
the bitcode's bit pitch is longer than 10 ms and jitters.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.testing._matv5 import MatlabClassObject, savemat_with_objects

__all__ = ["RigSessionTruth", "bitcode_trace", "write_rig_session"]

_HIGH = 5.0  # TTL high level, volts


@dataclasses.dataclass(frozen=True, eq=False)
class RigSessionTruth:
    """What :func:`write_rig_session` planted. Times in seconds; ``*_times`` in the
    session clock (acquisition, t = 0 at the first sample of the first file),
    ``dispatcher_*`` on the Dispatcher clock; NaN where an event did not occur.

    Attributes
    ----------
    folder, dispatcher_path : Path
    acquisition_paths : list of Path
        The ``.xsglog`` channel files, or the ``.xsg`` files in order.
    kind : {"xsglog", "xsg"}
    sample_rate : float
    n_samples : int
        Samples per channel (xsglog) or in all files together (xsg).
    trial_numbers : ndarray of int64
    start_times, stop_times, cue_times, reward_times : ndarray
        Session clock. ``start_times`` are the bitcode sync edges (sample times).
    dispatcher_start_times, dispatcher_stop_times, dispatcher_cue_times, dispatcher_reward_times : ndarray
    rewarded, catch, opto : ndarray of bool
    opto_on : ndarray of shape (n_trials, 2)
        The ``opto_on`` state, session clock (NaN rows when off).
    opto_pulse_times : ndarray
        Rising edges of the Opto TTL (sample times; empty without opto).
    movement_onsets, movement_offsets : ndarray
        Planted lever movements (press onsets and offsets), session clock.
    press_movement : ndarray of int64, shape (n_trials,)
        Index of each trial's planted press, -1 when the mouse did not press.
    frame_times : ndarray
        Frame pulse rising edges (sample times); empty for ``kind="xsg"``.
    n_movie_frames : int
        Frames the movie has (pulses + ``movie_frame_difference``).
    bit_pitch : float
    slope, offset : float
        ``session = offset + slope * dispatcher`` is the true clock relation.
    file_start_times : ndarray
        Session time of the first sample of each acquisition file.
    lever : ndarray, optional
        The lever trace as written (volts, all samples in order), from
        :func:`~nwbmotor.testing.synthesize_lever_trace`.
    """

    folder: Path
    dispatcher_path: Path
    acquisition_paths: list[Path]
    kind: str
    sample_rate: float
    n_samples: int
    trial_numbers: NDArray[np.int64]
    start_times: NDArray[np.float64]
    stop_times: NDArray[np.float64]
    cue_times: NDArray[np.float64]
    reward_times: NDArray[np.float64]
    dispatcher_start_times: NDArray[np.float64]
    dispatcher_stop_times: NDArray[np.float64]
    dispatcher_cue_times: NDArray[np.float64]
    dispatcher_reward_times: NDArray[np.float64]
    rewarded: NDArray[np.bool_]
    catch: NDArray[np.bool_]
    opto: NDArray[np.bool_]
    opto_on: NDArray[np.float64]
    opto_pulse_times: NDArray[np.float64]
    movement_onsets: NDArray[np.float64]
    movement_offsets: NDArray[np.float64]
    press_movement: NDArray[np.int64]
    frame_times: NDArray[np.float64]
    n_movie_frames: int
    bit_pitch: float
    slope: float
    offset: float
    file_start_times: NDArray[np.float64]
    lever: NDArray[np.float64] | None = None

    @property
    def drift_ppm(self) -> float:
        """How much faster the session clock runs than the Dispatcher clock, ppm."""
        return (self.slope - 1.0) * 1e6

    def to_session(self, dispatcher_times: NDArray[np.float64]) -> NDArray[np.float64]:
        """The true session time of Dispatcher times."""
        return self.offset + self.slope * np.asarray(dispatcher_times, dtype=np.float64)


def bitcode_trace(
    trial_number: int,
    sample_rate: float = 10_000.0,
    *,
    bit_pitch: float = 0.010,
    jitter: float = 0.0,
    n_bits: int = 12,
    lead: float = 0.01,
    seed: int = 0,
) -> NDArray[np.float64]:
    """One trial bitcode as the rig writes it: a 5 ms sync then 12 bits (MSB first).

    Parameters
    ----------
    trial_number : int
        0 .. 2**n_bits - 1.
    sample_rate : float
    bit_pitch : float, default 0.010
        Slot + gap duration, s (the state machine makes it 10-10.2 ms).
    jitter : float, default 0
        Relative standard deviation of each 5 ms state's duration.
    lead : float
        Low time before the sync, s.

    Returns
    -------
    ndarray
        Volts (0 or 5), ``lead`` + 150 ms long.

    Examples
    --------
    >>> from nwbmotor.converters.lever._bitcode import decode_bitcodes
    >>> decode_bitcodes(bitcode_trace(1234), 10_000.0).trial_numbers
    array([1234])
    """
    if not 0 <= trial_number < 2**n_bits:
        raise NwbMotorValueError(f"trial_number must be in [0, {2**n_bits}); got {trial_number}")
    rng = np.random.default_rng(seed)
    x = np.zeros(int(round((lead + 0.15 + n_bits * (bit_pitch - 0.010)) * sample_rate)))
    edges = _code_edges(trial_number, lead, bit_pitch, jitter, n_bits, rng)
    _pulses(x, edges, 0.005, sample_rate)
    return x


def _code_edges(number: int, sync: float, pitch: float, jitter: float, n_bits: int, rng: np.random.Generator) -> list[float]:
    """Rising-edge times of one code: the 5 ms sync, then per bit a gap and a slot.

    Every state lasts ``pitch / 2`` (5 ms plus the state machine's loss) times
    ``1 + jitter * N(0, 1)``; bit ``k`` (0-based) rises at the start of state ``2k + 2``.
    """
    half = np.full(2 * n_bits + 1, pitch / 2) * (1.0 + jitter * rng.standard_normal(2 * n_bits + 1))
    starts = sync + np.concatenate(([0.0], np.cumsum(half)))
    edges = [sync]
    for k in range(n_bits):
        if (number >> (n_bits - 1 - k)) & 1:
            edges.append(float(starts[2 * k + 2]))
    return edges


def _pulses(x: NDArray[np.float64], times: list[float] | NDArray[np.float64], width: float, rate: float,
            offset: int = 0) -> NDArray[np.float64]:
    """Set 5 V pulses starting at ``times`` (s); return the rising-edge sample times."""
    idx = np.ceil(np.asarray(times, dtype=np.float64) * rate - 1e-9).astype(np.int64) - offset
    w = max(1, int(round(width * rate)))
    for i in idx:
        if 0 <= i < len(x):
            x[i : i + w] = _HIGH
    return (idx + offset) / rate


def _empty_state(rng: np.random.Generator) -> NDArray[np.float64]:
    # Dispatcher writes states that did not occur as zeros(0, 2) or, after edits, []
    return np.zeros((0, 2)) if rng.random() < 0.7 else np.zeros((0, 0))


def write_rig_session(
    folder: str | os.PathLike[str],
    *,
    n_trials: int = 20,
    kind: str = "xsglog",
    sample_rate: float = 10_000.0,
    bit_pitch_ms: float = 10.2,
    jitter: float = 0.01,
    frame_rate: float = 28.0,
    opto_fraction: float = 0.0,
    catch_fraction: float = 0.1,
    press_probability: float = 0.85,
    opto_press_probability: float | None = None,
    drift_ppm: float = 40.0,
    dispatcher_offset: float = 1234.5,
    response_window: float = 3.0,
    iti_range: tuple[float, float] = (2.0, 4.0),
    opto_duration: float = 1.0,
    opto_pulse_hz: float = 20.0,
    opto_pulse_width: float = 0.01,
    movie_frame_difference: int = 0,
    trials_per_file: int = 5,
    prefix: str = "AP0071AAAA0001",
    experimenter: str = "AP",
    animal: str = "AP071",
    date: str = "140301a",
    first_trial: int = 1,
    n_dispatcher_trials: int | None = None,
    seed: int = 0,
    lever_options: dict[str, Any] | None = None,
) -> RigSessionTruth:
    """Write one rig session (acquisition + Dispatcher files) and return the truth.

    Parameters
    ----------
    folder : path
        Created if needed; files are written into it.
    n_trials : int, default 20
    kind : {"xsglog", "xsg"}
        Continuous raw channels (``Lever``, ``Trial_number``, ``Frame``,
        ``Lever_touch`` and, with opto trials, ``Opto``) or per-block ``.xsg`` files
        (``trace_1`` bitcode, ``trace_2`` lever) with gaps between acquisitions.
    sample_rate : float, default 10 kHz
    bit_pitch_ms : float, default 10.2
        Bitcode slot + gap, ms (the state machine's time loss makes it > 10).
    jitter : float, default 0.01
        Relative standard deviation of each bitcode state's duration.
    frame_rate : float, default 28
        Microscope frames/s (xsglog only).
    opto_fraction : float, default 0
        Fraction of trials with light (``opto_on`` state from cue onset for
        ``opto_duration`` s; the Opto TTL pulses at ``opto_pulse_hz``).
    catch_fraction : float, default 0.1
        Fraction of catch trials (cue, but no reward).
    opto_press_probability : float, optional
        Chance the mouse presses on a light trial (light silences the area, so lower
        than ``press_probability``); default: the same as on other trials.
    press_probability : float, default 0.85
        Chance the mouse presses after the cue (presses may stay below the reward
        threshold: partial presses).
    drift_ppm : float, default 40
        The session clock runs this much faster than the Dispatcher clock.
    dispatcher_offset : float, default 1234.5
        Dispatcher time at session time 0, s.
    response_window : float, default 3
    iti_range : (float, float)
    movie_frame_difference : int, default 0
        Movie frames minus frame pulses (negative: dropped movie frames).
    trials_per_file : int, default 5
        Trials per ``.xsg`` acquisition.
    prefix, experimenter, animal, date : str
        Name parts of the files.
    first_trial : int, default 1
        Trial number of the first trial.
    n_dispatcher_trials : int, optional
        Write only the first trials to the Dispatcher file (a file saved before the
        session ended); the truth still describes every trial.
    seed : int
    lever_options : dict, optional
        Passed to :func:`~nwbmotor.testing.synthesize_lever_trace` (e.g.
        ``{"press_styles": {"fast": 1, "slow": 1, "double": 1}, "drift_amplitude": 0.02}``):
        the press shapes, drift and noise of the lever trace.

    Returns
    -------
    RigSessionTruth

    Examples
    --------
    >>> import tempfile
    >>> truth = write_rig_session(tempfile.mkdtemp(), n_trials=3, seed=1)
    >>> truth.trial_numbers
    array([1, 2, 3])
    >>> sorted(p.name for p in truth.acquisition_paths)[:2]
    ['AP0071AAAA0001_Frame.xsglog', 'AP0071AAAA0001_Lever.xsglog']
    """
    from nwbmotor.testing._lever import synthesize_lever_trace

    if kind not in ("xsglog", "xsg"):
        raise NwbMotorValueError(f"kind must be 'xsglog' or 'xsg'; got {kind!r}")
    if n_trials < 1 or first_trial + n_trials > 4096:
        raise NwbMotorValueError(f"n_trials must be >= 1 with trial numbers < 4096; got {n_trials}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    fs = float(sample_rate)
    pitch = bit_pitch_ms / 1000.0
    code_len = 0.005 + 12 * pitch + 0.005

    # ---- schedule on the session clock (press onsets planned; rewards follow the lever)
    t = 2.0 + rng.uniform(0, 0.5)
    starts, cues, iti_len = [], [], []
    onsets: list[float] = []
    press_of_trial = np.full(n_trials, -1, dtype=np.int64)
    light = None
    if opto_press_probability is not None:  # light trials drawn first: they change the mouse's behaviour
        light = np.random.default_rng([seed, 1]).random(n_trials) < opto_fraction
    for i in range(n_trials):
        starts.append(t)
        cue = t + code_len + rng.uniform(0.5, 1.5)
        cues.append(cue)
        iti = rng.uniform(*iti_range)
        iti_len.append(iti)
        p_press = (opto_press_probability if opto_press_probability is not None and light is not None and light[i]
                   else press_probability)
        if rng.random() < p_press:
            press_of_trial[i] = len(onsets)
            onsets.append(cue + rng.uniform(0.15, 0.8))
        # a spontaneous movement in the ITI now and then
        slot_end = cue + response_window + 0.1 + iti
        if rng.random() < 0.4:
            cand = cue + response_window + 0.8 + rng.uniform(0, max(iti - 2.0, 0.01))
            if cand < slot_end - 1.2 and (not onsets or cand - onsets[-1] > 2.2):
                onsets.append(cand)
        t = slot_end + rng.uniform(0.3, 0.8)
    duration = t + 2.0
    n = int(round(duration * fs))
    lever, lt = synthesize_lever_trace(
        duration, sample_rate=fs, onset_times=np.asarray(onsets), seed=seed, **(lever_options or {})
    )
    lever = lever[:n]
    starts_a, cues_a = np.asarray(starts), np.asarray(cues)

    catch = rng.random(n_trials) < catch_fraction
    opto = light if light is not None else rng.random(n_trials) < opto_fraction
    rewards = np.full(n_trials, np.nan)
    for i in range(n_trials):
        j = press_of_trial[i]
        if j >= 0 and not catch[i]:
            c = lt.crossing_times[j]
            if np.isfinite(c) and cues_a[i] <= c <= cues_a[i] + response_window:
                rewards[i] = c
    rewarded = np.isfinite(rewards)
    resp_end = np.where(rewarded, rewards, cues_a + response_window)
    iti_start = np.where(rewarded, rewards + 0.1, resp_end)
    stops = iti_start + np.asarray(iti_len)

    # ---- the Dispatcher clock: dispatcher = (session - offset) / slope
    slope = 1.0 + drift_ppm * 1e-6
    offset = -dispatcher_offset * slope

    def to_disp(x: NDArray[np.float64] | float) -> NDArray[np.float64]:
        return (np.asarray(x, dtype=np.float64) - offset) / slope

    # ---- TTL channels (session clock)
    bitcode = np.zeros(n)
    sync_times = np.empty(n_trials)
    code_ends = np.empty(n_trials)
    numbers = np.arange(first_trial, first_trial + n_trials, dtype=np.int64)
    for i, number in enumerate(numbers):
        edges = _code_edges(int(number), starts_a[i], pitch, jitter, 12, rng)
        e = _pulses(bitcode, edges, 0.005, fs)
        sync_times[i] = e[0]
        code_ends[i] = starts_a[i] + 12.5 * pitch
    opto_on = np.full((n_trials, 2), np.nan)
    opto_on[opto, 0] = cues_a[opto]
    opto_on[opto, 1] = cues_a[opto] + opto_duration
    opto_ttl = np.zeros(n) if opto.any() else None
    opto_edges: list[float] = []
    if opto_ttl is not None:
        for a, b in opto_on[opto]:
            pulse_t = np.arange(a, b - opto_pulse_width / 2, 1.0 / opto_pulse_hz)
            opto_edges.extend(_pulses(opto_ttl, pulse_t, opto_pulse_width, fs))

    # ---- Dispatcher file
    disp_path = folder / f"data_@lever2p_{experimenter}_{animal}_{date}.mat"
    def d(x: float) -> float:
        return float(to_disp(x))

    prev_end = d(0.5)
    events = np.empty(n_trials, dtype=object)
    for i in range(n_trials):
        states: dict[str, NDArray[np.float64]] = {
            "state_0": np.array([[prev_end, d(starts_a[i])], [d(stops[i]), d(starts[i + 1]) if i + 1 < n_trials else d(stops[i] + 0.5)]]),
            "bitcode": np.array([[d(starts_a[i]), d(code_ends[i])]]),
            "cue": np.array([[d(cues_a[i]), d(resp_end[i])]]),
            "reward": np.array([[d(rewards[i]), d(rewards[i] + 0.1)]]) if rewarded[i] else _empty_state(rng),
            "punish": np.array([[d(resp_end[i]), d(resp_end[i] + 0.05)]]) if not rewarded[i] and not catch[i] else _empty_state(rng),
            "iti": np.array([[d(iti_start[i]), d(stops[i])]]),
            "iti2": _empty_state(rng),
        }
        if opto_fraction > 0:
            states["opto_on"] = np.array([[d(opto_on[i, 0]), d(opto_on[i, 1])]]) if opto[i] else _empty_state(rng)
        pokes = {"C": np.zeros((0, 2)), "L": np.zeros((0, 2)), "R": np.zeros((0, 2))}
        events[i] = {"states": states, "pokes": pokes, "starting_state": "state_0", "ending_state": "state_0"}
        prev_end = d(stops[i]) if i + 1 == n_trials else float(to_disp(starts_a[i + 1]))
    n_saved = n_trials if n_dispatcher_trials is None else int(n_dispatcher_trials)
    events = events[:n_saved]
    catch_cells = np.empty(n_saved, dtype=object)
    catch_cells[:] = [float(c) for c in catch[:n_saved]]
    sma_cells = np.empty(n_saved, dtype=object)
    sma_cells[:] = [MatlabClassObject("StateMachineAssembler", k + 2) for k in range(n_saved)]
    savemat_with_objects(
        disp_path,
        {
            "saved": {
                "SavingSection_experimenter": experimenter,
                "SavingSection_ratname": animal,
                "SavingSection_SaveTime": "01-Mar-2014 11:02:03",
                "ProtocolsSection_n_done_trials": float(n_saved),
                "lever2p_ResponseWindow": float(response_window),
                "lever2p_sma": MatlabClassObject("StateMachineAssembler", 1),
            },
            "saved_autoset": {"SavingSection_experimenter": "", "lever2p_ResponseWindow": ""},
            "saved_history": {
                "ProtocolsSection_parsed_events": events,
                "CatchSection_catch_trial": catch_cells,
                "lever2p_sma": sma_cells,
            },
        },
    )

    # ---- acquisition files
    paths: list[Path] = []
    frame_times = np.zeros(0)
    file_starts = np.zeros(1)
    if kind == "xsglog":
        frame = np.zeros(n)
        f_times = np.arange(1.0, duration - 1.0, 1.0 / frame_rate)
        frame_times = _pulses(frame, f_times, 0.001, fs)
        touch = np.zeros(n)
        for a, b in zip(lt.onset_times, lt.offset_times):
            _pulses(touch, [a + 0.01], b - a, fs)
        channels = {"Lever": lever, "Trial_number": bitcode, "Frame": frame, "Lever_touch": touch}
        if opto_ttl is not None:
            channels["Opto"] = opto_ttl
        for name, x in channels.items():
            p = folder / f"{prefix}_{name}.xsglog"
            np.asarray(x, dtype="<f8").tofile(p)
            paths.append(p)
        (folder / f"{prefix}.txt").write_text(f"{animal} {date}: lever2p, {n_trials} trials\n")
        n_total = n
        shift = 0.0
    else:
        import scipy.io

        bounds = [0.5] + [starts_a[k] - 0.6 for k in range(trials_per_file, n_trials, trials_per_file)] + [duration - 0.5]
        pieces = []
        for k in range(len(bounds) - 1):
            a = int(round(bounds[k] * fs))
            gap = 0 if k + 1 == len(bounds) - 1 else int(round(rng.uniform(0.2, 0.4) * fs))
            b = int(round(bounds[k + 1] * fs)) - gap
            pieces.append((a, b))
        stem = prefix[:6]
        for k, (a, b) in enumerate(pieces):
            p = folder / f"{stem}AAAA{k + 1:04d}.xsg"
            scipy.io.savemat(
                p,
                {
                    "header": {"acquirer": {"acquirer": {"sampleRate": fs, "channelNames": np.array(["trial_number", "lever"], dtype=object)}}},
                    "data": {"acquirer": {"trace_1": bitcode[a:b].reshape(-1, 1), "trace_2": lever[a:b].reshape(-1, 1)}},
                },
                format="5",
            )
            paths.append(p)
        shift = pieces[0][0] / fs
        file_starts = np.array([a / fs for a, _ in pieces]) - shift
        n_total = sum(b - a for a, b in pieces)

    def s(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(x, dtype=np.float64) - shift

    return RigSessionTruth(
        folder=folder,
        dispatcher_path=disp_path,
        acquisition_paths=paths,
        kind=kind,
        sample_rate=fs,
        n_samples=n_total,
        trial_numbers=numbers,
        start_times=s(sync_times),
        stop_times=s(stops),
        cue_times=s(cues_a),
        reward_times=s(rewards),
        dispatcher_start_times=to_disp(starts_a),
        dispatcher_stop_times=to_disp(stops),
        dispatcher_cue_times=to_disp(cues_a),
        dispatcher_reward_times=to_disp(rewards),
        rewarded=rewarded,
        catch=catch,
        opto=opto,
        opto_on=s(opto_on),
        opto_pulse_times=s(np.asarray(opto_edges)),
        movement_onsets=s(lt.onset_times),
        movement_offsets=s(lt.offset_times),
        press_movement=press_of_trial,
        frame_times=frame_times,
        n_movie_frames=int(len(frame_times) + movie_frame_difference),
        bit_pitch=pitch,
        slope=slope,
        offset=offset - shift,
        file_start_times=file_starts,
        lever=lever if kind == "xsglog" else np.concatenate([lever[a:b] for a, b in pieces]),
    )
