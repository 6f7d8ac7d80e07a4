"""Lever movement detection on a long session: time, memory and onset accuracy.

Workload: ``synthesize_lever_trace`` of ``--minutes`` minutes at 10 kHz (0.2 movements/s,
planted truth). Timed: ``detect_movements`` with the default preset (``nwbmotor``),
against the peer measured in the same run, the lab's rule (preset ``peters2014``),
which does the same steps 1-3. Also
printed: the share of the issue's 30 s budget for a whole 60-minute conversion, the
process's peak RSS against the 1 GB budget, and for each variant the fraction of true
onsets detected within 10 ms and of spurious detections. Medians of ``--repeats`` runs;
the machine may be shared, so compare the ratios rather than the seconds.

Usage::

    python benchmarks/bench_lever_movements.py [--minutes 60] [--repeats 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

from nwbmotor.methods import detect_movements
from nwbmotor.testing import synthesize_lever_trace

VARIANTS = {
    "nwbmotor": {"preset": "nwbmotor"},
    "peters2014 (peer)": {"preset": "peters2014"},
    "updated": {"preset": "updated"},
}


def _score(truth, moves) -> tuple[float, float]:
    on, off = moves.onset_times, moves.offset_times
    hits = np.mean([np.min(np.abs(on - t)) <= 0.010 for t in truth.onset_times])
    spurious = np.mean([not np.any((truth.onset_times <= b) & (truth.offset_times >= a)) for a, b in zip(on, off)])
    return float(hits), float(spurious)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    trace, truth = synthesize_lever_trace(args.minutes * 60.0, seed=0)
    print(f"trace: {args.minutes:g} min at 10 kHz, {trace.size} samples ({trace.nbytes / 1e6:.0f} MB), "
          f"{len(truth)} planted movements; synthesis {time.perf_counter() - t0:.1f} s")
    detect_movements(trace[: 600_000], 10_000.0)  # warm-up (imports, FFT plans)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds: dict[str, float] = {}
    for name, kwargs in VARIANTS.items():
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            moves = detect_movements(trace, 10_000.0, **kwargs)
            times.append(time.perf_counter() - t0)
        seconds[name] = statistics.median(times)
        hits, spurious = _score(truth, moves)
        print(f"{name:28s} {seconds[name]:6.2f} s  onsets within 10 ms {hits:.3f}  spurious {spurious:.3f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peer = seconds["peters2014 (peer)"]
    print(f"time ratio default / lab peer: {seconds['nwbmotor'] / peer:.2f}")
    print(f"default preset vs the 30 s budget of a whole 60-min conversion: {seconds['peters2014'] / 30:.2f} "
          f"(scaled to 60 min: {seconds['peters2014'] * 60 / args.minutes / 30:.2f})")
    print(f"peak RSS {rss:.0f} MB (trace and truth {rss_before:.0f} MB; detection +{rss - rss_before:.0f} MB); "
          f"ratio to 1 GB: {rss / 1024:.2f}")


if __name__ == "__main__":
    main()
