"""A 60-minute continuous rig session (10 kHz, 4 channels) into NWB: time and peak memory.

Workload (issue 4): an ``.xsglog`` session of ``--minutes`` minutes at 10 kHz with the
channels Lever, Trial_number, Frame and Lever_touch (4 x 36 M float64 samples, 1.15 GB
on disk) plus its Dispatcher file; the conversion builds the NWB file (lever, TTL
event tables, frame report, trials aligned by bitcodes, movement detection) and
writes it. Limits: <= 30 s and <= 1 GB peak resident memory.

Each repetition runs the conversion in a fresh child process, so its peak RSS is the
conversion's alone: ``VmHWM`` of ``/proc/self/status`` (``ru_maxrss`` only where there is
no ``/proc``: on Linux it carries over the parent's RSS at fork time, which after the
parent generated a long session is gigabytes). The limit ratio is printed with each median.
The movement detection's part is printed too (``detect_s``, ``detect_peak_mb``: the
block-wise detector alone on the Lever channel, in a second child).
The conversion is single-threaded: on a shared machine its wall time stretches with the
load, so its CPU time (user + system) is printed too, with the load average.
Peer measured in the same run: copying the four channel files (``cat > /dev/null``),
the floor any converter reading them pays.

Usage::

    python benchmarks/bench_lever_session.py [--minutes 60] [--repeats 3] [--data-dir /tmp/nwbmotor-bench-lever]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

LIMIT_S, LIMIT_MB = 30.0, 1024.0

CHILD = r"""
import json, resource, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
folder, out = Path(sys.argv[1]), Path(sys.argv[2])
t0 = time.perf_counter()
from neuroconv import ConverterPipe
from neuroconv.utils import dict_deep_update
from nwbmotor._write import write_nwbfile
from nwbmotor.converters.lever import DispatcherTrialsInterface, XsglogLeverInterface
from nwbmotor.testing import mock_metadata
t_import = time.perf_counter() - t0
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
c0 = cpu()
t0 = time.perf_counter()
disp = next(folder.glob("data_@*.mat"))
interfaces = {"xsglog": XsglogLeverInterface(folder), "dispatcher": DispatcherTrialsInterface(disp)}
for i in interfaces.values():
    i.link_session(interfaces)
conv = ConverterPipe(data_interfaces=interfaces)
nwbfile = conv.create_nwbfile(metadata=dict_deep_update(conv.get_metadata(), mock_metadata()))
write_nwbfile(nwbfile, out, overwrite=True)
t_convert = time.perf_counter() - t0
cpu_convert = cpu() - c0
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
try:
    rss_mb = next(int(line.split()[1]) / 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(json.dumps({"import_s": t_import, "convert_s": t_convert, "cpu_s": cpu_convert, "peak_rss_mb": rss_mb,
                  "n_trials": len(nwbfile.trials), "n_movements": len(nwbfile.intervals["movements"])}))
"""

DETECT_CHILD = r"""
import json, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
import numpy as np
import scipy.signal, scipy.fft
from nwbmotor.converters.lever import XsglogLeverInterface
from nwbmotor.methods import detect_movements_blockwise
def peak():
    return next(int(line.split()[1]) / 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
interface = XsglogLeverInterface(Path(sys.argv[1]))
read, n, _, _ = interface._detection_source()
p0 = peak()
t0 = time.perf_counter()
moves = detect_movements_blockwise(read, n, interface.sample_rate)
print(json.dumps({"detect_s": time.perf_counter() - t0, "detect_peak_mb": peak(), "import_peak_mb": p0,
                  "n_movements": len(moves)}))
"""


def make_session(folder: Path, minutes: float) -> Path:
    from nwbmotor.testing import write_rig_session

    marker = folder / "done.json"
    if marker.exists() and json.loads(marker.read_text())["minutes"] == minutes:
        return folder
    t = time.perf_counter()
    n_trials = int(minutes * 60 / 7.9)  # ~7.9 s per trial
    truth = write_rig_session(folder, n_trials=n_trials, seed=7, catch_fraction=0.1)
    marker.write_text(json.dumps({"minutes": minutes, "n_samples": truth.n_samples}))
    print(f"wrote {n_trials} trials, {truth.n_samples} samples/channel in {time.perf_counter() - t:.0f} s")
    return folder


def read_floor(folder: Path) -> float:
    t = time.perf_counter()
    subprocess.run(f"cat {folder}/*.xsglog > /dev/null", shell=True, check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/nwbmotor-bench-lever"))
    args = ap.parse_args()
    folder = make_session(args.data_dir / "session", args.minutes)
    out = args.data_dir / "session.nwb"
    runs, floors = [], []
    for r in range(args.repeats):
        floors.append(read_floor(folder))
        res = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(out)], capture_output=True, text=True)
        if res.returncode:
            print(res.stderr)
            raise SystemExit(1)
        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(f"run {r + 1}: {runs[-1]}")
    res = subprocess.run([sys.executable, "-c", DETECT_CHILD, str(folder)], capture_output=True, text=True)
    if res.returncode:
        print(res.stderr)
        raise SystemExit(1)
    detect = json.loads(res.stdout.strip().splitlines()[-1])
    conv = statistics.median(x["convert_s"] for x in runs)
    cpu = statistics.median(x["cpu_s"] for x in runs)
    imp = statistics.median(x["import_s"] for x in runs)
    rss = statistics.median(x["peak_rss_mb"] for x in runs)
    floor = statistics.median(floors)
    print(f"\n{args.minutes:g}-min session, 4 channels at 10 kHz, {runs[0]['n_trials']} trials, "
          f"{runs[0]['n_movements']} movements; medians of {args.repeats} (shared machine)")
    print(f"convert (build + write)  {conv:6.1f} s   = {conv / LIMIT_S:.2f} x the {LIMIT_S:g} s limit"
          f"   ({conv / floor:.1f} x reading the files with cat, {floor:.2f} s)")
    print(f"  of which CPU time      {cpu:6.1f} s   = {cpu / LIMIT_S:.2f} x the limit (single-threaded: the wall time"
          f" on an idle core; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores now)")
    print(f"imports                  {imp:6.1f} s   (not counted)")
    print(f"peak RSS                 {rss:6.0f} MB  = {rss / LIMIT_MB:.2f} x the {LIMIT_MB:g} MB limit")
    print(f"movement detection alone {detect['detect_s']:6.1f} s, peak RSS {detect['detect_peak_mb']:.0f} MB "
          f"(after imports: {detect['import_peak_mb']:.0f} MB; block-wise, {detect['n_movements']} movements)")
    from nwbmotor.testing import assert_valid_nwb

    assert_valid_nwb(out)
    print(f"{out} passes nwbmotor inspect ({out.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
