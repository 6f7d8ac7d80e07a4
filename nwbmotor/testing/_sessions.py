"""One planted lab session, three renderings: raw lab files, NWB by nwbmotor's converters, the expected view.

:func:`write_lab_files` plants one imaged lever-press session and renders it **(a)** as
the files a lab of this kind keeps: the rig's continuous Ephus channels (``Lever``,
``Trial_number``, ``Frame``, ``Lever_touch``, ``Opto`` with light trials) and, unless
``dispatcher=False``, the Dispatcher task file (:func:`~nwbmotor.testing.write_rig_session`);
a Suite2p plane folder whose ROIs respond to the lever movements the rig recorded
(:func:`~nwbmotor.testing.write_suite2p_plane`); a registration table giving every ROI
its cross-session ``global_id``; and the conversion spec of these files.
:func:`convert_lab_files` renders it **(b)** as NWB: ``nwbmotor.conversion`` converts the
spec, nothing is written by hand. :func:`expected_view` renders it **(c)**: the
``xarray.Dataset`` that ``nwbmotor.open_session`` must give for (b), built from the
planted truth alone (DESIGN.md, "The session view").
:func:`write_lab_session` and :func:`write_lab_sessions` do (a) and (b) in one call.

What is planted exactly is expected exactly: frame times (the microscope's frame
pulses), trial starts (the bitcode sync edges), raw fluorescence, neuropil,
deconvolved traces, ``cell_type``, ``global_id``, the lever volts, trial numbers and
outcomes. What the converters compute is expected within :data:`VIEW_TOLERANCES`:
Dispatcher times mapped onto the acquisition clock (within a lever sample), dF/F
(computed here with the converter's own method,
:func:`nwbmotor.methods.dff_from_fluorescence`, up to float32 rounding), and the
detected lever movements against the planted ones.

Planted activity (one calcium model, :mod:`nwbmotor.testing._calcium`): movement-related
cells fire GCaMP transients at their own latency after each planted movement onset
(with probability ``p_active``, jitter ``timing_jitter``), quiescence-related cells fire
only while the lever rests, every cell has sparse background events.

:func:`simulate_model_session` / :func:`write_model_session_file` make a small model
session and write it with the model converter's writer.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nwbmotor._errors import NwbMotorValueError

if TYPE_CHECKING:
    import xarray as xr

    from nwbmotor.models import ModelSession
    from nwbmotor.testing._rig import RigSessionTruth

__all__ = [
    "VIEW_TOLERANCES",
    "LabSessionTruth",
    "assert_view_matches",
    "view_differences",
    "convert_lab_files",
    "expected_view",
    "write_lab_files",
    "write_lab_session",
    "write_lab_sessions",
    "simulate_model_session",
    "write_model_session_file",
]

#: Microscope field of view (µm) over the Suite2p image; the converters' default imaging plane.
_SAMPLE_RATE = 10_000.0
_NEUROPIL_COEFFICIENT = 0.7
_OPTO_PULSE_S = 0.01  # write_rig_session's light pulse width
_DFF_PRESET = "nwbmotor"  # the dF/F preset the spec gives the Suite2p source
_TRIAL_S = 7.5  # mean length of a rig trial (cue, response window, ITI), for duration -> n_trials

#: Tolerances of the values the converters compute (absolute, in the variable's unit).
VIEW_TOLERANCES: dict[str, float] = {
    # Dispatcher times mapped to the acquisition clock through the bitcodes: within a lever sample
    "dispatcher_time": 1.5 / _SAMPLE_RATE,
    # frame times of a frame rate whose period is not a whole number of lever samples
    "frame_time": 1.0 / _SAMPLE_RATE,
    # dF/F: the converter's float32 of dff_from_fluorescence
    "dff": 1e-5,
    # detected movement onsets against the planted ones (s); detections end at most this late
    "movement_onset": 0.02,
    "movement_offset": 0.05,
    # detected peak amplitude against the planted one: 0.05 V plus 5 % of the planted amplitude
    "movement_peak_amplitude": 0.05,
    "movement_peak_amplitude_relative": 0.05,
}


@dataclasses.dataclass(eq=False)
class LabSessionTruth:
    """Everything planted in one lab session, and where its renderings are.

    Traces are ``(n_frames, n_rois)`` as the view shows them (Suite2p stores the
    transpose). Times are seconds on the session clock (the acquisition board's, t = 0
    at its first sample); imaging frame ``k`` starts at ``frame_times[k]``, the k-th
    frame pulse.

    Attributes
    ----------
    subject_id, session_id : str
    frame_rate : float
    frame_times : ndarray of shape (n_frames,)
    fluorescence, neuropil, deconvolved : ndarray of float32, shape (n_frames, n_rois)
        Suite2p's ``F``, ``Fneu`` and ``spks`` as written.
    planted_dff : ndarray of shape (n_frames, n_rois)
        The noise-free dF/F of the planted transients.
    cell_type : ndarray of str
        "inhibitory" for red ROIs, else "excitatory".
    global_id : ndarray of int64
    iscell : ndarray of bool
    valid : ndarray of bool
        False for the ROIs planted dead (``invalid_rois``: neuropil-corrected F below 0).
    centroid_px : ndarray of shape (n_rois, 2)
        Weighted mask centroid in NWB's (x, y) order: x the row (Suite2p ``ypix``), then y the
        column (``xpix``), pixels.
    movement_related, quiescence_related : ndarray of bool
    latency : ndarray
        Preferred event time after movement onset of each movement-related cell (NaN otherwise).
    rig : RigSessionTruth
        The rig's truth: trials on both clocks, movements, frame pulses, light, the lever.
    dispatcher : bool
        Whether the Dispatcher file is part of the session.
    opto : bool
        Whether the session has light trials (an ``optogenetics`` source).
    raw_folder, spec_path : Path
        Rendering (a).
    image_shape : (int, int)
    input_source : ndarray of str or None
    axon : ndarray of int or None
        The axon of each ROI when boutons were planted (``boutons_per_axon > 1``).
    segmentation : {"suite2p", "lab_rois"}
        Which segmentation source holds the ROIs (:func:`expected_view` renders the
        Suite2p one).
        Input-source label of each ROI, when planted.
    path : Path or None
        Rendering (b), once converted.
    """

    subject_id: str
    session_id: str
    frame_rate: float
    frame_times: np.ndarray
    fluorescence: np.ndarray
    neuropil: np.ndarray
    deconvolved: np.ndarray
    planted_dff: np.ndarray
    cell_type: np.ndarray
    global_id: np.ndarray
    iscell: np.ndarray
    valid: np.ndarray
    centroid_px: np.ndarray
    movement_related: np.ndarray
    quiescence_related: np.ndarray
    latency: np.ndarray
    rig: RigSessionTruth
    dispatcher: bool
    opto: bool
    raw_folder: Path
    spec_path: Path
    image_shape: tuple[int, int]
    input_source: np.ndarray | None = None
    axon: np.ndarray | None = None
    segmentation: str = "suite2p"
    path: Path | None = None
    _dff: np.ndarray | None = dataclasses.field(default=None, repr=False)

    @property
    def n_frames(self) -> int:
        return int(self.fluorescence.shape[0])

    @property
    def n_rois(self) -> int:
        return int(self.fluorescence.shape[1])

    @property
    def roi_ids(self) -> np.ndarray:
        return np.arange(self.n_rois, dtype=np.int64)

    @property
    def excluded(self) -> np.ndarray:
        """No ROI is excluded: a Suite2p folder has no exclusion labels."""
        return np.zeros(self.n_rois, dtype=bool)

    @property
    def lever(self) -> np.ndarray:
        """The lever trace, volts, as the rig wrote it (10 kHz)."""
        assert self.rig.lever is not None
        return self.rig.lever

    @property
    def lever_rate(self) -> float:
        return float(self.rig.sample_rate)

    @property
    def dff(self) -> np.ndarray:
        """The dF/F the Suite2p converter writes, float32 (n_frames, n_rois).

        Computed from the planted F and Fneu with the converter's method
        (:func:`nwbmotor.methods.dff_from_fluorescence` of ``F - 0.7 Fneu``, with the
        preset the spec gives the Suite2p source, "nwbmotor"); compare with
        :data:`VIEW_TOLERANCES` ``["dff"]``.
        """
        if self._dff is None:
            from nwbmotor.methods import dff_from_fluorescence

            corrected = (self.fluorescence.astype(np.float64)
                         - _NEUROPIL_COEFFICIENT * self.neuropil.astype(np.float64)).T
            dff, _, _ = dff_from_fluorescence(corrected, self.frame_rate, preset=_DFF_PRESET)
            self._dff = dff.T.astype(np.float32)
        return self._dff

    @property
    def centroid_um(self) -> np.ndarray:
        """ROI centroids in µm (x, y), with the converters' default field of view over the image."""
        from nwbmotor.converters._ophys import ophys_metadata

        plane = ophys_metadata(image_shape=self.image_shape, imaging_rate=self.frame_rate)["Ophys"]["ImagingPlanes"]["ImagingPlane"]
        spacing = np.asarray(plane["grid_spacing"], dtype=np.float64)[:2] * 1e6  # metres -> µm
        return self.centroid_px * spacing

    @property
    def trials(self) -> dict[str, np.ndarray]:
        """Planted trial times on the session clock (start, stop, cue, reward, movement), and outcomes."""
        r = self.rig
        press = r.press_movement
        onset = np.where(r.rewarded, r.movement_onsets[np.maximum(press, 0)], np.nan)
        return {"start_time": r.start_times, "stop_time": r.stop_times, "cue_time": r.cue_times,
                "reward_time": r.reward_times, "movement_onset": onset, "rewarded": r.rewarded,
                "catch": r.catch, "opto": r.opto}

    def expected_view(self) -> xr.Dataset:
        """Rendering (c): see :func:`expected_view`."""
        return expected_view(self)


