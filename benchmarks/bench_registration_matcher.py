"""Accuracy and speed of the built-in cross-session ROI matcher.

For each difficulty (drift, mask jitter, ROI turnover) on generated sessions with
planted identity, prints the fraction of true matches found and of reported matches
that are wrong, for the matcher (mean-image alignment, and mask-footprint alignment)
and for a naive peer: nearest centroid within the same distance, no alignment,
one-to-one by the same assignment. Then times one 512 × 512 session pair with ~400 ROIs.

    python benchmarks/bench_registration_matcher.py [--seeds 6]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from nwbmotor.converters.segmentation import match_rois
from nwbmotor.testing import make_registration_sessions

LEVELS = [  # (jitter px, turnover, max drift px, cells in 128 x 128)
    (0.7, 0.1, 6, 60),
    (1.0, 0.2, 10, 60),
    (1.5, 0.2, 10, 70),
    (2.0, 0.3, 10, 70),
]


def _naive(reference, session, max_distance=6.0):
    ref = np.array([[np.mean(y), np.mean(x)] for y, x, _ in reference["masks"]])
    ses = np.array([[np.mean(y), np.mean(x)] for y, x, _ in session["masks"]])
    d = np.hypot(*(ref[:, None, :] - ses[None, :, :]).transpose(2, 0, 1))
    rows, cols = linear_sum_assignment(np.where(d <= max_distance, d, 1e6))
    out = np.full(len(ses), -1)
    for r, c in zip(rows, cols):
        if d[r, c] <= max_distance:
            out[c] = r
    return out


def _score(pairs):
    true = found = reported = wrong = 0
    for truth, got in pairs:
        m = got >= 0
        true += int((truth >= 0).sum())
        reported += int(m.sum())
        found += int((m & (got == truth)).sum())
        wrong += int((m & (got != truth)).sum())
    return found / true, (wrong / reported if reported else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=6)
    args = parser.parse_args()
    print(
        "jitter turnover drift | matcher(mean img) found/wrong | matcher(footprints) found/wrong | naive found/wrong"
    )
    for jitter, turnover, drift, n in LEVELS:
        results = {"img": [], "fp": [], "naive": []}
        for seed in range(args.seeds):
            out = make_registration_sessions(
                n, 4, (128, 128), max_shift=drift, jitter=jitter, turnover=turnover, seed=seed
            )
            ref = out["sessions"][0]
            where = {c: i for i, c in enumerate(ref["cell_ids"])}
            for ses in out["sessions"][1:]:
                truth = np.array([where.get(c, -1) for c in ses["cell_ids"]])
                rm, sm = [m[:2] for m in ref["masks"]], [m[:2] for m in ses["masks"]]
                img = match_rois(
                    rm, sm, (128, 128), reference_image=ref["mean_image"], image=ses["mean_image"]
                )
                fp = match_rois(rm, sm, (128, 128))
                results["img"].append((truth, img.reference_roi))
                results["fp"].append((truth, fp.reference_roi))
                results["naive"].append((truth, _naive(ref, ses)))
        cells = [_score(results[k]) for k in ("img", "fp", "naive")]
        print(
            f"{jitter:6.1f} {turnover:8.2f} {drift:5d} | "
            + " | ".join(f"{f:.4f} / {w:.4f}" for f, w in cells)
        )

    out = make_registration_sessions(
        400, 2, (512, 512), max_shift=10, jitter=1.0, turnover=0.2, seed=0
    )
    ref, ses = out["sessions"]
    rm, sm = [m[:2] for m in ref["masks"]], [m[:2] for m in ses["masks"]]
    times, naive_times = [], []
    for _ in range(5):
        t = time.perf_counter()
        match_rois(rm, sm, (512, 512), reference_image=ref["mean_image"], image=ses["mean_image"])
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        _naive(ref, ses)
        naive_times.append(time.perf_counter() - t)
    med, naive_med = statistics.median(times), statistics.median(naive_times)
    print(
        f"512 x 512, {len(rm)} vs {len(sm)} ROIs: matcher {med * 1e3:.0f} ms (median of 5), "
        f"naive {naive_med * 1e3:.0f} ms, ratio {med / naive_med:.1f}x (shared 2-core machine)"
    )


if __name__ == "__main__":
    main()
