"""Spike-sorted centre-out reaching sessions (monkey PMd and M1), and long lever sessions.

:func:`write_reaching_session` writes an NWB file laid out as the reaching dandisets of
the DANDI archive are (e.g. 000128, 000688): a ``Units`` table of sorted spikes whose
electrodes carry the area (``PMd`` / ``M1``), hand and cursor position as
``processing/behavior`` time series, trials with the target, its appearance, the go cue,
movement onset and the visuomotor rotation of the cursor, and ``epochs`` for the
baseline, adaptation and washout blocks. Planted truth: each unit is cosine-tuned to the
reach direction (PMd before the go cue, M1 around movement onset).

:func:`write_long_lever_session` writes a long 10 kHz lever session at constant memory,
for the memory and remote-reading benchmarks.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["ReachingSessionTruth", "write_long_lever_session", "write_reaching_session"]


@dataclasses.dataclass(frozen=True)
class ReachingSessionTruth:
    """What :func:`write_reaching_session` planted (times in seconds, session clock).

    Attributes
    ----------
    path : Path
    spike_times : list of ndarray
        Per unit, sorted.
    region : ndarray of str
        ``"PMd"`` or ``"M1"`` per unit.
    preferred_direction : ndarray
        Radians, per unit.
    baseline_rate, modulation : ndarray
        Spikes/s: rate = baseline + modulation * cos(direction - preferred) in the tuned window.
    target_direction, target_on_time, go_cue_time, move_onset_time, start_time, stop_time : ndarray
        Per trial.
    rotation : ndarray
        Cursor rotation of each trial, degrees (0 in baseline and washout).
    epochs : list of (name, start, stop)
    hand_rate : float
        Samples/s of hand and cursor position.
    """

    path: Path
    spike_times: list[NDArray[np.float64]]
    region: NDArray[np.str_]
    preferred_direction: NDArray[np.float64]
    baseline_rate: NDArray[np.float64]
    modulation: NDArray[np.float64]
    target_direction: NDArray[np.float64]
    target_on_time: NDArray[np.float64]
    go_cue_time: NDArray[np.float64]
    move_onset_time: NDArray[np.float64]
    start_time: NDArray[np.float64]
    stop_time: NDArray[np.float64]
    rotation: NDArray[np.float64]
    epochs: list[tuple[str, float, float]]
    hand_rate: float


def write_reaching_session(
    path: str | os.PathLike[str],
    *,
    n_trials: int = 48,
    n_pmd: int = 16,
    n_m1: int = 24,
    n_targets: int = 8,
    rotation_deg: float = 30.0,
    hand_rate: float = 100.0,
    reach_cm: float = 8.0,
    seed: int = 0,
) -> ReachingSessionTruth:
    """Write a centre-out reaching session with PMd and M1 units and return the truth.

    Trials are split in thirds: baseline (no rotation), adaptation (cursor rotated by
    ``rotation_deg``), washout. Each trial: target on 0.5 s after the start, go cue
    0.5–1.0 s later, movement onset 0.25–0.35 s after the go cue, a 0.4 s reach, 0.6 s
    hold; targets come in shuffled blocks of every direction. PMd units are tuned from target on to movement onset, M1 units from 0.1 s
    before movement onset to the end of the reach; spikes are Poisson at 1 ms.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> truth = write_reaching_session(pathlib.Path(tempfile.mkdtemp()) / "reach.nwb", n_trials=6)
    >>> sorted(set(truth.region.tolist()))
    ['M1', 'PMd']
    """
    from hdmf.backends.hdf5 import H5DataIO
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.file import Subject

    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n_units = n_pmd + n_m1
    region = np.array(["PMd"] * n_pmd + ["M1"] * n_m1)
    pd = rng.uniform(-np.pi, np.pi, n_units)
    base = rng.uniform(5.0, 15.0, n_units)
    mod = rng.uniform(5.0, 20.0, n_units)
    targets = np.arange(n_targets) * 2 * np.pi / n_targets
    # targets in shuffled blocks of all directions, as the task presents them
    target_index = np.concatenate([rng.permutation(n_targets) for _ in range(-(-n_trials // n_targets))])[:n_trials]
    direction = targets[target_index]
    third = max(1, n_trials // 3)
    rotation = np.zeros(n_trials)
    rotation[third: 2 * third] = rotation_deg
    start, t = [], 0.0
    target_on, go, move, stop = [], [], [], []
    for _ in range(n_trials):
        start.append(t)
        target_on.append(t + 0.5)
        go.append(target_on[-1] + rng.uniform(0.5, 1.0))
        move.append(go[-1] + rng.uniform(0.25, 0.35))
        stop.append(move[-1] + 1.0)
        t = stop[-1] + 0.2
    start_a, stop_a = np.array(start), np.array(stop)
    target_on_a, go_a, move_a = np.array(target_on), np.array(go), np.array(move)
    duration = float(stop_a[-1] + 0.5)

    dt = 0.001
    grid = np.arange(0.0, duration, dt)
    rate = np.tile(base, (grid.size, 1))
    for i in range(n_trials):
        cos = np.cos(direction[i] - pd)
        pmd = (grid >= target_on_a[i]) & (grid < move_a[i])
        m1 = (grid >= move_a[i] - 0.1) & (grid < move_a[i] + 0.4)
        rate[pmd, :n_pmd] = np.maximum(0.0, base[:n_pmd] + mod[:n_pmd] * cos[:n_pmd])
        rate[m1, n_pmd:] = np.maximum(0.0, base[n_pmd:] + mod[n_pmd:] * cos[n_pmd:])
    fires = rng.random(rate.shape) < rate * dt
    spikes = [np.sort(grid[fires[:, u]] + rng.uniform(0, dt, fires[:, u].sum())) for u in range(n_units)]

    ht = np.arange(0.0, duration, 1.0 / hand_rate)
    hand = np.zeros((ht.size, 2))
    cursor = np.zeros((ht.size, 2))
    for i in range(n_trials):
        # the hand aims to cancel the rotation (fully adapted), so the cursor reaches the target
        aim = direction[i] - np.deg2rad(rotation[i])
        s = np.clip((ht - move_a[i]) / 0.4, 0.0, 1.0)
        s = s * s * (3 - 2 * s)  # smooth reach profile
        inside = (ht >= start_a[i]) & (ht < stop_a[i] + 0.2)
        hand[inside, 0] = reach_cm * s[inside] * np.cos(aim)
        hand[inside, 1] = reach_cm * s[inside] * np.sin(aim)
        rot = np.deg2rad(rotation[i])
        c, si = np.cos(rot), np.sin(rot)
        cursor[inside, 0] = c * hand[inside, 0] - si * hand[inside, 1]
        cursor[inside, 1] = si * hand[inside, 0] + c * hand[inside, 1]

    nwbfile = NWBFile(
        session_description="Centre-out reaching with a visuomotor rotation (nwbmotor simulated session)",
        identifier=f"nwbmotor-reaching-{seed}",
        session_start_time=_dt.datetime(2016, 9, 1, 10, 0, tzinfo=_dt.timezone.utc),
        session_id=f"reach{seed:02d}",
        experiment_description="Simulated monkey centre-out reaching; PMd and M1 Utah arrays",
    )
    nwbfile.subject = Subject(subject_id="MonkeyC", species="Macaca mulatta", sex="M", age="P8Y")
    device = nwbfile.create_device(name="UtahArrays", description="two 96-channel Utah arrays")
    groups = {area: nwbfile.create_electrode_group(name=f"{area}_array", description=f"{area} array",
                                                   location=area, device=device) for area in ("PMd", "M1")}
    for u in range(n_units):
        nwbfile.add_electrode(location=str(region[u]), group=groups[str(region[u])])
    nwbfile.add_unit_column(name="quality", description="sorting quality: 'good' or 'mua'")
    for u in range(n_units):
        nwbfile.add_unit(spike_times=spikes[u], electrodes=[u], quality="good" if u % 4 else "mua")
    behavior = nwbfile.create_processing_module("behavior", "hand and cursor position")
    for name, values in (("hand_pos", hand), ("cursor_pos", cursor)):
        behavior.add(TimeSeries(name=name, data=H5DataIO(values, compression="gzip"), unit="cm", rate=hand_rate,
                                starting_time=0.0, description=f"{name.split('_')[0]} x, y position"))
    for col, doc in (("target_on_time", "target appears (s)"), ("go_cue_time", "go cue (s)"),
                     ("move_onset_time", "movement onset (s)"), ("target_dir", "target direction (rad)"),
                     ("target_id", "target index (0 = rightward, counter-clockwise)"),
                     ("rotation", "cursor rotation (degrees)")):
        nwbfile.add_trial_column(name=col, description=doc)
    for i in range(n_trials):
        nwbfile.add_trial(start_time=start_a[i], stop_time=stop_a[i], target_on_time=target_on_a[i],
                          go_cue_time=go_a[i], move_onset_time=move_a[i], target_dir=direction[i],
                          target_id=int(target_index[i]),
                          rotation=rotation[i])
    epochs = [("baseline", float(start_a[0]), float(stop_a[third - 1])),
              ("adaptation", float(start_a[third]), float(stop_a[2 * third - 1])),
              ("washout", float(start_a[2 * third]), float(stop_a[-1]))]
    for name, a, b in epochs:
        nwbfile.add_epoch(start_time=a, stop_time=b, tags=[name])
    with NWBHDF5IO(path, "w") as io:
        io.write(nwbfile)
    return ReachingSessionTruth(
        path=path, spike_times=spikes, region=region, preferred_direction=pd, baseline_rate=base, modulation=mod,
        target_direction=direction, target_on_time=target_on_a, go_cue_time=go_a, move_onset_time=move_a,
        start_time=start_a, stop_time=stop_a, rotation=rotation, epochs=epochs, hand_rate=hand_rate,
    )


def write_long_lever_session(
    path: str | os.PathLike[str],
    *,
    minutes: float = 5.0,
    sample_rate: float = 10_000.0,
    trial_period: float = 10.0,
    seed: int = 0,
) -> Path:
    """Write a lever-only session of ``minutes`` at ``sample_rate`` (float64 volts, gzip,
    written block by block at constant memory) with one trial per ``trial_period`` s.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_long_lever_session(pathlib.Path(tempfile.mkdtemp()) / "long.nwb", minutes=0.1)
    >>> p.stat().st_size > 0
    True
    """
    from hdmf.backends.hdf5 import H5DataIO
    from hdmf.data_utils import GenericDataChunkIterator
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.behavior import BehavioralTimeSeries

    n = int(round(minutes * 60 * sample_rate))
    block = 1_000_000
    rng = np.random.default_rng(seed)
    noise_seed = int(rng.integers(1 << 31))

    class _Lever(GenericDataChunkIterator):
        def _get_data(self, selection: tuple) -> np.ndarray:
            sl = selection[0]
            i = np.arange(sl.start or 0, sl.stop if sl.stop is not None else n)
            t = i / sample_rate
            phase = np.mod(t, trial_period)
            press = np.where((phase > 2.0) & (phase < 2.6), np.sin(np.pi * (phase - 2.0) / 0.6) ** 2, 0.0)
            g = np.random.default_rng(noise_seed + int(i[0]) // block)
            return 0.5 + 1.5 * press + 0.002 * np.round(g.standard_normal(i.size), 1)

        def _get_maxshape(self) -> tuple:
            return (n,)

        def _get_dtype(self) -> np.dtype:
            return np.dtype(np.float64)

    nwbfile = NWBFile(session_description="long lever session", identifier=f"long-{minutes}-{seed}",
                      session_start_time=_dt.datetime(2014, 3, 1, 10, 0, tzinfo=_dt.timezone.utc),
                      session_id=f"long{minutes:g}")
    module = nwbfile.create_processing_module("behavior", "lever")
    data = H5DataIO(_Lever(buffer_shape=(min(block, n),), chunk_shape=(min(100_000, n),)), compression="gzip", compression_opts=1)
    lever = TimeSeries(name="lever", data=data, unit="V", rate=sample_rate, starting_time=0.0,
                       description="lever position, volts")
    module.add(BehavioralTimeSeries(time_series=lever, name="BehavioralTimeSeries"))
    for k in range(int(minutes * 60 // trial_period)):
        nwbfile.add_trial(start_time=k * trial_period, stop_time=(k + 1) * trial_period - 0.5)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with NWBHDF5IO(path, "w") as io:
        io.write(nwbfile)
    return path