# --------------------------------------------------------------------------- planting
def _draw_cells(rng: np.random.Generator, n_rois: int, fractions: Mapping[str, float]) -> dict[str, np.ndarray]:
    order = rng.permutation(n_rois)
    n_mov = int(round(fractions["movement"] * n_rois))
    n_qui = int(round(fractions["quiescence"] * n_rois))
    movement = np.isin(np.arange(n_rois), order[:n_mov])
    quiescence = np.isin(np.arange(n_rois), order[n_mov:n_mov + n_qui])
    inhibitory = np.zeros(n_rois, bool)
    rest = order[n_mov + n_qui:]
    inhibitory[rest[: int(round(fractions["inhibitory"] * n_rois))]] = True
    return {"movement": movement, "quiescence": quiescence, "inhibitory": inhibitory}


def _plant_dff(
    rng: np.random.Generator,
    frame_times: np.ndarray,
    frame_rate: float,
    onsets: np.ndarray,
    offsets: np.ndarray,
    cells: Mapping[str, np.ndarray],
    latency: np.ndarray,
    *,
    p_active: float,
    timing_jitter: float,
    spontaneous_rate_hz: float = 0.02,
) -> np.ndarray:
    """Noise-free dF/F (n_rois, n_frames) of the planted transients."""
    from nwbmotor.testing._calcium import gcamp_trace

    n_rois, n_frames = latency.size, frame_times.size
    t0, t1 = float(frame_times[0]), float(frame_times[-1])
    moving = np.zeros(n_frames, bool)
    for on, off in zip(onsets, offsets, strict=True):
        moving |= (frame_times >= on - 0.5) & (frame_times <= off + 1.0)
    quiet = frame_times[~moving]
    dff = np.zeros((n_rois, n_frames))
    for c in range(n_rois):
        times = [rng.uniform(t0, t1, rng.poisson(spontaneous_rate_hz * (t1 - t0)))]
        if cells["movement"][c]:
            fire = rng.random(onsets.size) < p_active
            times.append(onsets[fire] + latency[c] + rng.normal(0.0, timing_jitter, int(fire.sum())))
        if cells["quiescence"][c] and quiet.size:
            n = min(rng.poisson(0.2 * quiet.size / frame_rate), quiet.size)
            times.append(rng.choice(quiet, size=n, replace=False))
        t = np.sort(np.concatenate(times))
        amplitudes = rng.lognormal(np.log(1.0), 0.3, t.size)
        dff[c] = gcamp_trace(t - t0, amplitudes, n_frames, frame_rate)
    return dff


