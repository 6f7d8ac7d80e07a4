"""Benchmark: classify_movement_related, 10,000 shuffles, 500 cells x 60,000 frames.

Limit (issue 6): <= 10 s on 2 cores. Prints the median wall and CPU time of several
runs and their ratio to the limit, and a naive per-shuffle reference (explicit unit
permutation + dot product, CPU time extrapolated from a few shuffles) as the peer.

    python benchmarks/bench_movement_related.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import xarray as xr

from nwbmotor.analysis import classify_movement_related
from nwbmotor.analysis._movement_related import movement_frames

LIMIT_S = 10.0


def make_session(n_cells: int = 500, n_frames: int = 60_000, fs: float = 28.0, seed: int = 0):
    """Event matrix (5 % of frames in events) and ~430 lever movements over 36 min."""
    rng = np.random.default_rng(seed)
    time_ = np.arange(n_frames) / fs
    duration = n_frames / fs
    starts = np.sort(rng.uniform(1, duration - 3, 430))
    stops = starts + rng.uniform(0.4, 2.0, starts.size)
    ev = np.zeros((n_frames, n_cells), np.float32)
    onsets = rng.integers(0, n_frames - 10, (n_cells, 60))
    for c in range(n_cells):
        for o in onsets[c]:
            ev[o : o + 4, c] = rng.lognormal(0, 0.4)
    ds = xr.Dataset(
        {
            "events": (("time", "unit"), ev),
            "activity": (("time", "unit"), ev),
            "movement_start_time": ("movement", starts),
            "movement_stop_time": ("movement", stops),
        },
        coords={"time": time_, "cell_type": ("unit", np.full(n_cells, "excitatory"))},
    )
    return ds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--frames", type=int, default=60_000)
    args = parser.parse_args()
    ds = make_session(args.cells, args.frames)
    print(f"cores: {os.cpu_count()} (machine shared with other jobs: timings are noisy)")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    times, cpu = [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        res = classify_movement_related(ds, n_shuffles=10_000)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    med, med_cpu = float(np.median(times)), float(np.median(cpu))
    print(
        f"classify_movement_related 10,000 shuffles, {args.cells} cells x {args.frames} frames, "
        f"{res.attrs['n_movement_epochs']} movement epochs: wall {[round(t, 2) for t in times]} s, "
        f"median {med:.2f} s = {med / LIMIT_S:.2f} x the 10 s limit; "
        f"CPU time median {med_cpu:.2f} s = {med_cpu / LIMIT_S:.2f} x the limit "
        f"(CPU time is what an idle machine would take: the core runs on one thread)"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    # peer: the direct method, a full frame-level permutation per shuffle + dot product
    mov = movement_frames(
        ds["time"].values, ds.movement_start_time.values, ds.movement_stop_time.values, 5
    )
    ev = ds.events.values
    edges = np.diff(np.r_[0, mov.astype(np.int8), 0])
    st = np.flatnonzero(edges == 1)
    en = np.flatnonzero(edges == -1)
    units = []
    last = 0
    for a, b in zip(st, en):
        units.extend([[i] for i in range(last, a)])
        units.append(list(range(a, b)))
        last = b
    units.extend([[i] for i in range(last, mov.size)])
    rng = np.random.default_rng(0)
    n_naive = 20
    t0 = time.process_time()
    for _ in range(n_naive):
        order = rng.permutation(len(units))
        shuffled = np.concatenate([mov[units[i]] for i in order]).astype(np.float32)
        _ = shuffled @ ev
    naive = (time.process_time() - t0) / n_naive * 10_000
    print(
        f"naive per-shuffle permutation, CPU time extrapolated from {n_naive} shuffles: "
        f"{naive:.0f} s; speed-up {naive / med_cpu:.0f} x (CPU time vs CPU time)"
    )


if __name__ == "__main__":
    main()
