"""The claims of Feulner et al. (2022) as population results: H_input against H_local over seeds.

    python benchmarks/sweep_modular_rnn.py [--seeds 0-9] [--workers 2] [--preset default]
                                           [--rotations 10,30,60] [--out sweep.json] [OPTION=VALUE ...]

For every seed: trains one network (``run_modular_rnn``), adapts it under both
hypotheses to every rotation of ``--rotations`` (the same trained network: the first
rotation trains it, the others re-adapt the stored trained weights), writes each run
to NWB and measures it on the session view with ``nwbmotor.analysis.compare_hypotheses``
(per area: PMd, M1, PMd+M1): error reduction, activity change, covariance change,
weight change, ΔW dimensionality. Prints the per-seed table, then the seed medians and
ranges per hypothesis, area and rotation, and how often H_input < H_local; ``--out``
writes every number as JSON. Extra ``OPTION=VALUE`` pairs are options of
``run_modular_rnn``.
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

METRICS = ("error_reduction", "activity_change", "covariance_change", "weight_change", "dw_dimensionality")
AREAS = ("PMd", "M1", "PMd+M1")


def _seeds(text: str) -> list[int]:
    if "-" in text:
        low, high = text.split("-")
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",")]


def _one(seed: int, preset: str, rotations: list[float], options: dict) -> dict:
    import nwbmotor
    from nwbmotor.analysis import compare_hypotheses
    from nwbmotor.converters.model import write_model_session
    from nwbmotor.models._modular_rnn import adapt_modular_rnn, run_modular_rnn

    out: dict = {"seed": seed, "rotations": {}}
    t0 = time.perf_counter()
    session = run_modular_rnn(seed=seed, preset=preset, rotation=rotations[0], **options)
    out["train_seconds"] = time.perf_counter() - t0
    trained = session.trials["phase"] == "trained"
    start = int(round(0.5 / session.dt))
    err = np.sum((session.outputs[trained][:, start:] - session.targets[trained][:, start:]) ** 2)
    out["trained_error"] = float(err / np.sum(session.targets[trained][:, start:] ** 2))
    with tempfile.TemporaryDirectory() as tmp:
        for k, rotation in enumerate(rotations):
            s = session if k == 0 else adapt_modular_rnn(session, rotation=rotation, seed=seed, preset=preset, **options)
            path = write_model_session(s, Path(tmp) / f"seed{seed}_rot{rotation:g}.nwb")
            with nwbmotor.open_session(path) as ds:
                res = compare_hypotheses(ds, areas=AREAS)
            out["rotations"][str(rotation)] = {
                m: {h: {a: float(res[m].sel(hypothesis=h, area=a)) for a in AREAS} for h in ("input", "local")}
                for m in METRICS}
    out["seconds"] = time.perf_counter() - t0
    return out


def _fmt(values: list[float]) -> str:
    v = [x for x in values if np.isfinite(x)]
    if not v:
        return "nan"
    return f"{statistics.median(v):.4g} [{min(v):.4g}, {max(v):.4g}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--rotations", default="30,10,60")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("options", nargs="*", help="run_modular_rnn options as NAME=VALUE")
    args = parser.parse_args()
    options: dict = {}
    for item in args.options:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"option {item!r}: expected NAME=VALUE, e.g. n_units=100 or upstream_projection=local")
        try:
            options[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):  # a bare word: a string option
            options[name] = value
    rotations = [float(r) for r in args.rotations.split(",")]
    seeds = _seeds(args.seeds)
    t0 = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(_one, seed, args.preset, rotations, options) for seed in seeds]
        for future in as_completed(futures):
            rows.append(future.result())
            print(f"seed {rows[-1]['seed']} done after {time.perf_counter() - t0:.0f} s", flush=True)
            if args.out is not None:  # what has finished so far, in case the sweep is stopped
                args.out.with_suffix(".partial.json").write_text(json.dumps(rows))
    rows.sort(key=lambda r: r["seed"])
    wall = time.perf_counter() - t0
    print(f"preset {args.preset!r}, options {options}, seeds {seeds}, rotations {rotations}")
    print(f"wall time {wall:.0f} s with {args.workers} workers; per seed "
          f"{statistics.median(r['seconds'] for r in rows):.0f} s (training {statistics.median(r['train_seconds'] for r in rows):.0f} s)")
    print(f"trained reach error (normalised, from 0.5 s): {_fmt([r['trained_error'] for r in rows])}")
    for rot in map(str, rotations):
        print(f"\n== rotation {rot} deg: seed median [min, max] over {len(rows)} seeds; 'in<loc' = seeds with H_input < H_local")
        print(f"{'metric':19s} {'area':7s} {'H_input':34s} {'H_local':34s} in<loc")
        for m in METRICS:
            for a in AREAS:
                vi = [r["rotations"][rot][m]["input"][a] for r in rows]
                vl = [r["rotations"][rot][m]["local"][a] for r in rows]
                smaller = sum(x < y for x, y in zip(vi, vl, strict=True))
                print(f"{m:19s} {a:7s} {_fmt(vi):34s} {_fmt(vl):34s} {smaller}/{len(rows)}")
    if len(rotations) > 1:
        print("\n== H_local - H_input against the rotation (seed median [min, max])")
        for m in ("activity_change", "covariance_change"):
            for a in AREAS:
                parts = []
                for rot in map(str, sorted(rotations)):
                    d = [r["rotations"][rot][m]["local"][a] - r["rotations"][rot][m]["input"][a] for r in rows]
                    parts.append(f"{float(rot):g} deg: {_fmt(d)}")
                print(f"{m:19s} {a:7s} " + "; ".join(parts))
    if args.out is not None:
        args.out.write_text(json.dumps({"preset": args.preset, "options": options, "rotations": rotations,
                                        "wall_seconds": wall, "rows": rows}, indent=1))
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
