"""Whole sessions as NWB files, with the truth planted in them, for the views and analyses.

:func:`simulate_lab_session` makes the arrays of one imaged lever-press session (pure
numpy); :func:`write_lab_session` writes them in nwbmotor's layout (see DESIGN.md,
"Where things live in the file"):

- ``processing/ophys/ImageSegmentation/PlaneSegmentation`` with pixel masks and the
  columns ``cell_type``, ``global_id``, ``excluded``; the imaging plane carries its
  ``grid_spacing`` so ROI centroids are known in micrometres;
- ``processing/ophys/DfOverF/RoiResponseSeries`` (and optionally ``Fluorescence`` and
  ``Deconvolved``), (frames, ROIs), float32;
- ``processing/behavior/BehavioralTimeSeries/lever`` in volts;
- ``intervals/trials`` with cue, movement, reward and opto columns, ``intervals/movements``
  (ndx-motor-learning ``MovementsTable``) and ``intervals/optogenetic_epochs``
  (ndx-optogenetics ``OptogeneticEpochsTable``).

:func:`simulate_model_session` / :func:`write_model_session_file` make a small model
session through the model writer. Files in other tools' layouts:
:mod:`nwbmotor.testing._foreign`.

Planted truth: movement-related cells fire time-locked to movement onset (each cell at
its own latency, with ``timing_jitter``), quiescence-related cells fire only while the
lever rests, every cell has background events; traces are GCaMP-like transients (rise
50 ms, decay 0.6 s) plus Gaussian noise. Light (opto) trials are rewarded less often.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nwbmotor._errors import NwbMotorValueError

if TYPE_CHECKING:
    from pynwb import NWBFile

    from nwbmotor.models import ModelSession

__all__ = [
    "LabSessionTruth",
    "simulate_lab_session",
    "write_lab_session",
    "write_lab_sessions",
    "simulate_model_session",
    "write_model_session_file",
]

_GCAMP_RISE = 0.05  # s
_GCAMP_DECAY = 0.6  # s
_PIXEL_SIZE_UM = (470.0 / 512, 500.0 / 512)  # x, y


@dataclasses.dataclass
class LabSessionTruth:
    """Everything planted in one generated lab session.

    Times are seconds in the session clock; imaging frame ``k`` is at ``k / frame_rate``.
    ``trials``, ``movements`` and ``opto_epochs`` are dicts of equal-length columns named
    as in the NWB file. ``dff`` is ``(n_frames, n_rois)`` float32, exactly as written.
    ``centroid_um`` is ``(n_rois, 2)``: x, y in micrometres; ``latency`` is each
    movement-related cell's preferred event time after movement onset (NaN otherwise).
    """

    subject_id: str
    session_id: str
    frame_rate: float
    lever_rate: float
    dff: np.ndarray
    lever: np.ndarray
    roi_ids: np.ndarray
    cell_type: np.ndarray
    global_id: np.ndarray
    excluded: np.ndarray
    centroid_um: np.ndarray
    movement_related: np.ndarray
    quiescence_related: np.ndarray
    latency: np.ndarray
    trials: dict[str, np.ndarray]
    movements: dict[str, np.ndarray]
    opto_epochs: dict[str, np.ndarray]
    path: Path | None = None
    input_source: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return int(self.dff.shape[0])

    @property
    def n_rois(self) -> int:
        return int(self.dff.shape[1])

    @property
    def frame_times(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.frame_rate


def _gcamp(spikes: np.ndarray, fs: float) -> np.ndarray:
    """Convolve event amplitudes (time, cells) with a difference-of-exponentials kernel."""
    from scipy.signal import lfilter

    a_decay = np.exp(-1.0 / (_GCAMP_DECAY * fs))
    a_rise = np.exp(-1.0 / (_GCAMP_RISE * fs))
    decay = lfilter([1.0], [1.0, -a_decay], spikes, axis=0)
    rise = lfilter([1.0], [1.0, -a_rise], spikes, axis=0)
    peak = _kernel_peak(a_decay, a_rise)
    return (decay - rise) / peak


def _kernel_peak(a_decay: float, a_rise: float) -> float:
    k = np.arange(200)
    return float(np.max(a_decay**k - a_rise**k))


def _press_profile(n: int, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """A lever press of ``n`` samples: smooth rise, held deflection with wobble, return."""
    t = np.linspace(0.0, 1.0, n)
    ramp = np.clip(t / 0.2, 0, 1)
    fall = np.clip((1.0 - t) / 0.25, 0, 1)
    shape = np.sin(0.5 * np.pi * np.minimum(ramp, fall)) ** 2
    wobble = 1.0 + 0.08 * np.sin(2 * np.pi * t * rng.uniform(2, 5))
    return amplitude * shape * wobble


def simulate_lab_session(
    *,
    n_rois: int = 40,
    duration: float = 180.0,
    frame_rate: float = 28.0,
    lever_rate: float = 1000.0,
    subject_id: str = "AP071",
    session_id: str = "day01",
    seed: int = 0,
    fraction_movement_related: float = 0.3,
    fraction_quiescence_related: float = 0.1,
    fraction_inhibitory: float = 0.15,
    fraction_excluded: float = 0.05,
    p_reward: float = 0.85,
    p_reward_opto: float = 0.4,
    fraction_opto: float = 0.2,
    timing_jitter: float = 0.15,
    p_active: float = 0.8,
    noise_sd: float = 0.08,
    global_ids: Sequence[int] | None = None,
    nan_rois: Sequence[int] = (),
    input_sources: Sequence[str] | None = None,
) -> LabSessionTruth:
    """Simulate one imaged lever-press session and return its arrays and planted truth.

    Parameters
    ----------
    n_rois : int
        Number of ROIs.
    duration : float
        Length of the recording, in seconds; trials fill it.
    frame_rate, lever_rate : float
        Imaging frame rate and lever sample rate, in Hz.
    subject_id, session_id : str
    seed : int
        Seed of every random draw.
    fraction_movement_related, fraction_quiescence_related, fraction_inhibitory, fraction_excluded : float
        Fractions of ROIs planted with each property (movement- and quiescence-related
        cells are excitatory).
    p_reward, p_reward_opto : float
        Probability that a trial without / with light is rewarded.
    fraction_opto : float
        Fraction of trials with light (0 for none: the session then has no opto epochs).
    timing_jitter : float
        Standard deviation, in seconds, of a movement-related cell's event time around its
        preferred latency; smaller = more reproducible sequences (what learning does).
    p_active : float
        Probability that a movement-related cell fires on a given movement.
    noise_sd : float
        Standard deviation of the dF/F noise.
    global_ids : sequence of int, optional
        Cross-session ids of the ROIs (default ``0 .. n_rois - 1``).
    nan_rois : sequence of int
        ROIs whose trace is NaN over a stretch of frames (a broken trace).
    input_sources : sequence of str, optional
        Input-source label per ROI (axonal boutons, e.g. ``"motor thalamus"``): written as
        the PlaneSegmentation column ``input_source``.

    Returns
    -------
    LabSessionTruth

    Examples
    --------
    >>> truth = simulate_lab_session(n_rois=5, duration=30.0)
    >>> truth.dff.shape
    (840, 5)
    """
    if n_rois < 1 or duration <= 20.0 or frame_rate <= 0 or lever_rate <= 0:
        raise NwbMotorValueError(
            f"simulate_lab_session: expected n_rois >= 1, duration > 20 s and positive rates, got "
            f"n_rois={n_rois}, duration={duration}, frame_rate={frame_rate}, lever_rate={lever_rate}"
        )
    rng = np.random.default_rng(seed)
    n_frames = int(round(duration * frame_rate))
    n_lever = int(round(duration * lever_rate))

    # --- trials and movements --------------------------------------------------------
    cols: dict[str, list] = {k: [] for k in (
        "start_time", "stop_time", "cue_time", "movement_onset", "movement_offset", "reward_time",
        "rewarded", "cued_rewarded", "catch", "opto")}
    mov: dict[str, list] = {k: [] for k in ("start_time", "stop_time", "peak_amplitude", "rewarded", "cued", "trial_index")}
    lever = rng.normal(0.0, 0.002, n_lever)
    t = 2.0
    trial = 0
    while True:
        start = t
        cue = start + 0.5
        if cue + 12.0 > duration - 2.0:
            break
        catch = bool(rng.random() < 0.05)
        opto = bool(fraction_opto > 0 and not catch and rng.random() < fraction_opto)
        rewarded = bool(not catch and rng.random() < (p_reward_opto if opto else p_reward))
        onset = offset = reward = np.nan
        if rewarded:
            onset = cue + float(rng.lognormal(np.log(0.6), 0.4))
            length = float(rng.uniform(0.5, 1.6))
            offset = onset + length
            reward = onset + float(rng.uniform(0.15, 0.35))
            stop = max(offset, reward) + 1.0
        else:
            stop = cue + 10.0
        for k, v in zip(cols, (start, stop, cue, onset, offset, reward, rewarded, rewarded, catch, opto), strict=True):
            cols[k].append(v)
        if rewarded:
            mov_rows = [(onset, offset, True, True)]
        else:
            mov_rows = []
        # spontaneous movements in the inter-trial interval
        iti = float(rng.uniform(2.0, 4.0))
        if rng.random() < 0.3:
            s = stop + 0.3
            mov_rows.append((s, s + float(rng.uniform(0.4, 0.9)), False, False))
            iti = max(iti, 1.8)
        for s, e, rew, cued in mov_rows:
            i0, i1 = int(round(s * lever_rate)), int(round(e * lever_rate))
            amp = float(rng.uniform(0.3, 1.0))
            prof = _press_profile(i1 - i0, amp, rng)
            lever[i0:i1] += prof
            for k, v in zip(mov, (s, e, float(prof.max()), rew, cued, trial), strict=True):
                mov[k].append(v)
        trial += 1
        t = stop + iti
    if trial < 2:
        raise NwbMotorValueError(f"simulate_lab_session: duration {duration} s holds fewer than 2 trials")
    trials = {k: np.asarray(v) for k, v in cols.items()}
    movements = {k: np.asarray(v) for k, v in mov.items()}
    order = np.argsort(movements["start_time"], kind="stable")
    movements = {k: v[order] for k, v in movements.items()}

    # --- cells -----------------------------------------------------------------------
    kinds = rng.permutation(n_rois)
    n_inh = int(round(fraction_inhibitory * n_rois))
    n_mr = int(round(fraction_movement_related * n_rois))
    n_qr = int(round(fraction_quiescence_related * n_rois))
    cell_type = np.full(n_rois, "excitatory", dtype=object)
    cell_type[kinds[:n_inh]] = "inhibitory"
    movement_related = np.zeros(n_rois, bool)
    movement_related[kinds[n_inh:n_inh + n_mr]] = True
    quiescence_related = np.zeros(n_rois, bool)
    quiescence_related[kinds[n_inh + n_mr:n_inh + n_mr + n_qr]] = True
    excluded = np.zeros(n_rois, bool)
    n_exc = int(round(fraction_excluded * n_rois))
    excluded[rng.choice(n_rois, n_exc, replace=False)] = True
    latency = np.where(movement_related, rng.uniform(-0.1, 1.2, n_rois), np.nan)

    frame_times = np.arange(n_frames) / frame_rate
    moving = np.zeros(n_frames, bool)
    for s, e in zip(movements["start_time"], movements["stop_time"], strict=True):
        moving[int(np.floor(s * frame_rate)):int(np.ceil(e * frame_rate)) + 1] = True
    spikes = np.zeros((n_frames, n_rois), np.float64)
    background = np.where(cell_type == "inhibitory", 0.15, 0.03)  # events per s
    p_bg = background / frame_rate
    spikes += (rng.random((n_frames, n_rois)) < p_bg) * rng.lognormal(np.log(0.8), 0.3, (n_frames, n_rois))
    q_idx = np.flatnonzero(quiescence_related)
    if q_idx.size:
        p_q = (rng.random((n_frames, q_idx.size)) < 0.4 / frame_rate) & ~moving[:, None]
        spikes[:, q_idx] += p_q * rng.lognormal(np.log(1.0), 0.3, p_q.shape)
    for c in np.flatnonzero(movement_related):
        fires = rng.random(movements["start_time"].size) < p_active
        when = movements["start_time"][fires] + latency[c] + rng.normal(0, timing_jitter, fires.sum())
        frames = np.round(when * frame_rate).astype(int)
        frames = frames[(frames >= 0) & (frames < n_frames)]
        np.add.at(spikes[:, c], frames, rng.lognormal(np.log(1.2), 0.3, frames.size))
    dff = _gcamp(spikes, frame_rate)
    dff += rng.normal(0.0, noise_sd, dff.shape)
    dff = dff.astype(np.float32)
    for c in nan_rois:
        dff[n_frames // 3: n_frames // 3 + int(frame_rate * 5), int(c)] = np.nan

    x = rng.uniform(10, 500, n_rois)  # pixels
    y = rng.uniform(10, 500, n_rois)
    centroid_um = np.column_stack([x * _PIXEL_SIZE_UM[0], y * _PIXEL_SIZE_UM[1]])
    gids = np.arange(n_rois, dtype=np.int64) if global_ids is None else np.asarray(global_ids, np.int64)
    if gids.shape != (n_rois,):
        raise NwbMotorValueError(f"simulate_lab_session: global_ids expected {n_rois} ids, got {gids.shape}")

    n_opto = int(trials["opto"].sum())
    cue_opto = trials["cue_time"][trials["opto"]]
    opto_epochs = {
        "start_time": cue_opto,
        "stop_time": cue_opto + 2.0,
        "stimulation_on": np.ones(n_opto, bool),
        "pulse_length_in_ms": np.full(n_opto, 10.0),
        "period_in_ms": np.full(n_opto, 25.0),
        "number_pulses_per_pulse_train": np.full(n_opto, 80, np.int64),
        "number_trains": np.ones(n_opto, np.int64),
        "intertrain_interval_in_ms": np.zeros(n_opto),
        "power_in_mW": np.full(n_opto, 5.0),
        "wavelength_in_nm": np.full(n_opto, 473.0),
    }
    truth = LabSessionTruth(
        subject_id=subject_id, session_id=session_id, frame_rate=float(frame_rate), lever_rate=float(lever_rate),
        dff=dff, lever=lever, roi_ids=np.arange(n_rois), cell_type=cell_type.astype(str), global_id=gids,
        excluded=excluded, centroid_um=centroid_um, movement_related=movement_related,
        quiescence_related=quiescence_related, latency=latency, trials=trials, movements=movements,
        opto_epochs=opto_epochs,
        input_source=None if input_sources is None else np.asarray(input_sources, dtype=str),
    )
    if truth.input_source is not None and truth.input_source.shape != (n_rois,):
        raise NwbMotorValueError(
            f"simulate_lab_session: input_sources expected {n_rois} labels, got {truth.input_source.shape}")
    truth._pixels = np.column_stack([x, y])  # type: ignore[attr-defined]
    del frame_times
    return truth


def _disc_mask(cx: float, cy: float, radius: float = 5.0) -> list[tuple[int, int, float]]:
    xs, ys = np.meshgrid(np.arange(-radius, radius + 1), np.arange(-radius, radius + 1))
    keep = xs**2 + ys**2 <= radius**2
    # a symmetric disc around the rounded centre: its weighted centroid is that centre
    x0, y0 = round(cx), round(cy)
    return [(int(x0 + dx), int(y0 + dy), 1.0) for dx, dy in zip(xs[keep], ys[keep], strict=True)]


def _imaging_plane(nwbfile: NWBFile, frame_rate: float, *, grid_spacing: bool = True):
    from pynwb.ophys import OpticalChannel

    device = nwbfile.create_device(name="Microscope", description="Two-photon microscope (resonant scanning).")
    channel = OpticalChannel(name="Green", description="GCaMP emission, PMT channel 1.", emission_lambda=510.0)
    extra = {"grid_spacing": [s * 1e-6 for s in _PIXEL_SIZE_UM], "grid_spacing_unit": "meters"} if grid_spacing else {}
    return nwbfile.create_imaging_plane(
        name="ImagingPlane", optical_channel=channel, description="Layer 2/3 of the caudal forelimb area.",
        device=device, excitation_lambda=925.0, imaging_rate=float(frame_rate), indicator="GCaMP6f",
        location="MOp", **extra,
    )


def _add_lab_content(nwbfile: NWBFile, truth: LabSessionTruth, activity: Sequence[str]) -> None:
    from hdmf.common import VectorData
    from ndx_ophys_devices import Effector, ExcitationSource, ExcitationSourceModel, OpticalFiber, OpticalFiberModel
    from pynwb import TimeSeries
    from pynwb.behavior import BehavioralTimeSeries
    from pynwb.ophys import DfOverF, Fluorescence, ImageSegmentation

    from nwbmotor.extensions import LeverPressTask, MovementsTable

    plane = _imaging_plane(nwbfile, truth.frame_rate)
    ophys = nwbfile.create_processing_module(name="ophys", description="Segmented ROIs and their traces.")
    segmentation = ImageSegmentation(name="ImageSegmentation")
    ophys.add(segmentation)
    ps = segmentation.create_plane_segmentation(
        name="PlaneSegmentation", description="ROIs drawn on the mean image.", imaging_plane=plane)
    ps.add_column(name="cell_type", description="'excitatory' or 'inhibitory' (tdTomato in GAD-Cre mice).")
    ps.add_column(name="global_id", description="Cross-session cell id.")
    ps.add_column(name="excluded", description="True for filled or unhealthy cells to leave out of analyses.")
    ps.add_column(name="dff_valid", description="False when the dF/F trace is invalid (holds NaN).")
    if truth.input_source is not None:
        ps.add_column(name="input_source", description="Input source of the axonal ROI (e.g. motor thalamus).")
    pixels = truth._pixels  # type: ignore[attr-defined]
    for i in range(truth.n_rois):
        extra = {} if truth.input_source is None else {"input_source": str(truth.input_source[i])}
        ps.add_roi(pixel_mask=_disc_mask(*pixels[i]), cell_type=str(truth.cell_type[i]),
                   global_id=int(truth.global_id[i]), excluded=bool(truth.excluded[i]),
                   dff_valid=bool(np.isfinite(truth.dff[:, i]).all()), **extra)
    region = ps.create_roi_table_region(description="Every ROI.", region=list(range(truth.n_rois)))
    traces = {"dff": ("DfOverF", DfOverF, truth.dff, "dF/F of each ROI (baseline-corrected)."),
              "fluorescence": ("Fluorescence", Fluorescence,
                               (200.0 * (1.0 + np.nan_to_num(truth.dff))).astype(np.float32),
                               "Raw fluorescence of each ROI, neuropil-corrected."),
              "deconvolved": ("Deconvolved", Fluorescence, np.clip(np.diff(truth.dff, axis=0, prepend=0), 0, None),
                              "Non-negative deconvolved activity.")}
    for kind in activity:
        if kind not in traces:
            raise NwbMotorValueError(f"write_lab_session: activity {kind!r} is not one of {sorted(traces)}")
        name, cls, data, description = traces[kind]
        container = cls(name=name)
        ophys.add(container)
        container.create_roi_response_series(
            name="RoiResponseSeries", data=data, unit="n.a.", rois=region, rate=truth.frame_rate,
            starting_time=0.0, description=description)

    behavior = nwbfile.create_processing_module(name="behavior", description="Lever position.")
    bts = BehavioralTimeSeries(name="BehavioralTimeSeries")
    behavior.add(bts)
    bts.add_timeseries(TimeSeries(name="lever", data=truth.lever, unit="volts", rate=truth.lever_rate,
                                  starting_time=0.0, description="Lever position sensor, as recorded."))
    nwbfile.add_lab_meta_data(LeverPressTask(name="LeverPressTask", lever_sample_rate=truth.lever_rate,
                                             response_window=10.0, protocol="@lever2p"))

    tr = truth.trials
    for name, description in (
        ("cue_time", "Onset of the cue tone, in s."),
        ("movement_onset", "Onset of the rewarded movement, in s (NaN if none)."),
        ("movement_offset", "Offset of the rewarded movement, in s (NaN if none)."),
        ("reward_time", "Onset of the reward, in s (NaN if unrewarded)."),
        ("rewarded", "True if the trial was rewarded."),
        ("cued_rewarded", "True if the rewarded movement started after the cue, lever quiet before it."),
        ("catch", "True for catch trials (no reward possible)."),
        ("opto", "True when the light was on during the trial."),
    ):
        nwbfile.add_trial_column(name=name, description=description)
    for i in range(tr["start_time"].size):
        nwbfile.add_trial(**{k: (bool(v[i]) if v.dtype == bool else float(v[i])) for k, v in tr.items()})

    mv = truth.movements
    docs = {"start_time": "Movement onset, in s.", "stop_time": "Movement offset, in s.",
            "peak_amplitude": "Largest lever deflection from the onset value, in volts.",
            "rewarded": "True for the movement that earned its trial's reward.",
            "cued": "True when the movement starts after its trial's cue, lever quiet before it.",
            "trial_index": "Row of the trials table during which the movement starts (-1 for none)."}
    spec_columns = {c["name"] for c in MovementsTable.__columns__}
    trial_column = next((c for c in ("trial_index", "trial") if c in spec_columns), None)
    data = {k: v for k, v in mv.items() if k != "trial_index"}
    if trial_column is not None:  # the extension's name for the trial row of each movement
        data[trial_column] = mv["trial_index"]
        docs[trial_column] = docs.pop("trial_index")
    else:
        docs.pop("trial_index")
    table = MovementsTable(name="movements", description="Lever movements detected in the lever trace.",
                           detection_preset="peters2014",
                           detection_parameters=json.dumps({"threshold": 0.0007, "planted": True}),
                           columns=[VectorData(name=k, description=d, data=data[k]) for k, d in docs.items()])
    nwbfile.add_time_intervals(table)

    ep = truth.opto_epochs
    if ep["start_time"].size:
        from ndx_optogenetics import (
            OptogeneticEffectors,
            OptogeneticEpochsTable,
            OptogeneticExperimentMetadata,
            OptogeneticSitesTable,
        )

        source_model = ExcitationSourceModel(name="LaserModel", description="473 nm DPSS laser.",
                                             manufacturer="CrystaLaser", source_type="laser",
                                             excitation_mode="one-photon", wavelength_range_in_nm=[473.0, 473.0])
        source = ExcitationSource(name="Laser", description="Blue laser.", model=source_model, power_in_W=0.01)
        fiber_model = OpticalFiberModel(name="FiberModel", description="Light guide over the window.",
                                        manufacturer="Thorlabs", numerical_aperture=0.39, core_diameter_in_um=400.0)
        fiber = OpticalFiber(name="Fiber", description="Light over the cranial window.", model=fiber_model)
        for obj in (source_model, fiber_model):
            nwbfile.add_device_model(obj)
        for obj in (source, fiber):
            nwbfile.add_device(obj)
        effector = Effector(name="ChR2", description="ChR2 in PV interneurons (PV-Cre x Ai32).", label="ChR2-EYFP")
        sites = OptogeneticSitesTable(description="The one light site over the imaged area.")
        sites.add_row(excitation_source=source, optical_fiber=fiber, effector=effector)
        nwbfile.add_lab_meta_data(OptogeneticExperimentMetadata(
            optogenetic_sites_table=sites, optogenetic_effectors=OptogeneticEffectors(effectors=[effector]),
            stimulation_software="Dispatcher"))
        epochs = OptogeneticEpochsTable(name="optogenetic_epochs", description="Light on during light trials.",
                                        target_tables={"optogenetic_sites": sites})
        for i in range(ep["start_time"].size):
            epochs.add_row(**{k: (v[i].item()) for k, v in ep.items()}, optogenetic_sites=[0])
        nwbfile.add_time_intervals(epochs)


def write_lab_session(
    path: str | os.PathLike[str],
    *,
    truth: LabSessionTruth | None = None,
    activity: Sequence[Literal["dff", "fluorescence", "deconvolved"]] = ("dff",),
    backend: Literal["hdf5", "zarr"] = "hdf5",
    overwrite: bool = False,
    **simulate: object,
) -> LabSessionTruth:
    """Write a simulated lab session to an NWB file and return its planted truth.

    Parameters
    ----------
    path : str or PathLike
        The ``.nwb`` file to write (atomically, with NeuroConv's chunking and gzip).
    truth : LabSessionTruth, optional
        A session from :func:`simulate_lab_session`; made from ``**simulate`` if omitted.
    activity : sequence of {"dff", "fluorescence", "deconvolved"}
        Which ROI traces to write.
    backend : {"hdf5", "zarr"}
        File format (a Zarr store is a folder).
    overwrite : bool
        Replace an existing file.
    **simulate
        Keyword arguments of :func:`simulate_lab_session`.

    Returns
    -------
    LabSessionTruth
        With ``path`` set.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> truth = write_lab_session(pathlib.Path(tempfile.mkdtemp()) / "s.nwb", n_rois=5, duration=40.0)
    >>> truth.path.exists()
    True
    """
    from nwbmotor._write import write_nwbfile
    from nwbmotor.testing._nwbfile import mock_nwbfile

    if truth is None:
        truth = simulate_lab_session(**simulate)  # type: ignore[arg-type]
    elif simulate:
        raise NwbMotorValueError(f"write_lab_session: pass either truth= or simulation parameters, got both ({sorted(simulate)})")
    nwbfile = mock_nwbfile(subject_id=truth.subject_id, session_id=truth.session_id)
    _add_lab_content(nwbfile, truth, activity)
    truth.path = write_nwbfile(nwbfile, path, backend=backend, overwrite=overwrite)
    return truth


def write_lab_sessions(
    folder: str | os.PathLike[str],
    *,
    subject_id: str = "AP071",
    n_sessions: int = 3,
    seed: int = 0,
    per_session: Sequence[Mapping[str, Any]] | None = None,
    overwrite: bool = False,
    **simulate: object,
) -> list[LabSessionTruth]:
    """Write several sessions of one mouse, ``sub-<id>/sub-<id>_ses-dayNN.nwb``, same cells.

    The ROIs keep their ``global_id`` across sessions (the same cells re-imaged).
    ``per_session`` plants change across days: one mapping of
    :func:`simulate_lab_session` parameters per session, over ``**simulate`` (e.g.
    ``[{"fraction_movement_related": 0.2, "timing_jitter": 0.3}, ...]`` for a
    population that grows and sharpens with learning).

    Examples
    --------
    >>> import tempfile
    >>> truths = write_lab_sessions(tempfile.mkdtemp(), n_sessions=2, n_rois=4, duration=40.0)
    >>> [t.session_id for t in truths]
    ['day01', 'day02']
    """
    if per_session is not None and len(per_session) != n_sessions:
        raise NwbMotorValueError(
            f"write_lab_sessions: per_session has {len(per_session)} entries, expected n_sessions={n_sessions}"
        )
    out = []
    for k in range(n_sessions):
        session_id = f"day{k + 1:02d}"
        path = Path(folder) / f"sub-{subject_id}" / f"sub-{subject_id}_ses-{session_id}.nwb"
        params = {**simulate, **(per_session[k] if per_session is not None else {})}
        out.append(write_lab_session(path, subject_id=subject_id, session_id=session_id, seed=seed * 1000 + k,
                                     overwrite=overwrite, **params))
    return out


def simulate_model_session(
    *,
    n_units: int = 40,
    n_targets: int = 8,
    n_repeats: int = 3,
    n_steps: int = 100,
    dt: float = 0.01,
    rotation: float = 0.0,
    seed: int = 0,
    name: str = "toy-centre-out",
) -> ModelSession:
    """A small simulated centre-out session as a ``nwbmotor.models.ModelSession``.

    Two modules ("PMd", "M1"), 80 % excitatory units; a random rate network
    ``tau dx/dt = -x + W tanh(x) + B s`` driven by the target direction from the cue on
    and a hold signal released at go; a linear readout (hand x, y). The target is a
    straight reach to the target after go, rotated by ``rotation`` degrees. Trials of
    ``n_steps`` steps are laid end to end.

    Examples
    --------
    >>> s = simulate_model_session(n_units=10, n_targets=2, n_repeats=1, n_steps=20)
    >>> s.rates.shape
    (2, 20, 10)
    """
    from nwbmotor.models import ModelSession, NetworkSnapshot

    rng = np.random.default_rng(seed)
    n_trials = n_targets * n_repeats
    target_id = np.tile(np.arange(n_targets), n_repeats)
    angle = 360.0 * target_id / n_targets
    cue_step, go_step = int(0.3 * n_steps), int(0.6 * n_steps)
    inputs = np.zeros((n_trials, n_steps, 3))
    rad = np.deg2rad(angle)
    inputs[:, cue_step:, 0] = np.cos(rad)[:, None]
    inputs[:, cue_step:, 1] = np.sin(rad)[:, None]
    inputs[:, :go_step, 2] = 1.0
    w_rec = rng.normal(0, 1.2 / np.sqrt(n_units), (n_units, n_units))
    w_in = rng.normal(0, 1.0, (n_units, 3))
    tau = 0.05
    x = np.zeros((n_trials, n_units))
    rates = np.zeros((n_trials, n_steps, n_units))
    for k in range(n_steps):
        r = np.tanh(x)
        x = x + dt / tau * (-x + r @ w_rec.T + inputs[:, k] @ w_in.T)
        rates[:, k] = np.tanh(x)
    w_out = rng.normal(0, 0.3 / np.sqrt(n_units), (2, n_units))
    outputs = rates @ w_out.T
    reach = np.clip((np.arange(n_steps) - go_step) / (0.3 * n_steps), 0, 1)
    rot = np.deg2rad(angle + rotation)
    targets = np.stack([np.cos(rot)[:, None] * reach, np.sin(rot)[:, None] * reach], axis=-1)
    n_e = int(round(0.8 * n_units))
    cell = np.array(["E"] * n_e + ["I"] * (n_units - n_e))[rng.permutation(n_units)]
    module = np.array(["PMd"] * (n_units // 2) + ["M1"] * (n_units - n_units // 2))
    phase = "before" if rotation == 0 else "after"
    return ModelSession(
        name=name, description="Toy centre-out reach by a random rate network (test data).", dt=dt,
        model="toy-rnn", seed=seed,
        units={"module": module, "cell_type": cell, "gain_group": np.full(n_units, -1)},
        rates=rates, outputs=outputs, targets=targets, inputs=inputs,
        trials={"target_id": target_id, "target_angle": angle, "perturbation": np.full(n_trials, float(rotation)),
                "phase": np.full(n_trials, phase), "go_time": np.full(n_trials, go_step * dt),
                "cue_time": np.full(n_trials, cue_step * dt)},
        networks=[NetworkSnapshot(phase, tau=tau, dt=dt, nonlinearity="tanh",
                                  weights={"W_rec": w_rec, "W_in": w_in, "W_out": w_out})],
    )


def write_model_session_file(
    path: str | os.PathLike[str], *, overwrite: bool = False, **simulate: Any
) -> Path:
    """Write :func:`simulate_model_session` with the model writer ``nwbmotor.models.write_model_session``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_model_session_file(pathlib.Path(tempfile.mkdtemp()) / "m.nwb", n_units=8)
    >>> p.exists()
    True
    """
    from nwbmotor.converters.model import write_model_session

    return write_model_session(simulate_model_session(**simulate), path, overwrite=overwrite)
