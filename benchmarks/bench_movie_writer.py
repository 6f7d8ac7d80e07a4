"""Raw-movie writer: throughput, stored size and peak memory against NeuroConv and the codec limit.

Writes a photon-noise-like movie (default 2000 x 512 x 512 uint16 = 1 GiB) as a
multi-page TIFF, then converts it, each in its own subprocess (so peak RSS is that
conversion's alone), with:

* ``nwbmotor``: ``TiffMovieInterface`` + ``write_nwbfile`` with default settings
  (shuffle + gzip 4, parallel direct chunk writes);
* ``neuroconv``: NeuroConv's ``TiffImagingInterface.run_conversion`` with its defaults;
* ``codec-limit``: a bare parallel direct-chunk gzip-4 writer with byte shuffle (stdlib
  zlib on every core, reading the same pages, no NWB around it).

Then the peak RSS of nwbmotor's writer on a 4x longer movie (4 GiB). Throughput is raw
movie bytes / wall time of the whole conversion (opening the TIFF, writing, closing).
The TIFF was just written, so it is read from the page cache on all runs.

Usage::

    python benchmarks/bench_movie_writer.py [--frames 2000] [--size 512] [--big-factor 4]
        [--repeats 3] [--workdir DIR] [--skip-big]

Every file it writes is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RATE = 28.0


# ----------------------------------------------------------------------------- runners (child side)
def _cpu() -> float:
    """CPU seconds (user + system, all threads) of this process so far."""
    t = os.times()
    return t.user + t.system


def _run_nwbmotor(tif: Path, out: Path) -> dict:
    from neuroconv.utils import dict_deep_update

    from nwbmotor._write import write_nwbfile
    from nwbmotor.converters.imaging import TiffMovieInterface
    from nwbmotor.testing import mock_metadata

    t0, c0 = time.perf_counter(), _cpu()
    interface = TiffMovieInterface(tif, sampling_frequency=RATE)
    metadata = dict_deep_update(interface.get_metadata(), mock_metadata())
    nwbfile = interface.create_nwbfile(metadata=metadata)
    write_nwbfile(nwbfile, out, finalizers=[interface])
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": _cpu() - c0}


def _run_neuroconv(tif: Path, out: Path) -> dict:
    import warnings

    from neuroconv.datainterfaces import TiffImagingInterface
    from neuroconv.utils import dict_deep_update

    from nwbmotor.testing import mock_metadata

    warnings.simplefilter("ignore")
    t0, c0 = time.perf_counter(), _cpu()
    interface = TiffImagingInterface(file_path=tif, sampling_frequency=RATE)
    metadata = dict_deep_update(interface.get_metadata(), mock_metadata())
    interface.run_conversion(nwbfile_path=out, metadata=metadata, overwrite=True)
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": _cpu() - c0}


def _run_codec_limit(tif: Path, out: Path) -> dict:
    import collections
    import zlib
    from concurrent.futures import ThreadPoolExecutor

    import h5py
    import numpy as np

    from nwbmotor.converters.imaging import TiffFrameSource, scan_tiff

    t0, c0 = time.perf_counter(), _cpu()
    src = TiffFrameSource([scan_tiff(tif)])
    n, (h, w) = src.n_frames, src.frame_shape
    t = 4
    workers = len(os.sched_getaffinity(0))

    def encode(block: np.ndarray) -> bytes:
        if block.shape[0] < t:
            block = np.concatenate([block, np.zeros((t - block.shape[0], h, w), block.dtype)])
        shuffled = np.ascontiguousarray(block.view(np.uint8).reshape(-1, 2).T)
        return zlib.compress(memoryview(shuffled).cast("B"), 4)

    with h5py.File(out, "w") as f, ThreadPoolExecutor(workers) as pool:
        d = f.create_dataset("data", shape=(n, h, w), dtype=src.dtype, chunks=(t, h, w), shuffle=True, compression="gzip", compression_opts=4)
        q: collections.deque = collections.deque()
        for start in range(0, n, t):
            q.append((start, pool.submit(encode, src.read(start, min(start + t, n)))))
            while len(q) > 2 * workers + 2:
                s, fut = q.popleft()
                d.id.write_direct_chunk((s, 0, 0), fut.result())
        while q:
            s, fut = q.popleft()
            d.id.write_direct_chunk((s, 0, 0), fut.result())
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": _cpu() - c0}


_RUNNERS = {"nwbmotor": _run_nwbmotor, "neuroconv": _run_neuroconv, "codec-limit": _run_codec_limit}


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: reset at exec, unlike ru_maxrss, which a
    child inherits from the parent that forked it)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(which: str, tif: str, out: str) -> None:
    result = _RUNNERS[which](Path(tif), Path(out))
    result["maxrss_mb"] = _peak_rss_mb()
    print("RESULT " + json.dumps(result))


# ----------------------------------------------------------------------------- parent side
def _measure(which: str, tif: Path, out: Path) -> dict:
    if out.exists():
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", which, str(tif), str(out)], capture_output=True, text=True, check=False
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise SystemExit(f"{which} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    result = json.loads(lines[-1][7:])
    result["stored_bytes"] = out.stat().st_size
    out.unlink()
    return result


def _write_tiff(path: Path, n_frames: int, size: int) -> int:
    from nwbmotor.testing import SyntheticMovie, write_tiff_movie

    movie = SyntheticMovie(n_frames=n_frames, shape=(size, size), seed=0, frame_rate=RATE)
    write_tiff_movie(path, movie)
    return n_frames * size * size * 2


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(*sys.argv[2:5])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--frames", type=int, default=2000)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--big-factor", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3, help="runs of nwbmotor and the codec limit (median reported)")
    p.add_argument("--neuroconv-repeats", type=int, default=1)
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--skip-big", action="store_true")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nwbmotor-bench-", dir=args.workdir))
    print(f"machine: {os.cpu_count()} cores (shared with other jobs: timings are noisy; ratios are within one run)")
    try:
        tif = work / "movie.tif"
        t0 = time.perf_counter()
        raw = _write_tiff(tif, args.frames, args.size)
        print(f"movie: {args.frames} x {args.size} x {args.size} uint16 = {raw / 2**30:.2f} GiB raw "
              f"(TIFF written in {time.perf_counter() - t0:.0f} s)")
        results: dict[str, list[dict]] = {}
        order = ["nwbmotor", "codec-limit", "neuroconv"]
        reps = {"nwbmotor": args.repeats, "codec-limit": args.repeats, "neuroconv": args.neuroconv_repeats}
        for r in range(max(reps.values())):
            for which in order:
                if r < reps[which]:
                    res = _measure(which, tif, work / f"{which}.nwb")
                    results.setdefault(which, []).append(res)
                    print(f"  run {r + 1} {which:12s} {raw / 1e6 / res['seconds']:7.1f} MB/s  stored {res['stored_bytes'] / raw:.3f}  "
                          f"peak RSS {res['maxrss_mb']:.0f} MB  {raw / 1e6 / res['cpu_seconds']:6.1f} MB per CPU-second")
        summary = {}
        for which, runs in results.items():
            summary[which] = {
                "mbps": statistics.median(raw / 1e6 / x["seconds"] for x in runs),
                "ratio": statistics.median(x["stored_bytes"] / raw for x in runs),
                "rss": max(x["maxrss_mb"] for x in runs),
                "cpu": statistics.median(raw / 1e6 / x["cpu_seconds"] for x in runs),
            }
        print("\nmedians (MB/s of raw bytes; stored size / raw; peak RSS; raw MB per CPU-second, which other jobs barely change)")
        for which in order:
            s = summary[which]
            print(f"  {which:12s} {s['mbps']:7.1f} MB/s   stored {s['ratio']:.3f}   peak RSS {s['rss']:.0f} MB   {s['cpu']:6.1f} MB/CPU-s")
        ours = summary["nwbmotor"]
        print("\nratios")
        print(f"  nwbmotor / neuroconv throughput   {ours['mbps'] / summary['neuroconv']['mbps']:.2f}x")
        print(f"  nwbmotor / codec-limit throughput {ours['mbps'] / summary['codec-limit']['mbps']:.2f}x")
        print(f"  stored size: nwbmotor {ours['ratio']:.3f}, codec-limit {summary['codec-limit']['ratio']:.3f}, neuroconv {summary['neuroconv']['ratio']:.3f}")
        print(f"  peak RSS: nwbmotor {ours['rss']:.0f} MB vs neuroconv {summary['neuroconv']['rss']:.0f} MB")
        tif.unlink()
        if not args.skip_big:
            big = work / "big.tif"
            t0 = time.perf_counter()
            big_raw = _write_tiff(big, args.frames * args.big_factor, args.size)
            print(f"\nbig movie: {big_raw / 2**30:.2f} GiB raw (TIFF written in {time.perf_counter() - t0:.0f} s)")
            res = _measure("nwbmotor", big, work / "big.nwb")
            print(f"  nwbmotor {big_raw / 1e6 / res['seconds']:.1f} MB/s  stored {res['stored_bytes'] / big_raw:.3f}  peak RSS {res['maxrss_mb']:.0f} MB "
                  f"(1 GiB movie: {ours['rss']:.0f} MB)")
        print("\ntargets: >= 130 MB/s, stored <= 0.55, peak RSS <= 300 MB and the same for 1 and 4 GiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
