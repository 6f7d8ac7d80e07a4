"""Peak memory of ``open_session`` on 5-, 30- and 120-minute 10 kHz lever sessions.

Workload: for each length, a lever session (``write_long_lever_session``: 10 kHz float64
volts, gzip, one trial per 10 s) is written once to a temporary folder; then, in a fresh
Python process per session, ``nwbmotor.open_session(path, activity=None)`` runs under
``tracemalloc`` (peak of Python allocations, numpy included) and the process's peak RSS
growth is read from ``getrusage``. Printed per length: samples, file size, tracemalloc
peak, RSS growth, pickled view size; then the 120/5 ratio of the peaks (the check:
<= 1.2) and the largest peak (the check for 120 min: <= 50 MB).

Usage::

    python benchmarks/bench_open_session_memory.py [--minutes 5 30 120] [--folder DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from nwbmotor.testing import write_long_lever_session

_CHILD = r"""
import json, pickle, resource, sys, tracemalloc
import nwbmotor
path = sys.argv[1]
import h5py, numpy, xarray  # imported before measuring: the libraries are not the view
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
ds = nwbmotor.open_session(path, activity=None)
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"samples": ds.sizes["time_behavior"], "peak": peak, "rss": (after - before) * 1024,
                  "pickle": len(pickle.dumps(ds))}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[5, 30, 120])
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="nwbmotor-bench-"))
    peaks = {}
    print(f"{'minutes':>7} {'samples':>10} {'file MB':>8} {'peak MB':>8} {'RSS MB':>7} {'pickle kB':>9}")
    for minutes in args.minutes:
        path = folder / f"lever_{minutes:g}min.nwb"
        if not path.exists():
            write_long_lever_session(path, minutes=minutes)
        out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        peaks[minutes] = r["peak"]
        print(f"{minutes:>7g} {r['samples']:>10} {path.stat().st_size / 1e6:>8.1f} {r['peak'] / 1e6:>8.2f} "
              f"{r['rss'] / 1e6:>7.1f} {r['pickle'] / 1e3:>9.1f}")
    lo, hi = min(peaks), max(peaks)
    print(f"peak ratio {hi:g} min / {lo:g} min: {peaks[hi] / peaks[lo]:.3f} (check <= 1.2); "
          f"largest peak {max(peaks.values()) / 1e6:.2f} MB (check <= 50 MB)")


if __name__ == "__main__":
    main()