def write_lab_files(
    folder: str | os.PathLike[str],
    *,
    n_rois: int = 24,
    n_trials: int | None = None,
    duration: float | None = None,
    frame_rate: float = 28.0,
    dispatcher: bool = True,
    opto_fraction: float = 0.2,
    subject_id: str = "AP071",
    session_id: str = "day01",
    session_start_time: str = "2014-03-01T10:00:00-08:00",
    seed: int = 0,
    fraction_movement_related: float = 0.3,
    fraction_quiescence_related: float = 0.1,
    fraction_inhibitory: float = 0.2,
    timing_jitter: float = 0.1,
    p_active: float = 0.8,
    noise_sd: float = 0.05,
    press_probability: float = 0.85,
    image_shape: tuple[int, int] | None = None,
    global_ids: Sequence[int] | None = None,
    invalid_rois: Sequence[int] = (),
    input_sources: Sequence[str] | None = None,
    segmentation: str = "suite2p",
    boutons_per_axon: int = 1,
    source_latencies: Mapping[str, float] | None = None,
    spontaneous_rate_hz: float = 0.02,
) -> LabSessionTruth:
    """Plant one imaged lever-press session and write it as the lab's raw files with their spec.

    Parameters
    ----------
    folder : str or PathLike
        Created if needed: ``rig/``, ``suite2p/plane0/``, ``registration.csv`` and
        ``spec.yaml`` go there.
    n_rois : int, default 24
    n_trials : int, optional
        Trials of the task (default from ``duration``, else 10).
    duration : float, optional
        Approximate session length, s (a trial lasts about 7.5 s); ignored with ``n_trials``.
    frame_rate : float, default 28
        Imaging rate. A rate whose period is a whole number of 0.1 ms lever samples
        (25, 31.25 Hz, ...) gives frame pulses exactly on the rate's grid.
    dispatcher : bool, default True
        Include the Dispatcher file (trials); without it the session has the rig's
        acquisition only (lever, frame pulses, movements, no trials table).
    opto_fraction : float, default 0.2
        Fraction of light trials (an ``optogenetics`` source when > 0; light lowers the
        press probability to a third).
    subject_id, session_id, session_start_time : str
    seed : int
    fraction_movement_related, fraction_quiescence_related, fraction_inhibitory : float
    timing_jitter : float
        Jitter (s) of a movement-related cell's event around its latency.
    p_active : float
        Probability that a movement-related cell fires on a movement.
    noise_sd : float
        White noise of F, in units of dF/F.
    press_probability : float
        Chance the mouse presses after a cue.
    image_shape : (int, int), optional
        Size of the imaged field; default square, 64 pixels or more, room for ``n_rois`` somata.
    global_ids : sequence of int, optional
        Cross-session ids of the ROIs (default ``0 .. n_rois - 1``).
    invalid_rois : sequence of int
        ROIs planted dead: their neuropil-corrected F is below 0, so the converter's
        dF/F baseline fails (``dff_valid`` False).
    input_sources : sequence of str, optional
        Input-source label per ROI (axonal boutons, e.g. ``"motor thalamus"``), given to
        the segmentation source as its ``input_source`` (the ROI table's column).
    segmentation : {"suite2p", "lab_rois"}, default "suite2p"
        The ROIs as a Suite2p plane folder (``suite2p/plane0/``: F, Fneu, spks, stat,
        the converter computes dF/F) or as the lab's ROI files (``rois/``: ``.roi``
        polygons, ``_roilabels.roilabel`` with ``gad`` tags, ``_roi_data.mat`` with
        ``im.roi_trace_df`` = the planted dF/F plus white noise of ``noise_sd``).
    boutons_per_axon : int, default 1
        Above 1, ROIs are axonal boutons: consecutive groups of this many ROIs are one
        axon, sharing its planted transients with a gain per bouton (0.6-1.4) and their
        own noise; movement-relatedness and latency belong to the axon (``truth.axon``).
        The ROIs of an axon must share their ``input_sources`` label.
    source_latencies : mapping of str to float, optional
        Latency (s after movement onset) of the movement-related axons of each input
        source (± 30 ms), instead of a uniform draw in −0.05 … 0.4 s; needs
        ``input_sources``.
    spontaneous_rate_hz : float, default 0.02
        Rate of each cell's (or axon's) transients outside the planted ones.

    Returns
    -------
    LabSessionTruth

    Examples
    --------
    >>> import tempfile
    >>> truth = write_lab_files(tempfile.mkdtemp(), n_rois=4, n_trials=3)
    >>> truth.spec_path.name, truth.fluorescence.shape[1]
    ('spec.yaml', 4)
    """
    import yaml

    from nwbmotor.testing._calcium import raw_traces
    from nwbmotor.testing._rig import write_rig_session
    from nwbmotor.testing._segmentation import (
        make_cell_field,
        render_session,
        write_registration_table,
        write_suite2p_plane,
    )

    if n_trials is None:
        n_trials = 10 if duration is None else max(2, int(round(duration / _TRIAL_S)))
    if n_rois < 1 or n_trials < 1 or not frame_rate > 0:
        raise NwbMotorValueError(
            f"write_lab_files: expected n_rois >= 1, n_trials >= 1 and frame_rate > 0, got "
            f"n_rois={n_rois}, n_trials={n_trials}, frame_rate={frame_rate}"
        )
    if global_ids is not None and len(global_ids) != n_rois:
        raise NwbMotorValueError(f"write_lab_files: global_ids has {len(global_ids)} values, expected n_rois={n_rois}")
    if input_sources is not None and (len(input_sources) != n_rois or not all(str(v).strip() for v in input_sources)):
        raise NwbMotorValueError(
            f"write_lab_files: input_sources needs one non-empty label per ROI ({n_rois}), got {len(input_sources)}")
    if segmentation not in ("suite2p", "lab_rois"):
        raise NwbMotorValueError(
            f"write_lab_files: segmentation must be 'suite2p' or 'lab_rois', got {segmentation!r}")
    if int(boutons_per_axon) < 1:
        raise NwbMotorValueError(f"write_lab_files: boutons_per_axon must be >= 1, got {boutons_per_axon!r}")
    axon = np.arange(n_rois) // int(boutons_per_axon)
    n_axons = int(axon[-1]) + 1
    if input_sources is not None:
        labels_arr = np.asarray([str(v) for v in input_sources])
        mixed = [a for a in range(n_axons) if np.unique(labels_arr[axon == a]).size > 1]
        if mixed:
            raise NwbMotorValueError(
                f"write_lab_files: the ROIs of axon(s) {mixed} (groups of boutons_per_axon={boutons_per_axon} "
                f"consecutive ROIs) have different input_sources; give one label per axon")
    if source_latencies is not None:
        missing = sorted(set() if input_sources is None else set(labels_arr.tolist()) - set(source_latencies))
        if input_sources is None or missing:
            raise NwbMotorValueError(
                f"write_lab_files: source_latencies needs input_sources and a latency for every source; "
                f"missing {missing if input_sources is not None else 'input_sources'}")
    bad = [i for i in invalid_rois if not 0 <= i < n_rois]
    if bad:
        raise NwbMotorValueError(f"write_lab_files: invalid_rois {bad} outside 0..{n_rois - 1}")
    if image_shape is None:
        side = max(64, 16 * int(np.ceil(np.sqrt(n_rois) * 14 / 16)))
        image_shape = (side, side)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 7])
    rig = write_rig_session(
        folder / "rig", n_trials=n_trials, sample_rate=_SAMPLE_RATE, frame_rate=frame_rate,
        opto_fraction=opto_fraction, press_probability=press_probability,
        opto_press_probability=press_probability / 3 if opto_fraction > 0 else None,
        animal=subject_id, seed=seed,
        # press shapes vary; every planted press is fast enough for the lab's 0.7 V/s criterion
        lever_options={"press_styles": {"typical": 2, "fast": 1, "slow": 1, "double": 1}},
    )
    frame_times = rig.frame_times
    # cells are drawn per axon; without boutons every ROI is its own axon
    cells = _draw_cells(rng, n_axons, {"movement": fraction_movement_related,
                                       "quiescence": fraction_quiescence_related, "inhibitory": fraction_inhibitory})
    latency = np.where(cells["movement"], rng.uniform(-0.05, 0.4, n_axons), np.nan)
    if source_latencies is not None:
        axon_source = np.asarray([labels_arr[axon == a][0] for a in range(n_axons)])
        jitter = np.random.default_rng([seed, 11]).normal(0.0, 0.03, n_axons)
        latency = np.where(cells["movement"], [source_latencies[v] for v in axon_source] + jitter, np.nan)
    planted = _plant_dff(rng, frame_times, frame_rate, rig.movement_onsets, rig.movement_offsets, cells,
                         np.nan_to_num(latency), p_active=p_active, timing_jitter=timing_jitter,
                         spontaneous_rate_hz=spontaneous_rate_hz)
    if boutons_per_axon > 1:
        gain = np.random.default_rng([seed, 13]).uniform(0.6, 1.4, n_rois)
        planted = planted[axon] * gain[:, None]
        cells = {k: v[axon] for k, v in cells.items()}
        latency = latency[axon]
    traces = raw_traces(planted, frame_rate, rng, noise_sd=noise_sd, neuropil_coefficient=_NEUROPIL_COEFFICIENT)
    valid = np.ones(n_rois, bool)
    for i in invalid_rois:  # a dead ROI: less light than its neuropil
        traces["F"][i] = (0.5 * _NEUROPIL_COEFFICIENT * traces["Fneu"][i]).astype(np.float32)
        valid[i] = False
    field = make_cell_field(n_rois, image_shape, seed=seed)
    rendered = render_session(field, shuffle=False, seed=seed)
    plane = folder / "suite2p" / "plane0"
    if segmentation == "suite2p":
        written = write_suite2p_plane(plane, session=rendered, traces=traces, frame_rate=frame_rate,
                                      inhibitory=cells["inhibitory"].tolist(), seed=seed)
    else:
        written = _write_lab_rois(folder / "rois", subject_id, session_id, rendered, planted, cells["inhibitory"],
                                  noise_sd, seed)
    gid = np.arange(n_rois, dtype=np.int64) if global_ids is None else np.asarray(global_ids, dtype=np.int64)
    registration = write_registration_table(folder / "registration.csv", {session_id: gid.tolist()})
    # NWB (x, y): x is the first image axis (the row, ypix), y the second (the column, xpix)
    centroid = np.array([[np.sum(y * w) / np.sum(w), np.sum(x * w) / np.sum(w)]
                         for y, x, w in (tuple(np.asarray(a, np.float64) for a in m) for m in rendered["masks"])])

    labelled = {} if input_sources is None else {"input_source": [str(v) for v in input_sources]}
    segmentation_source: dict[str, Any] = (
        {"suite2p": {"folder_path": str(plane.relative_to(folder)), "dff_preset": _DFF_PRESET, **labelled}}
        if segmentation == "suite2p" else
        {"lab_rois": {"file_path": str(written["roi_path"].relative_to(folder)),
                      "dff_path": str(written["dff_path"].relative_to(folder)),
                      "image_shape": [int(v) for v in image_shape], "frame_rate": float(frame_rate), **labelled}}
    )
    sources: dict[str, Any] = {
        **segmentation_source,
        "registration": {"file_path": str(registration.relative_to(folder)), "session": session_id},
        "xsglog": {"folder_path": str(rig.folder.relative_to(folder))},
    }
    if dispatcher:
        sources["dispatcher"] = {"file_path": str(rig.dispatcher_path.relative_to(folder))}
    else:
        rig.dispatcher_path.unlink()
    opto = bool(rig.opto.any())
    if opto:
        sources["optogenetics"] = {"location": "MOp", "effector": "ChR2", "driver": "PV-Cre",
                                   "wavelength_in_nm": 473.0}
    spec = {
        "metadata": {"lab": "Motor learning lab (nwbmotor test data)", "institution": "nwbmotor",
                     "experimenter": ["Doe, Jane"]},
        "subjects": [{
            "subject_id": subject_id, "species": "Mus musculus", "sex": "F", "age": "P60D",
            "genotype": "PV-Cre;Ai32;GAD-Cre;tdTomato" if opto else "GAD-Cre;tdTomato",
            "sessions": [{
                "session_id": session_id, "session_start_time": session_start_time,
                "session_description": "Cued lever-press session with two-photon imaging (nwbmotor test data).",
                "sources": sources,
            }],
        }],
    }
    spec_path = folder / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return LabSessionTruth(
        subject_id=subject_id, session_id=session_id, frame_rate=float(frame_rate), frame_times=frame_times,
        fluorescence=np.ascontiguousarray(traces["F"].T), neuropil=np.ascontiguousarray(traces["Fneu"].T),
        deconvolved=np.ascontiguousarray(traces["spks"].T), planted_dff=planted.T,
        cell_type=np.asarray(written["cell_type"], dtype=str), global_id=gid,
        iscell=np.asarray(written["iscell"][:, 0] > 0.5), valid=valid, centroid_px=centroid,
        movement_related=cells["movement"], quiescence_related=cells["quiescence"], latency=latency,
        rig=rig, dispatcher=dispatcher, opto=opto, raw_folder=folder, spec_path=spec_path,
        image_shape=(int(image_shape[0]), int(image_shape[1])),
        input_source=None if input_sources is None else np.asarray(input_sources, dtype=str),
        axon=axon if boutons_per_axon > 1 else None, segmentation=segmentation,
    )


