"""Ophys NWB files written the way other tools write them, for testing the views on them.

:func:`write_foreign_ophys_session` uses bare pynwb in the layouts of NeuroConv's Suite2p
interface (before and since 0.10) and of a hand-made pynwb file, with nothing nwbmotor
adds (no cell types, no global ids, no grid spacing, no chunking or compression).
"""

from __future__ import annotations

import os
from typing import Any, Literal

import numpy as np

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.testing._calcium import gcamp_kernel

__all__ = ["write_foreign_ophys_session"]


def write_foreign_ophys_session(
    path: str | os.PathLike[str],
    *,
    layout: Literal["suite2p-classic", "suite2p-single-container", "pynwb-timestamps"] = "suite2p-classic",
    n_rois: int = 12,
    n_frames: int = 600,
    frame_rate: float = 30.0,
    seed: int = 0,
    overwrite: bool = False,
) -> dict[str, np.ndarray]:
    """Write an ophys NWB file the way other tools do, with bare pynwb (no nwbmotor layout).

    Layouts
    -------
    ``"suite2p-classic"``
        NeuroConv's Suite2p interface before 0.10: ``Fluorescence/RoiResponseSeries``,
        ``Fluorescence/Neuropil``, ``Fluorescence/Deconvolved``, ``DfOverF/RoiResponseSeries``,
        ``ImageSegmentation/PlaneSegmentation`` with image masks and ``roi_name``.
    ``"suite2p-single-container"``
        NeuroConv 0.10: every trace in ``Fluorescence`` (``RoiResponseSeries``, ``Neuropil``,
        ``Deconvolved``, ``DfOverF``).
    ``"pynwb-timestamps"``
        A hand-made file: ``Fluorescence/RoiResponseSeries`` with explicit (jittered)
        timestamps, no cell-type or global-id columns, and a trials table with
        ``cue_time`` only.

    Every layout has a trials table. No chunking, no compression (pynwb's defaults).

    Returns
    -------
    dict
        The written arrays: ``"dff"``, ``"fluorescence"``, ``"deconvolved"`` (frames, ROIs),
        ``"timestamps"``, ``"start_time"``, ``"stop_time"``, ``"cue_time"``, ``"centroid_px"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_foreign_ophys_session(pathlib.Path(tempfile.mkdtemp()) / "f.nwb")
    >>> out["dff"].shape
    (600, 12)
    """
    from pynwb import NWBHDF5IO
    from pynwb.ophys import DfOverF, Fluorescence, ImageSegmentation

    from nwbmotor._io import atomic_output
    from nwbmotor.testing._nwbfile import mock_nwbfile

    rng = np.random.default_rng(seed)
    spikes = (rng.random((n_frames, n_rois)) < 0.3 / frame_rate) * 1.0
    kernel = gcamp_kernel(frame_rate)
    clean = np.stack([np.convolve(spikes[:, i], kernel)[:n_frames] for i in range(n_rois)], axis=1)
    dff = (clean + rng.normal(0, 0.05, (n_frames, n_rois))).astype(np.float32)
    fluo = (300.0 * (1 + dff)).astype(np.float32)
    deconv = np.clip(np.diff(dff, axis=0, prepend=0), 0, None).astype(np.float32)
    timestamps = np.arange(n_frames) / frame_rate
    if layout == "pynwb-timestamps":
        timestamps = timestamps + rng.uniform(0, 0.2 / frame_rate, n_frames)
    centroid = rng.uniform(8, 56, (n_rois, 2))

    nwbfile = mock_nwbfile(subject_id="foreign01", session_id="s1")
    plane = _imaging_plane(nwbfile, frame_rate)
    ophys = nwbfile.create_processing_module(name="ophys", description="optical physiology processed data")
    seg = ImageSegmentation()
    ophys.add(seg)
    ps = seg.create_plane_segmentation(name="PlaneSegmentation", description="Segmented ROIs", imaging_plane=plane)
    if layout != "pynwb-timestamps":
        ps.add_column(name="roi_name", description="The unique identifier for each ROI.")
    yy, xx = np.mgrid[0:64, 0:64]
    for i in range(n_rois):
        mask = (((xx - centroid[i, 0]) ** 2 + (yy - centroid[i, 1]) ** 2) <= 9).astype(np.float32)
        kw = {"roi_name": str(i)} if layout != "pynwb-timestamps" else {}
        ps.add_roi(image_mask=mask, id=100 + i, **kw)
    # in NWB's (x, y) order: x along the masks' first axis (yy here), y along the second (xx)
    centroid_px = np.array([[np.average(yy, weights=(((xx - c[0]) ** 2 + (yy - c[1]) ** 2) <= 9)),
                             np.average(xx, weights=(((xx - c[0]) ** 2 + (yy - c[1]) ** 2) <= 9))] for c in centroid])
    region = ps.create_roi_table_region(description="The ROIs for ImagingPlane.", region=list(range(n_rois)))

    def series(container, name, data):
        time = {"timestamps": timestamps} if layout == "pynwb-timestamps" else {"rate": frame_rate, "starting_time": 0.0}
        container.create_roi_response_series(name=name, data=data, unit="n.a.", rois=region, **time)

    fl = Fluorescence(name="Fluorescence")
    ophys.add(fl)
    series(fl, "RoiResponseSeries", fluo)
    if layout in ("suite2p-classic", "suite2p-single-container"):
        series(fl, "Neuropil", (0.7 * fluo).astype(np.float32))
        series(fl, "Deconvolved", deconv)
    if layout == "suite2p-classic":
        df = DfOverF(name="DfOverF")
        ophys.add(df)
        series(df, "RoiResponseSeries", dff)
    elif layout == "suite2p-single-container":
        series(fl, "DfOverF", dff)
    elif layout != "pynwb-timestamps":
        raise NwbMotorValueError(f"write_foreign_ophys_session: unknown layout {layout!r}")

    nwbfile.add_trial_column(name="cue_time", description="Cue onset, in s.")
    duration = n_frames / frame_rate
    starts = np.arange(1.0, duration - 3.0, 3.0)
    for s in starts:
        nwbfile.add_trial(start_time=float(s), stop_time=float(s + 2.5), cue_time=float(s + 0.5))
    with atomic_output(path, overwrite=overwrite) as tmp, NWBHDF5IO(str(tmp), mode="w") as io:
        io.write(nwbfile)
    return {"dff": dff, "fluorescence": fluo, "deconvolved": deconv, "timestamps": timestamps,
            "start_time": starts, "stop_time": starts + 2.5, "cue_time": starts + 0.5, "centroid_px": centroid_px}


def _imaging_plane(nwbfile: Any, frame_rate: float) -> Any:
    """An imaging plane without a grid spacing (other tools often leave it out)."""
    from pynwb.ophys import OpticalChannel

    device = nwbfile.create_device(name="Microscope", description="Two-photon microscope (resonant scanning).")
    channel = OpticalChannel(name="Green", description="GCaMP emission, PMT channel 1.", emission_lambda=510.0)
    return nwbfile.create_imaging_plane(
        name="ImagingPlane", optical_channel=channel, description="Layer 2/3 of the caudal forelimb area.",
        device=device, excitation_lambda=925.0, imaging_rate=float(frame_rate), indicator="GCaMP6f",
        location="MOp",
    )
