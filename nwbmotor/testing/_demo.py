"""The built-in example: a small lab dataset in the rig's own formats, with learning planted.

Two mice, four sessions each from naive to expert, every session with the files a lab
of this kind has on disk: a ScanImage 4 movie, a Suite2p plane folder, the continuous
Ephus channels (``.xsglog``) and the Dispatcher task file; a spine scoring table per
mouse; light on a fifth of the trials of the second mouse (PV-Cre × ChR2). The imaged
cells respond to the lever movements the rig files record, and the planted learning is
that of Peters et al. (2014): the movement-related population expands then refines,
responses become more reliable and more precisely timed (so the spatiotemporal
correlation rises), the mouse presses on more trials; light lowers the fraction of
rewarded trials. ``write_demo_dataset`` also writes the conversion spec.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

__all__ = ["DemoSessionTruth", "DemoDataset", "write_demo_dataset", "LEARNING"]

#: planted learning per session, naive to expert
LEARNING: dict[str, tuple[float, ...]] = {
    "fraction_movement_related": (0.12, 0.36, 0.28, 0.22),
    "p_fire": (0.45, 0.65, 0.8, 0.9),
    "timing_jitter_s": (0.35, 0.2, 0.1, 0.05),
    "press_probability": (0.55, 0.75, 0.9, 0.95),
}

_FRAME_RATE = 28.0
_DECAY_S = 0.7
_RISE_S = 0.05


@dataclasses.dataclass(frozen=True)
class DemoSessionTruth:
    """What one demo session planted."""

    subject_id: str
    session_id: str
    session_index: int
    movement_related: NDArray[np.int64]  # indices of movement-related cells (Suite2p ROI order)
    quiescence_related: NDArray[np.int64]
    inhibitory: NDArray[np.bool_]
    opto: bool
    n_frames: int


@dataclasses.dataclass(frozen=True)
class DemoDataset:
    """The written dataset: its spec and the truth of every session."""

    root: Path
    spec_path: Path
    sessions: tuple[DemoSessionTruth, ...]


def _kernel(rate: float) -> NDArray[np.float64]:
    from nwbmotor.testing._calcium import gcamp_kernel

    return gcamp_kernel(rate, rise_s=_RISE_S, decay_s=_DECAY_S, length_s=5 * _DECAY_S)


def _traces(
    rng: np.random.Generator,
    n_cells: int,
    frame_times: NDArray[np.float64],
    movement_onsets: NDArray[np.float64],
    movement_offsets: NDArray[np.float64],
    movement_related: NDArray[np.int64],
    quiescence_related: NDArray[np.int64],
    latencies: NDArray[np.float64],
    p_fire: float,
    jitter: float,
) -> dict[str, NDArray[np.float32]]:
    """Suite2p-like F, Fneu and spks whose transients follow the lever movements."""
    n_frames = frame_times.size
    rate = 1.0 / np.median(np.diff(frame_times))
    amplitude = np.zeros((n_cells, n_frames))

    def put(cell: int, times: NDArray[np.float64]) -> None:
        idx = np.searchsorted(frame_times, times)
        idx = idx[(idx > 0) & (idx < n_frames)]
        np.add.at(amplitude[cell], idx, rng.lognormal(np.log(1.0), 0.3, idx.size))

    for cell in range(n_cells):  # sparse background activity
        put(cell, rng.uniform(frame_times[0], frame_times[-1], rng.poisson(0.01 * frame_times[-1])))
    for cell in movement_related:
        fire = rng.random(movement_onsets.size) < p_fire
        times = movement_onsets[fire] + latencies[cell] + rng.normal(0, jitter, fire.sum())
        put(cell, times)
    moving = np.zeros(n_frames, dtype=bool)
    for on, off in zip(movement_onsets, movement_offsets):
        moving[(frame_times >= on - 0.5) & (frame_times <= off + 1.0)] = True
    quiet_times = frame_times[~moving]
    for cell in quiescence_related:
        n = rng.poisson(0.15 * quiet_times.size / rate)
        put(cell, rng.choice(quiet_times, size=n, replace=False) if n <= quiet_times.size else quiet_times)
    kernel = _kernel(rate)
    dff = np.stack([np.convolve(a, kernel)[:n_frames] for a in amplitude])
    baseline = rng.uniform(250, 600, n_cells)
    t = frame_times - frame_times[0]
    neuropil = 150 + 8 * np.sin(2 * np.pi * t / 90.0)[None, :] + rng.normal(0, 3, (n_cells, n_frames))
    F = baseline[:, None] * (1 + dff + rng.normal(0, 0.07, (n_cells, n_frames))) + 0.7 * neuropil
    return {
        "F": F.astype(np.float32),
        "Fneu": neuropil.astype(np.float32),
        "spks": (amplitude * baseline[:, None]).astype(np.float32),
    }


def _nested_sets(rng: np.random.Generator, candidates: NDArray[np.int64], fractions: tuple[float, ...],
                 n_cells: int) -> list[NDArray[np.int64]]:
    """Movement-related sets per session: grow to the peak, then keep a subset (refine)."""
    order = rng.permutation(candidates)
    sizes = [max(1, round(f * n_cells)) for f in fractions]
    peak = int(np.argmax(sizes))
    sets = []
    for i, size in enumerate(sizes):
        if i <= peak:
            sets.append(np.sort(order[:size]))
        else:  # the expert set is a subset of the peak set, not the earliest recruits only
            kept = rng.choice(order[: sizes[peak]], size=size, replace=False)
            sets.append(np.sort(kept))
    return sets


def write_demo_dataset(
    root: str | os.PathLike[str],
    *,
    n_mice: int = 2,
    n_sessions: int = 4,
    n_trials: int = 40,
    n_cells: int = 60,
    image_shape: tuple[int, int] = (96, 96),
    seed: int = 0,
) -> DemoDataset:
    """Write the demo's lab files and conversion spec under ``root``.

    Parameters
    ----------
    root : str or PathLike
        Created if needed; ``raw/``, ``s2p/``, ``rig/``, ``spines/`` and ``spec.yaml`` go there.
    n_mice : int, default 2
        The second mouse and later get light on a fifth of their trials.
    n_sessions : int, default 4
        At most ``len(LEARNING["p_fire"])``.
    n_trials : int, default 40
    n_cells : int, default 60
    image_shape : (int, int), default (96, 96)
    seed : int, default 0

    Returns
    -------
    DemoDataset

    Examples
    --------
    >>> import tempfile
    >>> demo = write_demo_dataset(tempfile.mkdtemp(), n_mice=1, n_sessions=1, n_trials=6, n_cells=8,
    ...                           image_shape=(64, 64))
    >>> demo.spec_path.name, len(demo.sessions)
    ('spec.yaml', 1)
    """
    from nwbmotor.testing._imaging import write_scanimage_session
    from nwbmotor.testing._rig import write_rig_session
    from nwbmotor.testing._segmentation import make_cell_field, render_session, write_spine_table, write_suite2p_plane

    if not 1 <= n_sessions <= len(LEARNING["p_fire"]):
        raise ValueError(f"n_sessions must be 1..{len(LEARNING['p_fire'])}, got {n_sessions}")
    root = Path(root)
    rng = np.random.default_rng(seed)
    subjects: list[dict[str, Any]] = []
    truths: list[DemoSessionTruth] = []
    for m in range(n_mice):
        subject_id = f"AP{71 + m:03d}"
        opto = m >= 1
        field = make_cell_field(n_cells, image_shape, seed=seed + 100 * m)
        latencies = rng.uniform(-0.05, 0.35, n_cells)
        candidates = rng.permutation(n_cells)
        mr_sets = _nested_sets(rng, candidates[: int(0.6 * n_cells)],
                               LEARNING["fraction_movement_related"][:n_sessions], n_cells)
        quiescence = candidates[int(0.6 * n_cells): int(0.6 * n_cells) + max(1, n_cells // 12)]
        day_names = [f"day{2 * s + 1:02d}" for s in range(n_sessions)]
        spine_csv = root / "spines" / f"{subject_id}_spines.csv"
        spine_csv.parent.mkdir(parents=True, exist_ok=True)
        write_spine_table(spine_csv, n_dendrites=10, sessions=day_names, seed=seed + m)
        sessions: list[dict[str, Any]] = []
        reference_plane = root / "s2p" / subject_id / day_names[0] / "suite2p" / "plane0"
        for s, day in enumerate(day_names):
            rig = write_rig_session(
                root / "rig" / subject_id / day,
                n_trials=n_trials,
                kind="xsglog",
                opto_fraction=0.2 if opto else 0.0,
                press_probability=LEARNING["press_probability"][s],
                opto_press_probability=0.3 * LEARNING["press_probability"][s] if opto else None,
                prefix=f"AP{71 + m:04d}AAAA{s + 1:04d}",
                animal=subject_id,
                date=f"1403{2 * s + 1:02d}a",
                seed=seed + 1000 * m + s,
            )
            movie = root / "raw" / subject_id / day
            write_scanimage_session(movie, n_frames=rig.n_movie_frames, shape=image_shape, version="SI4",
                                    frame_rate=_FRAME_RATE, file_stem=f"{subject_id}_{day}",
                                    seed=seed + 7 * s + m)
            rendered = render_session(field, shift=tuple(rng.uniform(-2, 2, 2)), jitter=0.3, shuffle=False,
                                      seed=seed + 31 * s + m)
            traces = _traces(rng, n_cells, rig.frame_times[: rig.n_movie_frames], rig.movement_onsets,
                             rig.movement_offsets, mr_sets[s], quiescence, latencies,
                             LEARNING["p_fire"][s], LEARNING["timing_jitter_s"][s])
            plane = root / "s2p" / subject_id / day / "suite2p" / "plane0"
            written = write_suite2p_plane(plane, session=rendered, traces=traces, frame_rate=_FRAME_RATE,
                                          seed=seed + s)
            sources: dict[str, Any] = {
                "scanimage": {"folder_path": str(movie.relative_to(root))},
                "suite2p": {"folder_path": str(plane.relative_to(root))},
                "registration": {"folder_path": str(reference_plane.relative_to(root)), "session": day,
                                 "reference_session": day_names[0]},
                "xsglog": {"folder_path": str(rig.folder.relative_to(root)), "n_movie_frames": rig.n_movie_frames},
                "dispatcher": {"file_path": str(rig.dispatcher_path.relative_to(root))},
                "spines": {"file_path": str(spine_csv.relative_to(root)), "session": day},
            }
            if opto:
                sources["optogenetics"] = {"location": "MOp", "effector": "ChR2", "driver": "PV-Cre",
                                           "wavelength_in_nm": 473.0}
            sessions.append({
                "session_id": day,
                "session_start_time": f"2014-03-{2 * s + 1:02d}T10:00:00-08:00",
                "session_description": f"Cued lever-press training, session {s + 1} of {n_sessions}, "
                                       "with two-photon imaging of layer 2/3 motor cortex.",
                "sources": sources,
            })
            truths.append(DemoSessionTruth(
                subject_id=subject_id, session_id=day, session_index=s, movement_related=mr_sets[s],
                quiescence_related=np.sort(quiescence), inhibitory=np.asarray(written["cell_type"]) == "inhibitory",
                opto=opto, n_frames=rig.n_movie_frames,
            ))
        subjects.append({
            "subject_id": subject_id,
            "species": "Mus musculus",
            "sex": "F" if m % 2 == 0 else "M",
            "age": f"P{60 + m * 3}D",
            "genotype": "PV-Cre;Ai32;GAD-Cre;tdTomato" if opto else "GAD-Cre;tdTomato",
            "strain": "C57BL/6J",
            "description": "Head-fixed mouse trained on a cued lever press (nwbmotor demo data).",
            "sessions": sessions,
        })
    spec = {
        "metadata": {
            "lab": "Motor learning lab (nwbmotor demo)",
            "institution": "University of California San Diego",
            "experimenter": ["Peters, Andrew"],
            "keywords": ["motor learning", "two-photon imaging", "lever press", "motor cortex"],
            "experiment_description": "Simulated demo data: motor cortex activity while mice learn a "
                                      "cued lever press (Peters et al. 2014 design).",
        },
        "subjects": subjects,
    }
    spec_path = root / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return DemoDataset(root=root, spec_path=spec_path, sessions=tuple(truths))