def _write_lab_rois(
    folder: Path,
    subject_id: str,
    session_id: str,
    rendered: Mapping[str, Any],
    planted: np.ndarray,
    inhibitory: np.ndarray,
    noise_sd: float,
    seed: int,
) -> dict[str, Any]:
    """The ROIs as the lab's ROI files: polygons around the rendered masks, labels, dF/F."""
    from nwbmotor.testing._segmentation import _outline, write_roi_dff_file, write_roi_file, write_roilabel_file

    rng = np.random.default_rng([seed, 17])
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{subject_id}_{session_id}"
    polygons = [_outline(np.asarray(y, float), np.asarray(x, float), 16, rng) for y, x, _ in rendered["masks"]]
    dff = planted + rng.normal(0.0, noise_sd, planted.shape)
    return {
        "roi_path": write_roi_file(folder / f"{name}.roi", polygons),
        "labels_path": write_roilabel_file(folder / f"{name}_roilabels.roilabel",
                                           [["gad"] if g else [] for g in inhibitory]),
        "dff_path": write_roi_dff_file(folder / f"{name}_roi_data.mat", dff),
        "cell_type": np.where(inhibitory, "inhibitory", "excitatory"),
        "iscell": np.ones((planted.shape[0], 2)),
    }


# --------------------------------------------------------------------------- rendering (b)
def convert_lab_files(
    truth: LabSessionTruth,
    path: str | os.PathLike[str] | None = None,
    *,
    backend: Literal["hdf5", "zarr"] = "hdf5",
    overwrite: bool = False,
) -> Path:
    """Convert the session's raw files with ``nwbmotor.conversion`` (its spec, its converters).

    Parameters
    ----------
    truth : LabSessionTruth
        From :func:`write_lab_files`.
    path : str or PathLike, optional
        Where the NWB file goes; default the DANDI path under ``<raw_folder>/nwb``.
    backend : {"hdf5", "zarr"}
    overwrite : bool

    Returns
    -------
    Path
        Also set as ``truth.path``.

    Raises
    ------
    NwbMotorValueError
        When the conversion fails (its message says why).
    """
    from nwbmotor.conversion import convert_session, load_spec

    (session,) = list(load_spec(truth.spec_path))
    out_dir = truth.raw_folder / "nwb"
    outcome = convert_session(session, out_dir, backend=backend, overwrite=overwrite)
    if outcome.status == "failed":
        raise NwbMotorValueError(f"convert_lab_files: {truth.spec_path}: the conversion failed: {outcome.message}")
    written = Path(outcome.path)
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            if not overwrite:
                raise NwbMotorValueError(f"convert_lab_files: {target} exists; pass overwrite=True to replace it")
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        shutil.move(str(written), str(target))
        written = target
    truth.path = written
    return written


