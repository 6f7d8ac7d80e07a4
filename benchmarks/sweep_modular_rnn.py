"""H_input against H_local over a population of modular networks (science.md B, issue 5).

    python benchmarks/sweep_modular_rnn.py [--seeds 0-5] [--workers 2] [--rotation 30]
                                           [--upstream-projection local|input] [OPTION=VALUE ...]

Trains one default-size network per seed (in parallel processes), adapts it under both
hypotheses and prints, per seed and as medians, the rotation error reduction and the
covariance change (1 − r of the per-target PSTH covariance, go ± 0.6 s) of PMd, M1 and
PMd + M1. ``--rotation 0`` is the drift control: what adaptation changes when there is
nothing to adapt to. Extra ``OPTION=VALUE`` pairs are options of ``run_modular_rnn``.
"""

from __future__ import annotations

import argparse
import ast
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

from nwbmotor.models import compare_hypotheses, run_modular_rnn

AREAS = {"PMd": ("PMd",), "M1": ("M1",), "PMd+M1": ("PMd", "M1")}


def _seeds(text: str) -> list[int]:
    if "-" in text:
        low, high = text.split("-")
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",")]


def _one(seed: int, options: dict) -> tuple[int, float, dict]:
    t0 = time.perf_counter()
    session = run_modular_rnn(seed=seed, **options)
    elapsed = time.perf_counter() - t0
    return seed, elapsed, {area: compare_hypotheses(session, modules) for area, modules in AREAS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0-5")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rotation", type=float, default=30.0)
    parser.add_argument("--upstream-projection", default="local", choices=("local", "input"))
    parser.add_argument("options", nargs="*", help="run_modular_rnn options as NAME=VALUE")
    args = parser.parse_args()
    options = {"rotation": args.rotation, "upstream_projection": args.upstream_projection}
    for item in args.options:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"option {item!r}: expected NAME=VALUE, e.g. n_units=200 or train_targets=continuous")
        try:
            options[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):  # a bare word: a string option
            options[name] = value

    seeds = _seeds(args.seeds)
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rows = sorted(pool.map(_one, seeds, [options] * len(seeds)))
    print(f"options: {options}")
    print("seed  time   reduction in/loc  " + "  ".join(f"cov {a} in/loc".ljust(22) for a in AREAS))
    for seed, elapsed, res in rows:
        red = res["PMd"]
        line = f"{seed:4d} {elapsed:5.1f}s   {red['input']['error_reduction']:.2f}/{red['local']['error_reduction']:.2f}     "
        for area in AREAS:
            ci, cl = res[area]["input"]["covariance_change"], res[area]["local"]["covariance_change"]
            line += f"  {ci:.4f}/{cl:.4f} {'in<loc' if ci < cl else 'in>loc'}".ljust(24)
        print(line)
    print(f"median time per network: {statistics.median(r[1] for r in rows):.1f} s ({args.workers} workers)")
    for area in AREAS:
        ci = [r[2][area]["input"]["covariance_change"] for r in rows]
        cl = [r[2][area]["local"]["covariance_change"] for r in rows]
        smaller = sum(a < b for a, b in zip(ci, cl))
        print(f"{area:7s} covariance change, median H_input {statistics.median(ci):.4f} vs H_local "
              f"{statistics.median(cl):.4f} (ratio {statistics.median(ci) / statistics.median(cl):.2f}); "
              f"smaller under H_input in {smaller} of {len(rows)} networks")


if __name__ == "__main__":
    main()
