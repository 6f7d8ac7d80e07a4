"""The gain-modulation model at its default size: time against the 2-minute budget, and its checks.

Workload: ``run_gain_modulation(seed)`` with the defaults (N = 200: 100 E + 100 I,
5,000 gain-learning iterations for the novel movement, 2 primitives and a faster
movement, learned as one batch) and the NWB write of the session. Printed per seed:
the seconds of network construction, of gain learning and of the write; the ratio of
the whole ``simulate`` to the issue's 120 s budget; the novel-movement error before and
after learning (the check: a cut of >= 50 %) and the range of the learned gains (the
check: within [0.5, 2]). As a peer measured in the same run, the same learning with
multi-threaded BLAS (``--peer``), which is what a plain numpy loop gets on a shared
machine. Medians over seeds; the machine may be shared, compare ratios.

Usage::

    python benchmarks/bench_gain_modulation.py [--seeds 0 1] [--peer]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import nwbmotor.models._gain_modulation as gm
from nwbmotor.converters.model import write_model_session
from nwbmotor.models import run_gain_modulation

BUDGET_S = 120.0


def run_once(seed: int, out_dir: Path) -> dict[str, float]:
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        marks.setdefault(stage, time.perf_counter())

    session = run_gain_modulation(seed, progress=progress)
    learned = time.perf_counter()
    write_model_session(session, out_dir / f"gm-{seed}.nwb")
    written = time.perf_counter()
    trials = session.trials
    novel = trials["target_id"] == 1
    before = float(trials["error"][novel & (trials["phase"] == "before")][0])
    after = float(trials["error"][novel & (trials["phase"] == "after")][0])
    gains = session.snapshot("novel").gains
    return {
        "construct_s": marks.get("gain learning", learned) - start,
        "learn_s": learned - marks.get("gain learning", start),
        "write_s": written - learned,
        "total_s": written - start,
        "error_before": before,
        "error_after": after,
        "cut": 1 - after / before,
        "gain_min": float(gains.min()),
        "gain_max": float(gains.max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--peer", action="store_true", help="also time the learning with multi-threaded BLAS")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            row = run_once(seed, Path(tmp))
            rows.append(row)
            print(
                f"seed {seed}: construct {row['construct_s']:.1f} s, learn {row['learn_s']:.1f} s, "
                f"write {row['write_s']:.1f} s, total {row['total_s']:.1f} s "
                f"= {row['total_s'] / BUDGET_S:.2f} x budget; novel error {row['error_before']:.3f} -> "
                f"{row['error_after']:.3f} (cut {100 * row['cut']:.0f} %), gains "
                f"[{row['gain_min']:.2f}, {row['gain_max']:.2f}]"
            )
    total = statistics.median(r["total_s"] for r in rows)
    print(f"median total {total:.1f} s = {total / BUDGET_S:.2f} x the {BUDGET_S:.0f} s budget; "
          f"median cut {100 * statistics.median(r['cut'] for r in rows):.0f} % (check >= 50 %)")
    if args.peer:
        rng = np.random.default_rng(0)
        w = gm.build_stability_optimized_network(100, 100, rng=rng)
        x0 = gm.most_amplified_state(w, 25.0)
        gains = np.ones((4, 200))
        timings = {}
        for name, ctx in (("one BLAS thread", gm.single_threaded_blas), ("default BLAS threads", contextlib.nullcontext)):
            with ctx():
                t0 = time.perf_counter()
                for _ in range(200):
                    gm.simulate_gain_network(w, x0, gains, n_steps=100)
                timings[name] = (time.perf_counter() - t0) / 200
        one, many = timings["one BLAS thread"], timings["default BLAS threads"]
        print(f"one learning iteration (batch 4): {1e3 * one:.2f} ms with one BLAS thread, "
              f"{1e3 * many:.2f} ms with the default threads (ratio {many / one:.2f})")


if __name__ == "__main__":
    main()