def _raw_folder_for(path: Path) -> Path:
    return path.parent / f".{path.name}-raw"


def write_lab_session(
    path: str | os.PathLike[str],
    *,
    backend: Literal["hdf5", "zarr"] = "hdf5",
    overwrite: bool = False,
    raw_folder: str | os.PathLike[str] | None = None,
    **plant: Any,
) -> LabSessionTruth:
    """Plant a lab session, write its raw files and convert them to ``path`` with nwbmotor's converters.

    Parameters
    ----------
    path : str or PathLike
        The ``.nwb`` file (or ``.nwb.zarr`` store) to write.
    backend : {"hdf5", "zarr"}
    overwrite : bool
    raw_folder : str or PathLike, optional
        Where the raw files go; default a hidden folder beside ``path``
        (``.<file name>-raw``).
    **plant
        Keyword arguments of :func:`write_lab_files`.

    Returns
    -------
    LabSessionTruth
        With ``path`` set.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> truth = write_lab_session(pathlib.Path(tempfile.mkdtemp()) / "s.nwb", n_rois=5, n_trials=3)
    >>> truth.path.exists()
    True
    """
    path = Path(path)
    folder = Path(raw_folder) if raw_folder is not None else _raw_folder_for(path)
    if folder.exists() and overwrite:
        shutil.rmtree(folder)
    truth = write_lab_files(folder, **plant)
    convert_lab_files(truth, path, backend=backend, overwrite=overwrite)
    return truth


def write_lab_sessions(
    folder: str | os.PathLike[str],
    *,
    subject_id: str = "AP071",
    n_sessions: int = 3,
    seed: int = 0,
    per_session: Sequence[Mapping[str, Any]] | None = None,
    overwrite: bool = False,
    **plant: Any,
) -> list[LabSessionTruth]:
    """Write several converted sessions of one mouse, ``sub-<id>/sub-<id>_ses-dayNN.nwb``, same cells.

    The ROIs keep their ``global_id`` across sessions (the same cells re-imaged; given
    by each session's registration table); session ``k`` starts on 2014-03-(k+1) unless
    ``session_start_time`` is given. ``per_session`` plants change across days:
    one mapping of :func:`write_lab_files` parameters per session, over ``**plant``
    (e.g. ``[{"fraction_movement_related": 0.2, "timing_jitter": 0.3}, ...]``). The raw
    files go to ``<folder>/raw/sub-<id>/dayNN``.

    Examples
    --------
    >>> import tempfile
    >>> truths = write_lab_sessions(tempfile.mkdtemp(), n_sessions=2, n_rois=4, n_trials=3)
    >>> [t.session_id for t in truths]
    ['day01', 'day02']
    """
    if per_session is not None and len(per_session) != n_sessions:
        raise NwbMotorValueError(
            f"write_lab_sessions: per_session has {len(per_session)} entries, expected n_sessions={n_sessions}"
        )
    folder = Path(folder)
    out = []
    for k in range(n_sessions):
        session_id = f"day{k + 1:02d}"
        path = folder / f"sub-{subject_id}" / f"sub-{subject_id}_ses-{session_id}.nwb"
        params = {"session_start_time": f"2014-03-{k + 1:02d}T10:00:00-08:00", "seed": seed * 1000 + k,
                  **plant, **(per_session[k] if per_session is not None else {})}
        out.append(write_lab_session(
            path, raw_folder=folder / "raw" / f"sub-{subject_id}" / session_id, subject_id=subject_id,
            session_id=session_id, overwrite=overwrite, **params))
    return out


# --------------------------------------------------------------------------- rendering (c)
def _frames(times: np.ndarray, frame_times: np.ndarray) -> np.ndarray:
    from nwbmotor.methods import map_to_frames

    return np.asarray(map_to_frames(times, frame_times), dtype=np.int64)


