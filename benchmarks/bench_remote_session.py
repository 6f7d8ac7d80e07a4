"""A session over HTTP: bytes read and time of open + ``trial_align``, against pynwb + remfile.

Workload: a 30-minute 10 kHz lever session (``write_long_lever_session``, 180 trials)
served by the loopback range server of ``nwbmotor.testing.serve_files``. Measured:

- nwbmotor: ``open_session(url, activity=None)``, then ``trial_align(ds.behavior,
  ds.start_time[:n], window=(1.5, 3.0))`` for 10 % of the trials (n = 18);
- peer: ``pynwb.NWBHDF5IO(file=h5py.File(remfile.File(url)))``, ``io.read()``, then the
  same windows read as ``lever.data[a:b]`` (the same samples), the way a pynwb user streams
  from DANDI.

Printed: bytes fetched (body bytes the server sent) for the open and for the whole, as a
fraction of the file size, HTTP requests, and seconds (median of ``--repeats`` runs after
one warm-up run, so that imports are not counted; the machine may be shared, compare ratios). The same values are checked equal.

Usage::

    python benchmarks/bench_remote_session.py [--minutes 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import nwbmotor
import nwbmotor.analysis as na
from nwbmotor.testing import serve_files, write_long_lever_session

WINDOW = (1.5, 3.0)


def _nwbmotor(url: str, served) -> tuple[np.ndarray, int, int, int, float]:
    served.reset()
    t0 = time.perf_counter()
    ds = nwbmotor.open_session(url, activity=None)
    opened = served.bytes_sent
    n = ds.sizes["trial"] // 10
    aligned = na.trial_align(ds.behavior, ds["start_time"].isel(trial=slice(0, n)), window=WINDOW)
    seconds = time.perf_counter() - t0
    ds.close()
    return aligned.values[..., 0], opened, served.bytes_sent, served.requests, seconds


def _pynwb_remfile(url: str, served) -> tuple[np.ndarray, int, int, int, float]:
    import h5py
    import remfile
    from pynwb import NWBHDF5IO

    served.reset()
    t0 = time.perf_counter()
    rf = remfile.File(url)
    f = h5py.File(rf, "r")
    io = NWBHDF5IO(file=f, load_namespaces=True)
    nwbfile = io.read()
    opened = served.bytes_sent
    lever = nwbfile.processing["behavior"]["BehavioralTimeSeries"]["lever"]
    rate = lever.rate
    starts = nwbfile.trials["start_time"][:]
    n = len(starts) // 10
    rows = []
    for s in starts[:n]:
        a = int(round((s + WINDOW[0]) * rate))
        b = int(round((s + WINDOW[1]) * rate)) + 1
        rows.append(np.asarray(lever.data[a:b]))
    seconds = time.perf_counter() - t0
    io.close()
    f.close()
    return np.stack(rows), opened, served.bytes_sent, served.requests, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="nwbmotor-remote-"))
    path = write_long_lever_session(folder / "lever.nwb", minutes=args.minutes)
    size = path.stat().st_size
    print(f"file {size / 1e6:.1f} MB ({args.minutes:g} min at 10 kHz)")
    with serve_files(folder) as served:
        url = served.url(path.name)
        results = {}
        seconds = {}
        for name, run in (("nwbmotor open_session + trial_align", _nwbmotor), ("pynwb + remfile", _pynwb_remfile)):
            run(url, served)  # warm-up: imports (dask, pynwb's namespaces) are not the network
            runs = [run(url, served) for _ in range(args.repeats)]
            values, opened, total, requests, _ = runs[-1]
            results[name] = values
            secs = statistics.median(r[4] for r in runs)
            seconds[name] = secs
            print(f"{name:>36}: open {opened / 1e6:7.2f} MB ({opened / size:6.2%}), total {total / 1e6:7.2f} MB "
                  f"({total / size:6.2%}), {requests} requests, {secs:.2f} s")
    a, b = results.values()
    print("same samples:", bool(np.array_equal(a, b)))
    ours, peer = seconds.values()
    print(f"time ratio nwbmotor / (pynwb + remfile): {ours / peer:.2f}")


if __name__ == "__main__":
    main()
