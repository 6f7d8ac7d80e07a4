"""Generators of segmentation outputs, cell labels, registrations and spine scoring tables.

Every writer produces files in the exact on-disk layout of the real tools: Suite2p plane
folders written with ``np.save`` (pickled ``stat.npy``/``ops.npy`` included), the lab's
MATLAB ROI files written with ``scipy.io.savemat`` (real cell arrays and structs), and
CSV tables. Each returns the truth it planted.

The imaged field is a set of cells (centres, radii, brightness) made by
:func:`make_cell_field`. A *session* of that field sees a subset of the cells (ROI
turnover), shifted rigidly (drift between days) with a little per-cell jitter, in a
shuffled ROI order; :func:`make_registration_sessions` makes several.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = [
    "make_cell_field",
    "make_registration_sessions",
    "render_session",
    "simulate_calcium_traces",
    "write_lab_roi_session",
    "write_registration_table",
    "write_roi_dff_file",
    "write_roi_file",
    "write_roilabel_file",
    "write_spine_table",
    "write_suite2p_plane",
]


# --------------------------------------------------------------------------- the field
def make_cell_field(
    n_cells: int = 50,
    image_shape: tuple[int, int] = (128, 128),
    *,
    radius: tuple[float, float] = (3.0, 4.5),
    margin: int = 8,
    min_gap: float = 0.5,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Place ``n_cells`` round somata in an image, not overlapping (neighbours may nearly touch).

    Parameters
    ----------
    n_cells : int
    image_shape : (height, width)
    radius : (min, max) radius in pixels
    margin : int
        Distance kept from the image border, in pixels (room for drift).
    min_gap : float
        Smallest distance between the edges of two cells, in pixels.
    seed : int

    Returns
    -------
    dict
        ``centers`` (n, 2) as (y, x), ``radii`` (n,), ``brightness`` (n,),
        ``image_shape`` (2,).

    Examples
    --------
    >>> field = make_cell_field(10, (64, 64))
    >>> field["centers"].shape
    (10, 2)
    """
    rng = np.random.default_rng(seed)
    height, width = image_shape
    radii = rng.uniform(radius[0], radius[1], n_cells)
    centers = np.empty((n_cells, 2))
    placed = 0
    for _ in range(n_cells * 2000):
        if placed == n_cells:
            break
        c = rng.uniform([margin, margin], [height - margin, width - margin])
        if (
            placed
            and np.min(np.hypot(*(centers[:placed] - c).T) - radii[:placed] - radii[placed])
            < min_gap
        ):
            continue
        centers[placed] = c
        placed += 1
    if placed < n_cells:
        raise NwbMotorValueError(
            f"cannot place {n_cells} cells without overlap in a {height} × {width} image"
        )
    return {
        "centers": centers,
        "radii": radii,
        "brightness": rng.uniform(0.5, 1.5, n_cells),
        "image_shape": np.array(image_shape),
    }


def _disk_mask(center: np.ndarray, radius: float, image_shape: tuple[int, int], rng, jitter: float):
    cy, cx = center
    r_out = int(np.ceil(radius + 2))
    ys, xs = np.mgrid[int(cy) - r_out : int(cy) + r_out + 2, int(cx) - r_out : int(cx) + r_out + 2]
    d = np.hypot(ys - cy, xs - cx)
    # a ragged rim: each rim pixel's effective radius varies by the jitter
    r_eff = radius + (rng.normal(0, 0.35 * jitter, d.shape) if jitter else 0.0)
    inside = (d <= r_eff) & (ys >= 0) & (xs >= 0) & (ys < image_shape[0]) & (xs < image_shape[1])
    y, x = ys[inside], xs[inside]
    lam = np.exp(-(d[inside] ** 2) / (2 * (0.6 * radius) ** 2))
    return y.astype(np.int32), x.astype(np.int32), (lam / lam.sum()).astype(np.float32)