def expected_view(truth: LabSessionTruth) -> xr.Dataset:
    """Rendering (c): the session view ``nwbmotor.open_session`` must give of the converted file.

    Built from the planted truth alone, in the vocabulary of the session view
    (DESIGN.md): ``activity`` (time, unit) dF/F beside ``fluorescence`` (raw F),
    ``behavior`` (time_behavior, channel ``lever``) in volts, the trial table on
    ``trial``, the movements on ``movement``, the light epochs on ``epoch``, the ROI
    coordinates on ``unit``. Values the converters compute are filled with what they
    should be: dF/F by the converter's own method; Dispatcher times mapped onto the
    acquisition clock by the true clock relation; movements as planted (compare with
    :data:`VIEW_TOLERANCES`). Volatile attributes (``identifier``, ``source_file``,
    ``nwb_path``, ``notes``) are left out.

    Examples
    --------
    >>> import tempfile
    >>> truth = write_lab_files(tempfile.mkdtemp(), n_rois=3, n_trials=3)
    >>> ds = expected_view(truth)
    >>> ds.activity.dims, ds.sizes["unit"]
    (('time', 'unit'), 3)
    """
    import xarray as xr

    r = truth.rig
    n_rois = truth.n_rois
    centroid = truth.centroid_um
    lever_time = np.arange(r.lever.size) / r.sample_rate if r.lever is not None else np.zeros(0)
    coords: dict[str, Any] = {
        "time": ("time", truth.frame_times, {"units": "s", "long_name": "time in the session clock"}),
        "unit_id": ("unit", truth.roi_ids, {"long_name": "row id in the unit/ROI table"}),
        "cell_type": ("unit", truth.cell_type, {"values": "excitatory, inhibitory or unknown"}),
        "global_id": ("unit", truth.global_id, {"long_name": "identity across sessions", "missing": -1}),
        "source": ("unit", np.full(n_rois, "imaging"), {}),
        "region": ("unit", np.full(n_rois, "MOp"), {}),
        "excluded": ("unit", np.zeros(n_rois, bool), {"long_name": "excluded from analyses (filled or unhealthy cell)"}),
        "dff_valid": ("unit", truth.valid, {"long_name": "False when the dF/F baseline failed (NaN trace, "
                                                         ">= 95 % active frames)"}),
        **({} if truth.input_source is None else {"input_source": ("unit", truth.input_source, {})}),
        "iscell": ("unit", truth.iscell, {"long_name": "Suite2p cell classifier label"}),
        "unit_x": ("unit", centroid[:, 0], {"units": "um", "long_name": "ROI centroid x"}),
        "unit_y": ("unit", centroid[:, 1], {"units": "um", "long_name": "ROI centroid y"}),
        "time_behavior": ("time_behavior", lever_time, {"units": "s", "long_name": "time in the session clock"}),
        "channel": ("channel", np.array(["lever"])),
    }
    data: dict[str, Any] = {
        "activity": (("time", "unit"), truth.dff, {"units": "dF/F", "kind": "dff"}),
        "fluorescence": (("time", "unit"), truth.fluorescence, {"units": "a.u.", "kind": "fluorescence"}),
        "behavior": (("time_behavior", "channel"), truth.lever[:, None], {"units": "V"}),
    }
    s = {"units": "s"}
    if truth.dispatcher:
        n_trials = r.trial_numbers.size
        coords["trial"] = ("trial", np.arange(n_trials, dtype=np.int64))
        data.update({
            "start_time": ("trial", r.start_times, s),
            "stop_time": ("trial", r.to_session(r.dispatcher_stop_times), s),
            "trial_number": ("trial", r.trial_numbers.astype(np.int64), {}),
            "cue_time": ("trial", r.to_session(r.dispatcher_cue_times), s),
            "reward_time": ("trial", r.to_session(r.dispatcher_reward_times), s),
            "rewarded": ("trial", r.rewarded.astype(bool), {}),
            "catch": ("trial", r.catch.astype(bool), {}),
            "opto": ("trial", r.opto.astype(bool), {}),
            "dispatcher_start_time": ("trial", r.dispatcher_start_times, s),
            "dispatcher_offset": ("trial", r.start_times - r.dispatcher_start_times, {}),
            "aligned_by_bitcode": ("trial", np.ones(n_trials, bool), {}),
            "start_frame": ("trial", _frames(r.start_times, truth.frame_times), {}),
            "cue_frame": ("trial", _frames(r.cue_times, truth.frame_times), {}),
            "reward_frame": ("trial", _frames(r.reward_times, truth.frame_times), {}),
            "movement_onset": ("trial", _trial_movements(truth).movement_onset, s),
            "movement_offset": ("trial", _trial_movements(truth).movement_offset, s),
            "cued_rewarded": ("trial", _trial_movements(truth).cued_rewarded, {}),
        })
    n_mov = r.movement_onsets.size
    coords["movement"] = ("movement", np.arange(n_mov, dtype=np.int64))
    data.update({
        "movement_start_time": ("movement", r.movement_onsets, s),
        "movement_stop_time": ("movement", r.movement_offsets, s),
        "movement_peak_amplitude": ("movement", _planted_amplitudes(truth), {}),
    })
    if truth.dispatcher:  # the one movement-to-trial rule, on the planted movements and trial times
        tm = _trial_movements(truth)
        trial_of, rewarded_press, cued = tm.trial, tm.rewarded, tm.cued
    else:  # no trials: no movement belongs to one
        trial_of, rewarded_press, cued = np.full(n_mov, -1), np.zeros(n_mov, bool), np.zeros(n_mov, bool)
    data.update({
        "movement_rewarded": ("movement", rewarded_press, {}),
        "movement_cued": ("movement", cued, {}),
        "movement_trial": ("movement", trial_of.astype(np.int64), {}),
    })
    if truth.opto:
        lit = np.flatnonzero(r.opto)
        n_ep = lit.size
        coords["epoch"] = ("epoch", np.arange(n_ep, dtype=np.int64))
        if truth.dispatcher:  # the Dispatcher's opto_on states
            start, stop = r.opto_on[lit, 0], r.opto_on[lit, 1]
        else:  # the trains of the Opto TTL: first rising edge to last falling edge
            trains = np.split(r.opto_pulse_times, np.flatnonzero(np.diff(r.opto_pulse_times) > 0.5) + 1)
            width = round(_OPTO_PULSE_S * r.sample_rate) / r.sample_rate
            start = np.array([t[0] for t in trains])
            stop = np.array([t[-1] + width for t in trains])
        data.update({
            "epoch_start_time": ("epoch", start, s),
            "epoch_stop_time": ("epoch", stop, s),
            "epoch_stimulation_on": ("epoch", np.ones(n_ep, bool), {}),
            "epoch_pulse_length_in_ms": ("epoch", np.full(n_ep, 10.0), {}),
            "epoch_period_in_ms": ("epoch", np.full(n_ep, 50.0), {}),
            "epoch_number_pulses_per_pulse_train": ("epoch", np.full(n_ep, 20, np.int64), {}),
            "epoch_number_trains": ("epoch", np.ones(n_ep, np.int64), {}),
            "epoch_intertrain_interval_in_ms": ("epoch", np.zeros(n_ep), {}),
            "epoch_power_in_mW": ("epoch", np.full(n_ep, np.nan), {}),
            "epoch_wavelength_in_nm": ("epoch", np.full(n_ep, 473.0), {}),
            "epoch_optogenetic_sites": ("epoch", np.zeros(n_ep, np.int64), {}),
            "epoch_epoch_type": ("epoch", np.full(n_ep, "trial" if truth.dispatcher else "ttl"), {}),
            "epoch_dispatcher_trial": ("epoch", r.trial_numbers[lit].astype(np.int64) if truth.dispatcher
                                       else np.full(n_ep, -1, np.int64), {}),
        })
        data.update({
            "epoch_pulses_measured": ("epoch", np.ones(n_ep, bool), {}),
            "epoch_light_blocked": ("epoch", np.zeros(n_ep, bool), {}),
        })
    attrs = {
        "session_id": truth.session_id, "subject_id": truth.subject_id,
        "session_start_time": _start_time(truth),
        "session_description": "Cued lever-press session with two-photon imaging (nwbmotor test data).",
        "species": "Mus musculus", "source": "imaging", "activity_kind": "dff",
    }
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    ds["activity"].encoding = {}
    return ds


