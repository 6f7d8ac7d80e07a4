"""The gain-modulation study: time of the fast preset against its 60 s budget, and its checks.

Workload: ``simulate("gain-modulation", preset="default")`` per seed: a N = 100
stability-optimised circuit, 1,500 gain-learning iterations on 100-sample movements of
seven learners in one batch (novel movement, 2 primitives, the initial movement at the
four learned speeds of the ladder), the trials and the NWB write. Printed per seed: wall and CPU seconds of network
construction, of gain learning and of the rest; the ratio of the wall time to the 60 s
budget; the novel-movement error before and after learning; the combined movement's
error (a mix of the primitives) before and with the assembled pattern; the measured speeds
along the ladder.

With ``--network PATH.mat`` (a Stroud-layout file, e.g. the authors' ``data.mat``, which
is not part of the repository), also: R^2 on its initial target and E0 on its novel one
at gains 1 (RK4 on the authors' grid, and the adaptive solver), then the learning curve
of ``--iterations`` iterations of the unbounded rule on the novel target.

The machine may be shared: CPU seconds are printed beside wall seconds.

Usage::

    python benchmarks/bench_gain_modulation.py [--seeds 0 1] [--network data.mat --iterations 5000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

BUDGET_S = 60.0


def run_once(seed: int, out_dir: Path) -> dict[str, float]:
    from nwbmotor.converters.model import read_model_session
    from nwbmotor.workflows import simulate

    marks: dict[str, tuple[float, float]] = {}
    start = (time.perf_counter(), time.process_time())

    def progress(stage: str, done: int, total: int) -> None:
        marks.setdefault(stage, (time.perf_counter(), time.process_time()))

    path = simulate("gain-modulation", out_dir / f"gm-{seed}.nwb", seed=seed, progress=progress)
    end = (time.perf_counter(), time.process_time())
    learn = marks.get("gain learning", end)
    trials = read_model_session(path).trials
    novel = trials["target_id"] == 1
    combo = trials["phase"] == "combined"
    speed = trials["phase"] == "speed"
    combo_id = trials["target_id"][combo][0]
    return {
        "construct_wall": learn[0] - start[0], "construct_cpu": learn[1] - start[1],
        "rest_wall": end[0] - learn[0], "rest_cpu": end[1] - learn[1],
        "total_wall": end[0] - start[0], "total_cpu": end[1] - start[1],
        "before": float(trials["error"][novel & (trials["phase"] == "before")][0]),
        "after": float(trials["error"][novel & (trials["phase"] == "after")][0]),
        "combo_before": float(trials["error"][(trials["target_id"] == combo_id) & (trials["phase"] == "before")][0]),
        "combo_after": float(trials["error"][combo][0]),
        "speeds": trials["measured_speed"][speed].tolist(),
        "target_speeds": trials["speed"][speed].tolist(),
        "shape_errors": trials["shape_error"][speed].tolist(),
    }


def on_file(path: Path, iterations: int, seed: int) -> None:
    from nwbmotor.converters.model import read_stroud_network
    from nwbmotor.models import learn_gains, movement_error, simulate_gain_network

    net = read_stroud_network(path)
    w, x0, readout = net["W_rec"], net["initial_cond"], net["readout"]
    n, n_exc, n_steps = len(w), readout.size - 1, net["initial_target"].size
    dt = 0.5 / (n_steps - 1)
    for method in ("rk4", "adaptive", "euler"):
        t0 = time.perf_counter()
        rates = simulate_gain_network(w, x0, np.ones(n), n_steps=n_steps, dt=dt, method=method)
        z = readout[0] + rates[:, :n_exc] @ readout[1:]
        print(f"{path.name}, gains 1, {method:8s}: R^2 {1 - float(movement_error(z, net['initial_target'])):.5f} "
              f"on initial_target, E0 {float(movement_error(z, net['novel_target'])):.4f} on novel_target "
              f"({time.perf_counter() - t0:.2f} s)")
    rng = np.random.default_rng(seed)
    t0, c0 = time.perf_counter(), time.process_time()
    res = learn_gains(w, x0, (readout[0], readout[1:]), net["novel_target"][None], rng.permutation(n), rng=rng,
                      n_iterations=iterations, dt=dt)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    best = np.minimum.accumulate(res.errors[:, 0])
    marks = [k for k in (1, 100, 250, 500, 1000, 1500, 2000, 3000, 4000, 5000) if k <= iterations]
    print(f"learning on {path.name} (seed {seed}, neuron-specific, unbounded, {iterations} iterations): "
          f"{wall:.0f} s wall, {cpu:.0f} s CPU")
    print("  best E so far: " + ", ".join(f"{k}: {best[k - 1]:.3f}" for k in marks))
    for cut in (0.5, 0.8, 0.9):
        hit = np.flatnonzero(best <= (1 - cut) * best[0])
        print(f"  {100 * cut:.0f} % cut at iteration {hit[0] + 1 if hit.size else 'never'}")
    g = res.best_gains[0]
    print(f"  best E {res.best_error[0]:.4f} (cut {100 * (1 - res.best_error[0] / res.initial_error[0]):.1f} %), "
          f"gains [{g.min():.3f}, {g.max():.3f}], sd {g.std():.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--network", type=Path, help="a Stroud-layout MAT-file to measure (not stored)")
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--skip-study", action="store_true")
    args = parser.parse_args()
    if args.network is not None:
        on_file(args.network, args.iterations, args.seeds[0])
    if args.skip_study:
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            row = run_once(seed, Path(tmp))
            rows.append(row)
            print(
                f"seed {seed}: network {row['construct_wall']:.1f} s ({row['construct_cpu']:.1f} CPU), learning+trials+"
                f"write {row['rest_wall']:.1f} s ({row['rest_cpu']:.1f} CPU), total {row['total_wall']:.1f} s "
                f"({row['total_cpu']:.1f} CPU) = {row['total_wall'] / BUDGET_S:.2f} x budget; novel E "
                f"{row['before']:.3f} -> {row['after']:.3f} (cut {100 * (1 - row['after'] / row['before']):.0f} %); "
                f"combined E {row['combo_before']:.3f} -> {row['combo_after']:.3f}; measured speeds "
                + " ".join(f"{s:.2f}" for s in row["speeds"])
                + " (targets " + " ".join(f"{s:.2f}" for s in row["target_speeds"]) + "), shape errors "
                + " ".join(f"{e:.3f}" for e in row["shape_errors"])
            )
    wall = statistics.median(r["total_wall"] for r in rows)
    cpu = statistics.median(r["total_cpu"] for r in rows)
    print(f"median total {wall:.1f} s wall ({cpu:.1f} s CPU) = {wall / BUDGET_S:.2f} x the {BUDGET_S:.0f} s budget")


if __name__ == "__main__":
    main()