def render_session(
    field: Mapping[str, np.ndarray],
    *,
    cells: Sequence[int] | np.ndarray | None = None,
    shift: tuple[float, float] = (0.0, 0.0),
    jitter: float = 0.0,
    shuffle: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """ROI masks and a mean image of one imaging session of ``field``.

    Parameters
    ----------
    field : dict
        From :func:`make_cell_field`.
    cells : sequence of int, optional
        The cells segmented in this session (default all).
    shift : (dy, dx)
        Rigid drift of the field in this session, in pixels.
    jitter : float
        Per-cell centre displacement (pixels, s.d.) and rim raggedness.
    shuffle : bool
        Put the ROIs in random order (as a segmentation would).
    seed : int

    Returns
    -------
    dict
        ``masks`` (list of ``(ypix, xpix, lam)``), ``cell_ids`` (n_rois,) index of each
        ROI's cell in the field, ``mean_image`` (height, width) float32, ``shift``.

    Examples
    --------
    >>> s = render_session(make_cell_field(5, (64, 64)), shift=(2, -1))
    >>> len(s["masks"]), s["mean_image"].shape
    (5, (64, 64))
    """
    rng = np.random.default_rng(seed)
    shape = (int(field["image_shape"][0]), int(field["image_shape"][1]))
    order = np.arange(len(field["radii"])) if cells is None else np.asarray(cells, dtype=int)
    if shuffle:
        order = rng.permutation(order)
    masks = []
    for c in order:
        center = (
            field["centers"][c] + np.asarray(shift) + (rng.normal(0, jitter, 2) if jitter else 0.0)
        )
        radius = field["radii"][c] * (1 + (rng.normal(0, 0.05) if jitter else 0.0))
        masks.append(_disk_mask(center, radius, shape, rng, jitter))
    # mean image: every cell of the field is visible (segmented or not), on a textured
    # background (blood vessels, neuropil) that drifts with the field
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    bg_rng = np.random.default_rng(int(field["radii"].sum() * 1000) % (2**32))
    image = np.full(shape, 100.0)
    for _ in range(6):  # smooth background blobs and vessels, fixed to the field
        cy, cx = bg_rng.uniform(0, shape[0]), bg_rng.uniform(0, shape[1])
        s = bg_rng.uniform(6, 20)
        image += bg_rng.uniform(-30, 30) * np.exp(
            -((yy - cy - shift[0]) ** 2 + (xx - cx - shift[1]) ** 2) / (2 * s**2)
        )
    for c in range(len(field["radii"])):
        cy, cx = field["centers"][c] + np.asarray(shift)
        image += (
            120
            * field["brightness"][c]
            * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (0.7 * field["radii"][c]) ** 2))
        )
    image += rng.normal(0, 4, shape)
    return {
        "masks": masks,
        "cell_ids": order,
        "mean_image": image.astype(np.float32),
        "shift": tuple(shift),
    }


def make_registration_sessions(
    n_cells: int = 80,
    n_sessions: int = 4,
    image_shape: tuple[int, int] = (128, 128),
    *,
    max_shift: float = 6.0,
    jitter: float = 0.7,
    turnover: float = 0.1,
    seed: int = 0,
) -> dict[str, Any]:
    """Several sessions of one field with drift, mask jitter and ROI turnover.

    Session 0 is the reference (no shift). Each other session is shifted by a random
    rigid offset of up to ``max_shift`` pixels in each axis, each cell is jittered, and
    a fraction ``turnover`` of the cells is missing from each session (different cells
    each time), so some ROIs of a session have no partner in the reference.

    Returns
    -------
    dict
        ``field`` and ``sessions`` (list of :func:`render_session` outputs).

    Examples
    --------
    >>> out = make_registration_sessions(10, 2, (64, 64), seed=1)
    >>> len(out["sessions"])
    2
    """
    rng = np.random.default_rng(seed)
    field = make_cell_field(n_cells, image_shape, margin=int(np.ceil(max_shift)) + 6, seed=seed)
    sessions = []
    for s in range(n_sessions):
        present = rng.random(n_cells) >= turnover
        shift = (0.0, 0.0) if s == 0 else tuple(rng.uniform(-max_shift, max_shift, 2))
        sessions.append(
            render_session(
                field,
                cells=np.flatnonzero(present),
                shift=shift,
                jitter=jitter if s else 0.0,
                seed=seed * 1000 + s,
            )
        )
    return {"field": field, "sessions": sessions}