def _start_time(truth: LabSessionTruth) -> str:
    import yaml

    spec = yaml.safe_load(truth.spec_path.read_text())
    return str(spec["subjects"][0]["sessions"][0]["session_start_time"])


def _planted_amplitudes(truth: LabSessionTruth) -> np.ndarray:
    """Largest deflection of each planted press from the lever's value at its onset (V)."""
    r = truth.rig
    out = np.empty(r.movement_onsets.size)
    fs = r.sample_rate
    for i, (a, b) in enumerate(zip(r.movement_onsets, r.movement_offsets, strict=True)):
        seg = truth.lever[int(round(a * fs)): int(round(b * fs)) + 1]
        out[i] = float(np.max(np.abs(seg - seg[0]))) if seg.size else np.nan
    return out


def _trial_movements(truth: LabSessionTruth) -> Any:
    """The planted movements assigned to the planted trials by the one rule the converters use."""
    from nwbmotor.methods import assign_movements_to_trials

    r = truth.rig
    return assign_movements_to_trials(
        r.movement_onsets, r.movement_offsets, start_times=r.start_times,
        stop_times=r.to_session(r.dispatcher_stop_times), cue_times=r.cue_times, reward_times=r.reward_times)


# --------------------------------------------------------------------------- (b) against (c)
#: attrs of a view that differ from file to file (a uuid, where the file is, conversion notes)
VOLATILE_ATTRS = ("identifier", "source_file", "notes")
#: variable attrs naming where in the file a variable comes from
VOLATILE_VARIABLE_ATTRS = ("nwb_path",)

_DISPATCHER_TIMES = ("stop_time", "cue_time", "reward_time", "dispatcher_offset", "epoch_start_time",
                     "epoch_stop_time")
_FRAME_COLUMNS = {"start_frame": "start_times", "cue_frame": "cue_times", "reward_frame": "reward_times"}
_DETECTED = ("movement_start_time", "movement_stop_time", "movement_peak_amplitude", "movement_rewarded",
             "movement_cued", "movement_trial", "movement", "movement_offset")


def _tolerance(name: str, truth: LabSessionTruth) -> float:
    """Absolute tolerance of one variable; 0 for what is planted exactly."""
    if name in _DISPATCHER_TIMES:
        return VIEW_TOLERANCES["dispatcher_time"]
    if name == "activity":
        return VIEW_TOLERANCES["dff"]
    if name == "movement_onset":
        return VIEW_TOLERANCES["movement_onset"]
    if name == "time":
        period = truth.rig.sample_rate / truth.frame_rate
        return 1e-9 if abs(period - round(period)) < 1e-9 else VIEW_TOLERANCES["frame_time"]
    if name == "time_behavior":
        return 1e-9  # start + k / rate: exact up to float rounding
    if name in ("epoch_pulse_length_in_ms", "epoch_period_in_ms"):
        return 1e-9  # measured from TTL edges in whole samples: exact up to float rounding
    return 0.0


def _near_frame_midpoint(times: np.ndarray, frame_times: np.ndarray, tol: float) -> np.ndarray:
    """Events within ``tol`` of the midpoint between two frames: their nearest frame may be either."""
    mid = (frame_times[1:] + frame_times[:-1]) / 2
    t = np.where(np.isfinite(times), times, -np.inf)
    i = np.clip(np.searchsorted(mid, t), 1, mid.size - 1)
    gap = np.minimum(np.abs(t - mid[i - 1]), np.abs(t - mid[i]))
    return np.isfinite(times) & (gap <= tol)


