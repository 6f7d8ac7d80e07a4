from __future__ import annotations

import io

import h5py
import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.converters.imaging._chunk_writer import encode_chunk, write_frames_direct
from nwbmotor.testing import SyntheticMovie


def _dataset(f: h5py.File, shape, dtype, chunks, name="x"):
    return f.create_dataset(name, shape=shape, dtype=dtype, chunks=chunks, shuffle=True, compression="gzip", compression_opts=4)


@pytest.mark.parametrize("dtype", ["uint16", "int16", "uint8", "float32"])
def test_chunk_bytes_decode_with_hdf5s_own_filters(dtype: str) -> None:
    block = SyntheticMovie(n_frames=3, shape=(16, 24), seed=2).frames().astype(dtype)
    with h5py.File(io.BytesIO(), "w") as f:
        d = _dataset(f, block.shape, dtype, block.shape)
        d.id.write_direct_chunk((0, 0, 0), encode_chunk(block, block.shape), filter_mask=0)
        np.testing.assert_array_equal(d[()], block)  # HDF5 unshuffles + inflates our bytes


@pytest.mark.parametrize(("n_frames", "chunk"), [(101, 8), (7, 7), (5, 16)])
def test_round_trip_with_partial_last_chunk(n_frames: int, chunk: int) -> None:
    frames = SyntheticMovie(n_frames=n_frames, shape=(20, 12), seed=1).frames()
    t = min(chunk, n_frames)
    with h5py.File(io.BytesIO(), "w") as f:
        d = _dataset(f, frames.shape, frames.dtype, (t, 20, 12))
        n = write_frames_direct(d, (frames[i : i + t] for i in range(0, n_frames, t)), workers=2)
        assert n == n_frames
        np.testing.assert_array_equal(d[()], frames)


def test_read_ahead_is_bounded() -> None:
    """Memory is constant: the reader never runs more than max_inflight chunks ahead of the writer."""
    frames = SyntheticMovie(n_frames=200, shape=(8, 8)).frames()
    state = {"read": 0, "written": 0, "max_ahead": 0}

    def blocks():
        for i in range(0, 200, 2):
            state["read"] += 1
            state["max_ahead"] = max(state["max_ahead"], state["read"] - state["written"])
            yield frames[i : i + 2]

    def progress(n: int) -> None:
        state["written"] += 1

    with h5py.File(io.BytesIO(), "w") as f:
        d = _dataset(f, frames.shape, frames.dtype, (2, 8, 8))
        write_frames_direct(d, blocks(), workers=2, max_inflight=3, progress=progress)
        np.testing.assert_array_equal(d[()], frames)
    assert state["max_ahead"] <= 4


@pytest.mark.parametrize(
    ("blocks", "match"),
    [
        ([np.zeros((2, 4, 5), "uint16")], r"block 0 has shape \(2, 4, 5\); expected \(1..2, 4, 4\)"),
        ([np.zeros((2, 4, 4), "int32")], "block 0 has dtype int32; expected uint16"),
        ([np.zeros((2, 4, 4), "uint16")], "the source yielded 2 frames; expected 6"),
        ([np.zeros((2, 4, 4), "uint16")] * 4, "more than the 6 frames"),
    ],
)
def test_bad_streams_are_errors(blocks: list, match: str) -> None:
    with h5py.File(io.BytesIO(), "w") as f:
        d = _dataset(f, (6, 4, 4), "uint16", (2, 4, 4))
        with pytest.raises(NwbMotorValueError, match=match):
            write_frames_direct(d, iter(blocks))


def _peak_bytes(n_frames: int) -> int:
    import tracemalloc

    rng = np.random.default_rng(0)
    frame = rng.integers(0, 1000, size=(64, 64), dtype=np.uint16)

    def blocks():
        for i in range(0, n_frames, 4):
            yield np.repeat(frame[None], min(4, n_frames - i), axis=0) + np.uint16(i % 7)

    with h5py.File(f"mem-{n_frames}.h5", "w", driver="core", backing_store=False) as f:
        d = _dataset(f, (n_frames, 64, 64), "uint16", (4, 64, 64))
        tracemalloc.start()
        write_frames_direct(d, blocks(), workers=2)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_memory_does_not_grow_with_the_movie() -> None:
    small, large = _peak_bytes(400), _peak_bytes(3200)  # 3.2 MB vs 26 MB of frames
    assert large < 1.5 * small + 200_000
    assert large < 3_000_000