# --------------------------------------------------------------------------- traces
def simulate_calcium_traces(
    n_rois: int,
    n_frames: int,
    frame_rate: float = 30.0,
    *,
    event_rate: float = 0.1,
    tau: float = 0.7,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Raw-looking Suite2p traces: GCaMP transients on a baseline, neuropil, deconvolution.

    Events are Poisson on frames (``event_rate`` per s); each is the generators' one
    GCaMP transient (:func:`nwbmotor.testing.gcamp_kernel`, decay ``tau``).

    Returns
    -------
    dict
        ``F``, ``Fneu``, ``spks`` (float32, (n_rois, n_frames)), ``dff`` (true dF/F,
        float64), ``baseline`` (n_rois,) and ``events`` (bool spikes).

    Examples
    --------
    >>> tr = simulate_calcium_traces(3, 100)
    >>> tr["F"].shape, tr["F"].dtype
    ((3, 100), dtype('float32'))
    """
    from nwbmotor.testing._calcium import gcamp_kernel

    rng = np.random.default_rng(seed)
    events = rng.random((n_rois, n_frames)) < event_rate / frame_rate
    amplitude = events * rng.uniform(0.3, 1.5, (n_rois, n_frames))
    kernel = gcamp_kernel(frame_rate, decay_s=tau)
    dff = (
        np.stack([np.convolve(a, kernel)[:n_frames] for a in amplitude])
        if n_rois
        else np.zeros((0, n_frames))
    )
    baseline = rng.uniform(200, 600, n_rois)
    t = np.arange(n_frames) / frame_rate
    neuropil = (
        150 + 10 * np.sin(2 * np.pi * t / 60.0)[None, :] + rng.normal(0, 3, (n_rois, n_frames))
    )
    F = baseline[:, None] * (1 + dff) + 0.7 * neuropil + rng.normal(0, 5, (n_rois, n_frames))
    return {
        "F": F.astype(np.float32),
        "Fneu": neuropil.astype(np.float32),
        "spks": (amplitude * baseline[:, None]).astype(np.float32),
        "dff": dff,
        "baseline": baseline,
        "events": events,
    }


# --------------------------------------------------------------------------- Suite2p
def write_suite2p_plane(
    folder: str | os.PathLike[str],
    *,
    n_rois: int = 50,
    n_frames: int = 2000,
    image_shape: tuple[int, int] = (128, 128),
    frame_rate: float = 30.0,
    redcell: bool = True,
    fraction_inhibitory: float = 0.2,
    session: Mapping[str, Any] | None = None,
    traces: Mapping[str, np.ndarray] | None = None,
    inhibitory: Sequence[bool] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Write a Suite2p plane folder (``F.npy``, ``Fneu.npy``, ``spks.npy``, ``iscell.npy``,
    ``stat.npy``, ``ops.npy``, optional ``redcell.npy``) exactly as Suite2p saves it.

    Parameters
    ----------
    folder : str or PathLike
        The plane folder (e.g. ``.../suite2p/plane0``); created if absent.
    n_rois, n_frames, image_shape, frame_rate
        Sizes. ``n_rois`` and ``image_shape`` are ignored when ``session`` is given.
    redcell : bool
        Also write ``redcell.npy`` (inhibitory cells are red).
    fraction_inhibitory : float
    session : dict, optional
        A :func:`render_session` output whose masks and mean image to use.
    traces : dict, optional
        ``F``, ``Fneu`` and ``spks`` arrays (n_rois, n_frames) to write instead of
        simulated ones (``n_frames`` is then taken from them).
    inhibitory : sequence of bool, optional
        Which ROIs are red (inhibitory); default drawn with ``fraction_inhibitory``.
    seed : int

    Returns
    -------
    dict
        Everything written (``F``, ``Fneu``, ``spks``, ``iscell``, ``redcell``, ``stat``,
        ``ops``) plus ``cell_type`` (n_rois,) and ``cell_ids``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_suite2p_plane(pathlib.Path(tempfile.mkdtemp()) / "plane0", n_rois=4, n_frames=50)
    >>> sorted(p.name for p in (out["folder"]).iterdir())
    ['F.npy', 'Fneu.npy', 'iscell.npy', 'ops.npy', 'redcell.npy', 'spks.npy', 'stat.npy']
    """
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if session is None:
        session = render_session(make_cell_field(n_rois, image_shape, seed=seed), seed=seed)
    image_shape = session["mean_image"].shape
    n_rois = len(session["masks"])
    if traces is None:
        traces = simulate_calcium_traces(n_rois, n_frames, frame_rate, seed=seed + 1)
    elif any(
        np.shape(traces[k]) != np.shape(traces["F"]) or np.shape(traces[k])[0] != n_rois
        for k in ("F", "Fneu", "spks")
    ):
        raise ValueError(
            f"traces must all have shape ({n_rois}, n_frames), got "
            f"{ {k: np.shape(v) for k, v in traces.items()} }"
        )
    else:
        n_frames = np.shape(traces["F"])[1]
    stat = np.empty(n_rois, dtype=object)
    for i, (y, x, lam) in enumerate(session["masks"]):
        stat[i] = {
            "ypix": y,
            "xpix": x,
            "lam": lam,
            "med": [int(np.median(y)), int(np.median(x))],
            "npix": np.int64(y.size),
            "radius": np.float64(np.sqrt(y.size / np.pi)),
            "compact": np.float64(1.05),
            "footprint": np.float64(1.0),
            "overlap": np.zeros(y.size, dtype=bool),
            "skew": np.float32(rng.uniform(0.5, 3)),
            "std": np.float32(rng.uniform(10, 40)),
            "soma_crop": np.ones(y.size, dtype=bool),
            "iplane": 0,
        }
    probability = rng.uniform(0, 1, n_rois)
    iscell = np.column_stack([(probability > 0.3).astype(np.float64), probability])
    drawn = rng.random(n_rois) < fraction_inhibitory
    red_rois = drawn if inhibitory is None else np.asarray(inhibitory, dtype=bool).reshape(n_rois)
    red_probability = np.where(
        red_rois, rng.uniform(0.7, 1.0, n_rois), rng.uniform(0.0, 0.3, n_rois)
    )
    red = np.column_stack([red_rois.astype(np.float64), red_probability])
    ops = {
        "Ly": image_shape[0],
        "Lx": image_shape[1],
        "fs": float(frame_rate),
        "nframes": n_frames,
        "nplanes": 1,
        "nchannels": 2 if redcell else 1,
        "tau": 0.7,
        "neucoeff": 0.7,
        "meanImg": session["mean_image"],
        "meanImgE": session["mean_image"] / session["mean_image"].max(),
        "max_proj": session["mean_image"][4:-4, 4:-4],
        "xrange": np.array([4, image_shape[1] - 4]),
        "yrange": np.array([4, image_shape[0] - 4]),
        "save_path": str(folder),
        "data_path": [str(folder.parent.parent)],
        "filelist": [f"file_{k:05d}.tif" for k in range(3)],
        "date_proc": None,
        "corrXY": (np.float32(0.5), 1),
    }
    np.save(folder / "F.npy", traces["F"])
    np.save(folder / "Fneu.npy", traces["Fneu"])
    np.save(folder / "spks.npy", traces["spks"])
    np.save(folder / "iscell.npy", iscell)
    np.save(folder / "stat.npy", stat, allow_pickle=True)
    np.save(folder / "ops.npy", np.array(ops, dtype=object), allow_pickle=True)
    if redcell:
        np.save(folder / "redcell.npy", red)
    return {
        "folder": folder,
        **traces,
        "iscell": iscell,
        "redcell": red if redcell else None,
        "stat": stat,
        "ops": ops,
        "masks": session["masks"],
        "cell_ids": session["cell_ids"],
        "mean_image": session["mean_image"],
        "cell_type": np.where(red_rois, "inhibitory", "excitatory")
        if redcell
        else np.full(n_rois, "unknown"),
    }


# --------------------------------------------------------------------------- the lab's ROI files
def _cell_array(items: Sequence[Any]) -> np.ndarray:
    out = np.empty((1, len(items)), dtype=object)  # MATLAB 1 × n cell
    for i, item in enumerate(items):
        out[0, i] = item
    return out


def write_roi_file(
    path: str | os.PathLike[str],
    polygons: Sequence[np.ndarray],
    *,
    background: Sequence[np.ndarray] | None = None,
) -> Path:
    """Write the lab's ``.roi`` MAT-file: ``polygon.ROI{i}`` (m × 2, x then y) and ``polygon.bgROI{i}``.

    Vertices are in MATLAB pixel coordinates: the centre of the top-left pixel is
    (1, 1), x along columns.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> square = np.array([[10.5, 10.5], [14.5, 10.5], [14.5, 14.5], [10.5, 14.5]])
    >>> write_roi_file(pathlib.Path(tempfile.mkdtemp()) / "a.roi", [square]).suffix
    '.roi'
    """
    from scipy.io import savemat

    polygon: dict[str, Any] = {
        "ROI": _cell_array([np.asarray(p, dtype=np.float64) for p in polygons])
    }
    if background is not None:
        polygon["bgROI"] = _cell_array([np.asarray(p, dtype=np.float64) for p in background])
    path = Path(path)
    with open(path, "wb") as fh:  # savemat would append '.mat' to a bare path
        savemat(fh, {"polygon": polygon}, do_compression=True)
    return path


def write_roilabel_file(path: str | os.PathLike[str], labels: Sequence[Sequence[str]]) -> Path:
    """Write ``<name>_roilabels.roilabel``: ``roi_labels{i}`` is a cell of tag strings per ROI.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> write_roilabel_file(pathlib.Path(tempfile.mkdtemp()) / "a_roilabels.roilabel", [["gad"], []]).name
    'a_roilabels.roilabel'
    """
    from scipy.io import savemat

    cells = []
    for tags in labels:
        cell = np.empty((1, len(tags)), dtype=object)
        for j, tag in enumerate(tags):
            cell[0, j] = str(tag)
        cells.append(cell)
    path = Path(path)
    with open(path, "wb") as fh:
        savemat(fh, {"roi_labels": _cell_array(cells)}, do_compression=True)
    return path


def write_roi_dff_file(path: str | os.PathLike[str], dff: np.ndarray) -> Path:
    """Write the lab's per-session ROI data MAT-file: a struct ``im`` with ``roi_trace_df`` (ROIs × frames).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> write_roi_dff_file(pathlib.Path(tempfile.mkdtemp()) / "d.mat", np.zeros((2, 5))).suffix
    '.mat'
    """
    from scipy.io import savemat

    path = Path(path)
    with open(path, "wb") as fh:
        savemat(
            fh, {"im": {"roi_trace_df": np.asarray(dff, dtype=np.float64)}}, do_compression=True
        )
    return path


def _outline(y: np.ndarray, x: np.ndarray, n_vertices: int, rng) -> np.ndarray:
    cy, cx = y.mean(), x.mean()
    r = np.sqrt(y.size / np.pi)
    angles = np.sort(rng.uniform(0, 2 * np.pi, n_vertices))
    radii = r * rng.uniform(0.9, 1.1, n_vertices)
    # MATLAB coordinates: 0-based pixel (row, col) has its centre at (x=col+1, y=row+1)
    return np.column_stack([cx + 1 + radii * np.cos(angles), cy + 1 + radii * np.sin(angles)])


def write_lab_roi_session(
    folder: str | os.PathLike[str],
    *,
    name: str = "AP071_140301",
    n_rois: int = 30,
    image_shape: tuple[int, int] = (128, 128),
    n_frames: int = 2000,
    frame_rate: float = 28.0,
    background: bool = True,
    fraction_gad: float = 0.2,
    fraction_filled: float = 0.1,
    session: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Write a session's ROI files as the lab's MATLAB tools do.

    Files: ``<name>.roi`` (polygons and background polygons), ``<name>_roilabels.roilabel``
    (tags ``'gad'`` and ``'filled'``, sometimes with other tags) and
    ``<name>_roi_data.mat`` (``im.roi_trace_df``).

    Returns
    -------
    dict
        Paths (``roi_path``, ``labels_path``, ``dff_path``), ``polygons``,
        ``background``, ``labels``, ``dff`` (n_rois, n_frames), ``cell_type``,
        ``excluded``, ``cell_ids``.

    Examples
    --------
    >>> import tempfile
    >>> out = write_lab_roi_session(tempfile.mkdtemp(), n_rois=3, n_frames=20)
    >>> out["roi_path"].name, len(out["polygons"])
    ('AP071_140301.roi', 3)
    """
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if session is None:
        session = render_session(make_cell_field(n_rois, image_shape, seed=seed), seed=seed)
    n_rois = len(session["masks"])
    polygons = [_outline(y, x, int(rng.integers(10, 20)), rng) for y, x, _ in session["masks"]]
    bg = [(p - p.mean(0)) * 2.2 + p.mean(0) for p in polygons] if background else None
    if bg is not None:  # keep background annuli inside the image
        h, w = session["mean_image"].shape
        bg = [
            np.column_stack([np.clip(b[:, 0], 0.5, w + 0.5), np.clip(b[:, 1], 0.5, h + 0.5)])
            for b in bg
        ]
    gad = rng.random(n_rois) < fraction_gad
    filled = rng.random(n_rois) < fraction_filled
    labels = []
    for g, f in zip(gad, filled):
        tags = (["gad"] if g else []) + (["filled"] if f else [])
        if rng.random() < 0.2:
            tags.append("dendrite_nearby")
        labels.append(tags)
    dff = simulate_calcium_traces(n_rois, n_frames, frame_rate, seed=seed + 1)["dff"]
    roi_path = write_roi_file(folder / f"{name}.roi", polygons, background=bg)
    labels_path = write_roilabel_file(folder / f"{name}_roilabels.roilabel", labels)
    dff_path = write_roi_dff_file(folder / f"{name}_roi_data.mat", dff)
    return {
        "roi_path": roi_path,
        "labels_path": labels_path,
        "dff_path": dff_path,
        "polygons": polygons,
        "background": bg,
        "labels": labels,
        "dff": dff,
        "cell_type": np.where(gad, "inhibitory", "excitatory"),
        "excluded": filled,
        "cell_ids": session["cell_ids"],
        "image_shape": session["mean_image"].shape,
    }


# --------------------------------------------------------------------------- tables
def write_registration_table(
    path: str | os.PathLike[str], cell_ids: Mapping[str, Sequence[int]]
) -> Path:
    """Write a registration CSV: one row per (session, roi) with the cell it belongs to.

    Parameters
    ----------
    path : str or PathLike
    cell_ids : mapping of session id to the cell id of each ROI (index = roi)

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_registration_table(pathlib.Path(tempfile.mkdtemp()) / "reg.csv", {"day01": [0, 1], "day02": [1, 0]})
    >>> p.read_text().splitlines()[:2]
    ['session,roi,cell', 'day01,0,0']
    """
    path = Path(path)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["session", "roi", "cell"])
        for session, ids in cell_ids.items():
            for roi, cell in enumerate(ids):
                writer.writerow([session, roi, int(cell)])
    return path


def write_spine_table(
    path: str | os.PathLike[str],
    *,
    n_dendrites: int = 12,
    sessions: Sequence[str] = ("day01", "day03", "day05", "day07"),
    seed: int = 0,
) -> dict[str, list]:
    """Write a spine scoring CSV: one row per dendrite per session.

    Columns ``dendrite_id, session, spines_present, spines_gained, spines_lost,
    dendrite_length_um, area, condition``; counts are consistent (present = previous
    present + gained − lost; nothing gained or lost in the first session).

    Returns
    -------
    dict
        The columns written, keyed ``dendrite``, ``session``, ``present``, ``gained``,
        ``lost``, ``length``, ``area``, ``condition``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_spine_table(pathlib.Path(tempfile.mkdtemp()) / "spines.csv", n_dendrites=2, sessions=["d1", "d2"])
    >>> len(out["dendrite"])
    4
    """
    rng = np.random.default_rng(seed)
    cols: dict[str, list] = {
        k: []
        for k in ("dendrite", "session", "present", "gained", "lost", "length", "area", "condition")
    }
    for d in range(n_dendrites):
        area = "forelimb" if d % 2 == 0 else "hindlimb"
        condition = "training" if d < n_dendrites / 2 else "control"
        length = round(float(rng.uniform(20, 60)), 2)
        present = int(rng.integers(8, 25))
        for k, session in enumerate(sessions):
            gained = 0 if k == 0 else int(rng.poisson(1.5 if condition == "training" else 0.6))
            lost = 0 if k == 0 else min(present, int(rng.poisson(0.8)))
            present = present + gained - lost
            for key, value in zip(
                cols, (f"AP071_d{d:02d}", session, present, gained, lost, length, area, condition)
            ):
                cols[key].append(value)
    path = Path(path)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "dendrite_id",
                "session",
                "spines_present",
                "spines_gained",
                "spines_lost",
                "dendrite_length_um",
                "area",
                "condition",
            ]
        )
        writer.writerows(zip(*cols.values()))
    return cols