def _compare_movements(actual: xr.Dataset, expected: xr.Dataset, problems: list[str]) -> None:
    """Detected movements against the planted ones.

    Every planted onset has a detection within ``VIEW_TOLERANCES["movement_onset"]``
    (its match) and every detection lies inside a planted movement (the detector may
    split a long hold into its push and its release: the second piece matches no
    onset but is no false movement). A match has the planted peak amplitude (within
    ``movement_peak_amplitude``), trial, rewarded and cued flags.
    """
    tol = VIEW_TOLERANCES["movement_onset"]
    on, off = actual["movement_start_time"].values, actual["movement_stop_time"].values
    p_on, p_off = expected["movement_start_time"].values, expected["movement_stop_time"].values
    match = np.full(p_on.size, -1)
    for i, t in enumerate(p_on):
        if on.size:
            j = int(np.argmin(np.abs(on - t)))
            if abs(on[j] - t) <= tol:
                match[i] = j
    if (match < 0).any():
        problems.append(f"movements: planted onsets {p_on[match < 0].round(4).tolist()} have no detection within "
                        f"{tol} s (detected {on.round(4).tolist()})")
    slack = VIEW_TOLERANCES["movement_offset"]
    inside = [bool(np.any((p_on - tol <= a) & (b <= p_off + slack))) for a, b in zip(on, off, strict=True)]
    if not all(inside):
        stray = [(round(float(a), 4), round(float(b), 4)) for a, b, ok in zip(on, off, inside, strict=True) if not ok]
        problems.append(f"movements: detections {stray} lie in no planted movement")
    found = match >= 0
    picked = match[found]
    planted_amp = expected["movement_peak_amplitude"].values[found]
    amp = np.abs(actual["movement_peak_amplitude"].values[picked] - planted_amp)
    limit = VIEW_TOLERANCES["movement_peak_amplitude"] + VIEW_TOLERANCES["movement_peak_amplitude_relative"] * planted_amp
    if amp.size and (amp > limit).any():
        problems.append(f"movement_peak_amplitude: matched movements {np.flatnonzero(amp > limit).tolist()} differ by "
                        f"{amp[amp > limit].round(4).tolist()} V from the planted amplitude")
    for name in ("movement_rewarded", "movement_cued", "movement_trial"):
        a, e = actual[name].values[picked], expected[name].values[found]
        if not np.array_equal(a, e):
            problems.append(f"{name}: matched movements differ: {a.tolist()} vs {e.tolist()}")
    if "movement_offset" in expected:  # each trial's rewarded movement: ends after its onset, within its press
        a_on, a_off = actual["movement_onset"].values, actual["movement_offset"].values
        e_off = expected["movement_offset"].values
        if not np.array_equal(np.isnan(a_off), np.isnan(e_off)):
            problems.append("movement_offset: NaN where the planted trials have none, or the reverse")
        else:
            ok = np.isnan(e_off) | ((a_off > a_on) & (a_off <= e_off + slack))
            if not ok.all():
                problems.append(f"movement_offset: trials {np.flatnonzero(~ok).tolist()} end outside their press")


def view_differences(actual: xr.Dataset, truth: LabSessionTruth) -> list[str]:
    """Every difference between a session view of the converted file and :func:`expected_view`.

    Variables, coords, dims, dtypes and attrs must be the same (minus
    :data:`VOLATILE_ATTRS` and :data:`VOLATILE_VARIABLE_ATTRS`); values exactly the
    same for what is planted exactly, within :data:`VIEW_TOLERANCES` for what the
    converters compute; nearest-frame columns exactly, but either neighbour for an
    event within a sample of a frame midpoint; detected movements as
    :func:`_compare_movements` says.

    Returns
    -------
    list of str
        Empty when the view is what the truth says.
    """
    expected = expected_view(truth)
    problems: list[str] = []
    a_vars, e_vars = {str(k) for k in actual.variables}, {str(k) for k in expected.variables}
    if a_vars != e_vars:
        problems.append(f"variables only in the view: {sorted(a_vars - e_vars)}; only expected: {sorted(e_vars - a_vars)}")
    a_coords, e_coords = sorted(str(k) for k in actual.coords), sorted(str(k) for k in expected.coords)
    if a_coords != e_coords:
        problems.append(f"coords differ: {a_coords} vs {e_coords}")
    sizes = {k: v for k, v in actual.sizes.items() if k != "movement"}
    if sizes != {k: v for k, v in expected.sizes.items() if k != "movement"}:
        problems.append(f"sizes differ: {dict(actual.sizes)} vs {dict(expected.sizes)}")
    attrs = {k: v for k, v in actual.attrs.items() if k not in VOLATILE_ATTRS}
    if attrs != expected.attrs:
        problems.append(f"attrs differ: {attrs} vs {expected.attrs}")
    for name in sorted(a_vars & e_vars):
        a, e = actual[name].variable, expected[name].variable
        if a.dims != e.dims:
            problems.append(f"{name}: dims {a.dims} vs {e.dims}")
            continue
        if a.dtype != e.dtype:
            problems.append(f"{name}: dtype {a.dtype} vs {e.dtype}")
        vattrs = {k: v for k, v in a.attrs.items() if k not in VOLATILE_VARIABLE_ATTRS}
        if vattrs != e.attrs:
            problems.append(f"{name}: attrs {vattrs} vs {e.attrs}")
        if name in _DETECTED:
            continue
        if a.shape != e.shape:
            problems.append(f"{name}: shape {a.shape} vs {e.shape}")
            continue
        av, ev = a.values, e.values
        if name in _FRAME_COLUMNS:
            loose = _near_frame_midpoint(getattr(truth.rig, _FRAME_COLUMNS[name]), truth.frame_times,
                                         VIEW_TOLERANCES["dispatcher_time"])
            bad = (av != ev) & ~(loose & (np.abs(av - ev) == 1))
            if bad.any():
                problems.append(f"{name}: rows {np.flatnonzero(bad).tolist()} differ: {av[bad]} vs {ev[bad]}")
            continue
        tol = _tolerance(name, truth)
        if av.dtype.kind == "f":
            if not np.array_equal(np.isnan(av), np.isnan(ev)):
                problems.append(f"{name}: NaN at {np.flatnonzero(np.isnan(av)).tolist()[:10]}, "
                                f"expected at {np.flatnonzero(np.isnan(ev)).tolist()[:10]}")
                continue
            finite = ~np.isnan(ev)
            err = np.abs(av[finite].astype(np.float64) - ev[finite]) if finite.any() else np.zeros(1)
            if err.max() > tol:
                problems.append(f"{name}: largest difference {err.max():.3g} > tolerance {tol:g}")
        elif not np.array_equal(av, ev):
            problems.append(f"{name}: values differ: {av[:8]} vs {ev[:8]}")
    if "movement_start_time" in actual and "movement_start_time" in expected:
        _compare_movements(actual, expected, problems)
    return problems


def assert_view_matches(actual: xr.Dataset, truth: LabSessionTruth) -> None:
    """Raise ``AssertionError`` listing every difference of :func:`view_differences`.

    Examples
    --------
    >>> import tempfile, nwbmotor
    >>> truth = write_lab_session(tempfile.mkdtemp() + "/s.nwb", n_rois=3, n_trials=3)
    >>> assert_view_matches(nwbmotor.open_session(truth.path), truth)
    """
    problems = view_differences(actual, truth)
    if problems:
        raise AssertionError(f"{truth.path}: the view differs from the planted truth:\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------- model sessions
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
    """Write :func:`simulate_model_session` with the model converter's writer
    (``nwbmotor.converters.model.write_model_session``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_model_session_file(pathlib.Path(tempfile.mkdtemp()) / "m.nwb", n_units=8)
    >>> p.exists()
    True
    """
    from nwbmotor.converters.model import write_model_session

    return write_model_session(simulate_model_session(**simulate), path, overwrite=overwrite)
