"""Peak memory of a Suite2p conversion against the length of the recording.

Writes a Suite2p plane (300 ROIs, 512 × 512) of 30 and 60 minutes at 30 Hz, converts
each in a fresh process (F, Fneu, spks streamed from their memory maps, dF/F computed in
blocks of ROIs into a scratch memory map), and prints the peak anonymous resident
memory (``RssAnon``, sampled every 50 ms; file-backed pages of the memory maps are page
cache and are not counted) and the ratio long/short: 1.0 means memory does not grow
with the recording.

    python benchmarks/bench_suite2p_memory.py [--rois 300] [--minutes 30]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

from nwbmotor.converters.segmentation import load_npy
from nwbmotor.testing import make_cell_field, render_session, write_suite2p_plane

_CHILD = textwrap.dedent(
    """
    import json, sys, threading, time
    peak = [0]
    def sample():
        while True:
            for line in open('/proc/self/status'):
                if line.startswith('RssAnon'):
                    peak[0] = max(peak[0], int(line.split()[1]) // 1024)
            time.sleep(0.05)
    threading.Thread(target=sample, daemon=True).start()
    from nwbmotor import write_nwbfile
    from nwbmotor.converters.segmentation import Suite2pInterface
    from nwbmotor.testing import mock_nwbfile
    time.sleep(0.2)
    baseline = peak[0]
    start = time.perf_counter()
    interface = Suite2pInterface(sys.argv[1])
    nwbfile = mock_nwbfile()
    interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    write_nwbfile(nwbfile, sys.argv[2], finalizers=[interface])
    seconds = time.perf_counter() - start
    time.sleep(0.2)
    print(json.dumps({"baseline_mb": baseline, "peak_mb": peak[0], "seconds": seconds}))
    """
)


def _double(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True)
    for name in ("F", "Fneu", "spks"):
        a = np.load(src / f"{name}.npy", mmap_mode="r")
        np.save(dst / f"{name}.npy", np.concatenate([a, a], axis=1))
    for name in ("iscell", "redcell", "stat"):
        (dst / f"{name}.npy").write_bytes((src / f"{name}.npy").read_bytes())
    ops = load_npy(src / "ops.npy")
    ops["nframes"] = 2 * int(ops["nframes"])
    np.save(dst / "ops.npy", ops, allow_pickle=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rois", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        n_frames = int(args.minutes * 60 * 30)
        field = make_cell_field(args.rois, (512, 512), seed=0)
        write_suite2p_plane(root / "short", session=render_session(field), n_frames=n_frames)
        _double(root / "short", root / "long")
        results = {}
        for name in ("short", "long"):
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, str(root / name), str(root / f"{name}.nwb")],
                capture_output=True,
                text=True,
                check=True,
            )
            results[name] = json.loads(out.stdout.strip().splitlines()[-1])
            mb = sum((root / name / f"{t}.npy").stat().st_size for t in ("F", "Fneu", "spks")) / 1e6
            r = results[name]
            print(
                f"{name:5s}: {args.rois} ROIs x {n_frames * (1 if name == 'short' else 2)} frames "
                f"({mb:.0f} MB of traces): peak RssAnon {r['peak_mb']} MB "
                f"(imports {r['baseline_mb']} MB), {r['seconds']:.1f} s"
            )
        ratio = results["long"]["peak_mb"] / results["short"]["peak_mb"]
        print(f"peak memory long/short = {ratio:.2f} (2x the frames; shared 2-core machine)")


if __name__ == "__main__":
    main()
