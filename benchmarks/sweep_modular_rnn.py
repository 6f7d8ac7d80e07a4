"""The claims of Feulner et al. (2022) as population results: H_input against H_local over seeds.

    python benchmarks/sweep_modular_rnn.py [--seeds 0-9] [--workers 2] [--preset default]
                                           [--rotations 10,30,60] [--out sweep.nc] [OPTION=VALUE ...]

Runs ``nwbmotor.workflows.modular_rnn_claims`` (the function ``nwbmotor demo`` runs for its
report): for every seed one trained network, adapted under both hypotheses to every rotation
of ``--rotations``, written to NWB and measured on the session view with
``nwbmotor.analysis.compare_hypotheses`` (per area: PMd, M1, PMd+M1). Prints the wall time
against the 20-minute budget, the seed medians and ranges per hypothesis, area and rotation,
and how often H_input < H_local; ``--out`` writes the Dataset as NetCDF. Extra
``OPTION=VALUE`` pairs are options of ``run_modular_rnn``.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import numpy as np

from nwbmotor.workflows import claims_table, modular_rnn_claims

BUDGET_SECONDS = 20 * 60


def _seeds(text: str) -> list[int]:
    if "-" in text:
        low, high = text.split("-")
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",")]


def _fmt(values: np.ndarray) -> str:
    v = values[np.isfinite(values)]
    return "nan" if v.size == 0 else f"{np.median(v):.4g} [{v.min():.4g}, {v.max():.4g}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--rotations", default="10,30,60")
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
    claims = modular_rnn_claims(_seeds(args.seeds), rotations, preset=args.preset, workers=args.workers, **options)
    wall = claims.attrs["wall_seconds"]
    print(f"preset {args.preset!r}, options {options}, seeds {claims['seed'].values.tolist()}, rotations {rotations}")
    print(f"wall time {wall:.0f} s with {args.workers} workers = {wall / BUDGET_SECONDS:.2f} x the 20 min budget; "
          f"per seed {np.median(claims['seconds']):.0f} s (training {np.median(claims['train_seconds']):.0f} s)")
    print(f"trained reach error (normalised, from 0.5 s): {_fmt(claims['trained_error'].values)}")
    table = claims_table(claims)
    for rotation, rows in table.groupby("rotation", sort=False):
        print(f"\n== rotation {rotation:g} deg: seed median [min, max] over {claims.sizes['seed']} seeds")
        print(rows.drop(columns=["rotation", "n seeds"]).to_string(index=False))
    if len(rotations) > 1:
        print("\n== H_local - H_input against the rotation (seed median [min, max])")
        for metric in ("activity_change", "covariance_change"):
            for area in claims["area"].values:
                d = claims[metric].sel(area=area).sortby("rotation")
                diff = (d.sel(hypothesis="local") - d.sel(hypothesis="input")).values
                parts = [f"{r:g} deg: {_fmt(diff[:, k])}" for k, r in enumerate(d["rotation"].values)]
                print(f"{metric:19s} {area:7s} " + "; ".join(parts))
    if args.out is not None:
        claims.to_netcdf(args.out)
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
