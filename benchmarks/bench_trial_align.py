"""trial_align from an NWB file on disk to an aligned array in memory, against two peers.

Workload (issue 6): dF/F of 500 ROIs x 60,000 frames at 28 Hz (gzip-compressed chunks,
as nwbmotor/NeuroConv write them), 400 events, window -1 ... +3 s (113 frames), result
(400, 113, 500) in memory.

Peers, timed in the same run:
- h5py: serial read of the whole array + numpy gather (the limit: nwbmotor must not be slower);
- pynapple: ``load_file`` + ``compute_perievent`` (nwbmotor must be >= 2x faster).

Usage::

    python benchmarks/bench_trial_align.py [--repeats 5] [--data-dir /tmp/nwbmotor-bench]

Each repetition opens the file afresh (the OS page cache is warm for all three after
the first run). Medians are printed with the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

N_ROIS, N_FRAMES, RATE, N_EVENTS, WINDOW = 500, 60_000, 28.0, 400, (-1.0, 3.0)
DFF_PATH = "processing/ophys/DfOverF/RoiResponseSeries/data"


def make_file(folder: Path) -> Path:
    from nwbmotor.testing import write_lab_session

    path = folder / "bench_trial_align.nwb"
    if not path.exists():
        t = time.perf_counter()
        write_lab_session(path, n_rois=N_ROIS, duration=N_FRAMES / RATE, frame_rate=RATE, seed=1)
        print(f"wrote {path} in {time.perf_counter() - t:.1f} s")
    return path


def events(duration: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.sort(rng.uniform(2.0, duration - 4.0, N_EVENTS))


def run_h5py(path: Path, ev: np.ndarray) -> np.ndarray:
    import h5py

    with h5py.File(path, "r") as f:
        data = f[DFF_PATH][:]
    k = np.arange(int(round(WINDOW[0] * RATE)), int(round(WINDOW[1] * RATE)) + 1)
    idx = np.round(ev * RATE).astype(int)[:, None] + k[None, :]
    return data[idx]


def run_nwbmotor(path: Path, ev: np.ndarray) -> np.ndarray:
    import xarray as xr

    import nwbmotor

    ds = nwbmotor.open_session(path)
    out = nwbmotor.trial_align(ds.activity, xr.DataArray(ev, dims="trial"), window=WINDOW)
    ds.close()
    return out.values


def run_pynapple(path: Path, ev: np.ndarray) -> np.ndarray:
    import pynapple as nap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = nap.load_file(str(path))
        name = next(k for k in data.keys() if "DfOverF" in k or k == "RoiResponseSeries")
        tsdframe = data[name]
        aligned = nap.compute_perievent(tsdframe, nap.Ts(t=ev), window=WINDOW)
        values = np.asarray(aligned.values)
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/nwbmotor-bench"))
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    path = make_file(args.data_dir)
    ev = events(N_FRAMES / RATE)
    import h5py
    import pynapple  # noqa: F401

    import nwbmotor  # noqa: F401  (imports outside the timed region for every peer)

    with h5py.File(path, "r") as f:
        d = f[DFF_PATH]
        print(f"file: {path.stat().st_size / 1e6:.0f} MB, dF/F {d.shape} {d.dtype}, chunks {d.chunks}, "
              f"compression {d.compression}")
    reference = run_h5py(path, ev)
    mine = run_nwbmotor(path, ev)
    assert mine.shape == reference.shape, (mine.shape, reference.shape)
    np.testing.assert_array_equal(mine, reference)
    times: dict[str, list[float]] = {"h5py serial + numpy gather": [], "nwbmotor trial_align": [],
                                     "pynapple load_file + compute_perievent": []}
    runners = dict(zip(times, (run_h5py, run_nwbmotor, run_pynapple), strict=True))
    for _ in range(args.repeats):
        for name, func in runners.items():
            t = time.perf_counter()
            func(path, ev)
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{N_EVENTS} events x {reference.shape[1]} frames x {N_ROIS} units; median of {args.repeats} runs")
    for name, v in times.items():
        print(f"  {name:42s} {med[name]:.3f} s   (runs: {', '.join(f'{x:.3f}' for x in v)})")
    h5, me, pn = med["h5py serial + numpy gather"], med["nwbmotor trial_align"], med["pynapple load_file + compute_perievent"]
    print(f"nwbmotor / h5py     = {me / h5:.2f}  (target <= 1)")
    print(f"pynapple / nwbmotor = {pn / me:.2f}  (target >= 2)")


if __name__ == "__main__":
    main()
