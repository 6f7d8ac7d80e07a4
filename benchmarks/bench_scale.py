"""One analysis over 20 session files with dask.distributed: 2 workers vs 1.

Each session: 150 ROIs x 25,200 frames (15 min at 28 Hz, gzip chunks) plus lever and
tables, converted once from planted raw lab files by ``nwbmotor.testing.write_lab_session``. The analysis
(:func:`response_analysis`) opens the session on the worker, aligns dF/F to movement
onset (-1 ... +3 s) and bootstraps the mean response of every unit over trials
(500 resamples), returning a small (unit,) Dataset; ``map_sessions`` stacks the 20
results along ``session``.

Usage::

    python benchmarks/bench_scale.py [--sessions 20] [--repeats 3] [--data-dir /tmp/nwbmotor-bench/scale]

The cluster is started and its workers warmed up (imports) before timing; the time is
that of ``map_sessions`` alone. The speed-up is median(1 worker) / median(2 workers).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import xarray as xr


def response_analysis(ds: xr.Dataset) -> xr.Dataset:
    """Mean post-onset response per unit and its bootstrap 95 % interval over trials."""
    from nwbmotor.analysis import trial_align

    aligned = trial_align(ds, "movement_onset", window=(-1.0, 3.0))
    ok = aligned.isel(trial=np.flatnonzero(aligned.align_status.values == "ok"))
    post = ok.sel(rel_time=slice(0.0, 1.0)).mean("rel_time") - ok.sel(rel_time=slice(-1.0, -0.2)).mean("rel_time")
    values = post.values  # (trial, unit)
    rng = np.random.default_rng(0)
    boots = np.stack([np.nanmean(values[rng.integers(0, len(values), len(values))], axis=0) for _ in range(500)])
    return xr.Dataset(
        {"response": ("unit", np.nanmean(values, axis=0)),
         "low": ("unit", np.percentile(boots, 2.5, axis=0)),
         "high": ("unit", np.percentile(boots, 97.5, axis=0))},
        coords={"unit_id": ("unit", ds.unit_id.values)},
    )


def make_sessions(folder: Path, n: int) -> list[Path]:
    from nwbmotor.testing import write_lab_session

    paths = []
    for k in range(n):
        path = folder / f"sub-M{k % 4:02d}" / f"sub-M{k % 4:02d}_ses-day{k // 4 + 1:02d}.nwb"
        if not path.exists():
            write_lab_session(path, subject_id=f"M{k % 4:02d}", session_id=f"day{k // 4 + 1:02d}", n_rois=150,
                              duration=900.0, seed=k)
        paths.append(path)
    return paths


def time_with(n_workers: int, paths: list[Path], repeats: int) -> list[float]:
    from distributed import Client, LocalCluster

    from nwbmotor.views import map_sessions

    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.run(lambda: __import__("nwbmotor.analysis") and __import__("nwbmotor.views"))
        out = []
        for _ in range(repeats):
            t = time.perf_counter()
            result = map_sessions(response_analysis, paths, client=client)
            out.append(time.perf_counter() - t)
        assert result.sizes["session"] == len(paths)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/nwbmotor-bench/scale"))
    args = parser.parse_args()
    t = time.perf_counter()
    paths = make_sessions(args.data_dir, args.sessions)
    print(f"{len(paths)} sessions ready in {time.perf_counter() - t:.1f} s; {os.cpu_count()} CPUs")
    one = time_with(1, paths, args.repeats)
    two = time_with(2, paths, args.repeats)
    m1, m2 = statistics.median(one), statistics.median(two)
    print(f"  1 worker : {m1:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in one)})")
    print(f"  2 workers: {m2:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in two)})")
    print(f"speed-up 2 vs 1 workers = {m1 / m2:.2f}x")


if __name__ == "__main__":
    main()
