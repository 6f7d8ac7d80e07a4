"""Accuracy of each lever-movement preset on planted onsets, over varied generated sessions.

Sessions vary the press shape (typical, fast, slow, double, partial), the drift and the
noise (``synthesize_lever_trace`` parameters). Per preset: the fraction of planted
onsets with a detected onset within 10 ms, the fraction of detections that overlap no
planted movement (spurious), the median onset error (detected - planted) of the
planted movements that were detected, and the detections per planted movement (above 1
where a long hold, the lever still, ends one movement and its release starts another:
the lab's definition of a movement).

Run: ``python benchmarks/bench_lever_presets.py [--duration 300] [--presets nwbmotor,...]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nwbmotor.methods._movements import PRESETS, detect_movements
from nwbmotor.testing import synthesize_lever_trace

ALL_STYLES = {"typical": 1.0, "fast": 1.0, "slow": 1.0, "double": 1.0}

#: (name, synthesize_lever_trace keyword arguments)
SESSIONS: list[tuple[str, dict]] = [
    ("typical", {"press_styles": {"typical": 1.0}}),
    ("fast", {"press_styles": {"fast": 1.0}}),
    ("slow", {"press_styles": {"slow": 1.0}}),
    ("double", {"press_styles": {"double": 1.0}}),
    ("mixed, strong fast drift", {"press_styles": ALL_STYLES, "drift_amplitude": 0.03, "drift_periods_s": (5.0, 30.0)}),
    ("mixed, noisy (3 mV, 2 mV hum)", {"press_styles": ALL_STYLES, "noise_rms": 0.003, "hum_amplitude": 0.002}),
    ("mixed, quiet (0.5 mV, no hum)", {"press_styles": ALL_STYLES, "noise_rms": 0.0005, "hum_amplitude": 0.0}),
    ("mixed, half partial", {"press_styles": ALL_STYLES, "partial_fraction": 0.5}),
    ("fast+slow, drift", {"press_styles": {"fast": 1.0, "slow": 1.0}, "drift_amplitude": 0.015}),
    ("mixed, 2.5 kHz", {"press_styles": ALL_STYLES, "sample_rate": 2_500.0}),
]

TOLERANCE_S = 0.010


def score(truth, moves) -> dict[str, float]:
    """Counts and errors of one session."""
    on, off = moves.onset_times, moves.offset_times
    errors = []
    for a, b in zip(truth.onset_times, truth.offset_times):
        overlap = np.flatnonzero((on <= b) & (off >= a))
        if overlap.size:
            j = overlap[np.argmin(np.abs(on[overlap] - a))]
            errors.append(on[j] - a)
        else:
            errors.append(np.nan)
    errors = np.asarray(errors)
    spurious = sum(not np.any((truth.onset_times <= b) & (truth.offset_times >= a)) for a, b in zip(on, off))
    return {
        "n_true": len(truth),
        "hits": int(np.sum(np.abs(errors) <= TOLERANCE_S)),
        "detected": int(on.size),
        "spurious": int(spurious),
        "missed": int(np.sum(np.isnan(errors))),
        "errors": errors[np.isfinite(errors)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds per session (default 300)")
    parser.add_argument("--presets", default=",".join(PRESETS), help="comma-separated presets")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-session", action="store_true", help="print every session")
    args = parser.parse_args()
    presets = [p for p in args.presets.split(",") if p]
    unknown = sorted(set(presets) - set(PRESETS))
    if unknown:
        parser.error(f"unknown preset(s) {unknown}; expected any of {sorted(PRESETS)}")
    data = []
    for k, (name, kwargs) in enumerate(SESSIONS):
        rate = kwargs.get("sample_rate", 10_000.0)
        trace, truth = synthesize_lever_trace(args.duration, seed=args.seed + k, **kwargs)
        data.append((name, rate, trace, truth))
    n_true = sum(len(d[3]) for d in data)
    print(f"{len(data)} sessions x {args.duration:g} s, {n_true} planted movements; tolerance {TOLERANCE_S * 1e3:g} ms")
    print(
        f"{'preset':<12} {'within 10 ms':>13} {'spurious':>9} {'missed':>7} {'median err':>11} {'median |err|':>13}"
        f" {'p95 |err|':>10} {'det/planted':>12} {'s':>6}"
    )
    for preset in presets:
        tot = {"n_true": 0, "hits": 0, "detected": 0, "spurious": 0, "missed": 0}
        errs = []
        t0 = time.perf_counter()
        for name, rate, trace, truth in data:
            r = score(truth, detect_movements(trace, rate, preset=preset))
            for key in tot:
                tot[key] += r[key]
            errs.append(r["errors"])
            if args.per_session:
                e = r["errors"]
                print(f"  {preset:<10} {name:<32} {r['hits']:>4}/{r['n_true']:<4} spurious {r['spurious']:>3}/{r['detected']:<4}"
                      f" missed {r['missed']:>3}  median {np.median(e) * 1e3 if e.size else np.nan:+7.1f} ms")
        e = np.concatenate(errs)
        dt = time.perf_counter() - t0
        print(
            f"{preset:<12} {tot['hits'] / tot['n_true']:>12.1%} {tot['spurious'] / max(tot['detected'], 1):>9.1%}"
            f" {tot['missed']:>7d} {np.median(e) * 1e3:>+9.1f}ms {np.median(np.abs(e)) * 1e3:>11.1f}ms"
            f" {np.percentile(np.abs(e), 95) * 1e3:>8.1f}ms {tot['detected'] / tot['n_true']:>12.2f} {dt:>6.1f}"
        )


if __name__ == "__main__":
    main()
