"""Movement-related classification variants: the 2014 rule and the Wright v2 rule."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.analysis import classify_movement_related
from nwbmotor.analysis._movement_related import epoch_shuffle_percentile, movement_frames, movement_shuffle_test
from nwbmotor.testing import planted_session


def test_wright_v2_shuffles_quiescent_epochs_whole():
    # runs: movement [0, 1), quiescence [1, 5): only two orders, movement at frame 0 or 4
    mov = np.array([True, False, False, False, False])
    act = np.eye(5)[:, [2, 4]]  # cell 0 active on frame 2, cell 1 on frame 4
    stat, lower, upper = epoch_shuffle_percentile(act, mov, 2000, seed=0)
    np.testing.assert_array_equal(stat, [0.0, 0.0])
    assert upper[0] == 0.0 and lower[0] == 0.0  # frame 2 is never a movement frame
    assert lower[1] == 0.0 and upper[1] == 1.0  # frame 4 is, in half the orders
    # the 2014 rule cuts quiescence into single frames: frame 2 can then be a movement frame
    _, p = movement_shuffle_test(act, mov, 2000, seed=0)
    assert p[0] < 1.0


def test_wright_v2_shuffle_distribution_is_that_of_all_run_orders():
    mov = np.array([False, False, True, True, False])  # runs Q2, M2, Q1
    act = np.eye(5)
    lengths, is_move = [2, 2, 1], [False, True, False]
    p = np.zeros(5)  # P(frame f is a movement frame) over the 6 equally likely orders
    for order in itertools.permutations(range(3)):
        pos = 0
        for r in order:
            if is_move[r]:
                p[pos : pos + lengths[r]] += 1 / 6
            pos += lengths[r]
    np.testing.assert_allclose(p, [1 / 3, 1 / 2, 1 / 3, 1 / 2, 1 / 3])
    # the q-th percentile of a 0/1 statistic is 1 where P(1) > 1 - q/100 (with a margin)
    _, lo, hi = epoch_shuffle_percentile(act, mov, 4000, 60.0, seed=1)
    np.testing.assert_array_equal(hi, (p > 0.4).astype(float))
    np.testing.assert_array_equal(lo, np.zeros(5))
    _, lo, hi = epoch_shuffle_percentile(act, mov, 4000, 75.0, seed=2)
    np.testing.assert_array_equal(hi, np.ones(5))


def _planted(seed: int):
    rng = np.random.default_rng(seed)
    n = 6000
    mov = np.zeros(n, bool)
    t = 50
    while t < n - 200:
        length = int(rng.integers(20, 80))
        mov[t : t + length] = True
        t += length + int(rng.integers(60, 250))
    move_cells = (mov[:, None] * rng.uniform(0.5, 1.0, 5)) + rng.normal(0, 0.3, (n, 5))
    quiet_cells = (~mov[:, None] * rng.uniform(0.5, 1.0, 5)) + rng.normal(0, 0.3, (n, 5))
    noise_cells = rng.normal(0, 0.3, (n, 20))
    return np.c_[move_cells, quiet_cells, noise_cells], mov


@pytest.mark.parametrize("seed", [0, 1])
def test_wright_v2_finds_planted_movement_and_quiescence_cells(seed):
    act, mov = _planted(seed)
    stat, lower, upper = epoch_shuffle_percentile(act, mov, 2000, seed=seed)
    moving, quiet = stat > upper, stat < lower
    assert moving[:5].all() and quiet[5:10].all()
    assert not quiet[:5].any() and not moving[5:10].any()
    # noise cells: each is flagged with probability ~5 % (2.5 % each side)
    assert (moving[10:] | quiet[10:]).sum() <= 5


def test_classify_variants_on_a_planted_session():
    ds, truth = planted_session(n_cells=40, n_frames=5000, seed=3)
    exc = ds.cell_type.values == "excitatory"
    res14 = classify_movement_related(ds, n_shuffles=1000)
    assert res14.attrs["variant"] == "peters2014" and res14.attrs["frame_rule"] == "lab"
    res = classify_movement_related(ds, n_shuffles=1000, variant="wright_v2", dilate_frames=0)
    assert res.attrs["variant"] == "wright_v2" and res.attrs["percentile"] == 97.5
    assert {"shuffle_lower", "shuffle_upper"} <= set(res.data_vars)
    stat, upper = res.statistic.values, res.shuffle_upper.values
    np.testing.assert_array_equal(res.movement_related.values, res.tested.values & (stat > upper))
    true = truth["movement_related"] & exc
    assert (res.movement_related.values & true).sum() >= 0.8 * true.sum()


def test_lab_frame_rule_rounds_each_millisecond_to_a_frame():
    time = np.arange(100) / 10.0  # 10 frames/s
    # active from 2.000 s to 2.300 s: ms samples k = 2001 .. 2301 (1-based) -> frames
    # round(k / 100) = 20 .. 23 (1-based), i.e. 19 .. 22 (0-based)
    m = movement_frames(time, np.array([2.0]), np.array([2.3]), 0, frame_rule="lab")
    np.testing.assert_array_equal(np.flatnonzero(m), [19, 20, 21, 22])
    overlap = movement_frames(time, np.array([2.0]), np.array([2.3]), 0)
    np.testing.assert_array_equal(np.flatnonzero(overlap), [20, 21, 22, 23])
    with pytest.raises(NwbMotorValueError, match="frame_rule must be 'overlap' or 'lab'"):
        movement_frames(time, np.array([2.0]), np.array([2.3]), 0, frame_rule="nearest")


def test_unknown_variant_is_an_error():
    ds, _ = planted_session(n_cells=5, n_frames=1000, seed=0)
    with pytest.raises(NwbMotorValueError, match=r"unknown variant 'wright'"):
        classify_movement_related(ds, variant="wright")


def _tiny_session(reward_times):
    """20 frames at 10 Hz; movements on frames 3-5 and 12-14; events given per test."""
    import xarray as xr

    time = np.arange(20) / 10.0
    return xr.Dataset(
        {
            "activity": (("time", "unit"), np.zeros((20, 3))),
            "movement_start_time": ("movement", [0.3, 1.2]),
            "movement_stop_time": ("movement", [0.5, 1.4]),
            "reward_time": ("trial", np.asarray(reward_times, float)),
            "rewarded": ("trial", np.isfinite(np.asarray(reward_times, float))),
        },
        coords={"time": time, "unit": [0, 1, 2]},
    )


def test_rewarded_variant_drops_unrewarded_epochs_and_shuffles_the_rest():
    import xarray as xr

    ds = _tiny_session([0.4, np.nan])  # one reward, on frame 4: epoch 3-5 is rewarded, 12-14 is not
    ev = np.zeros((20, 3))
    ev[4, 0] = 1.0  # on the rewarded movement
    ev[13, 1] = 1.0  # on the unrewarded movement, whose frames are removed
    ev[10, 2] = 1.0  # quiescent
    events = xr.DataArray(ev, dims=("time", "unit"), coords={"time": ds.time, "unit": ds.unit})
    n = 20_000
    res = classify_movement_related(
        ds, events, variant="peters2014_rewarded", dilate_frames=0, frame_rule="overlap", n_shuffles=n
    )
    # 17 frames remain: 14 quiescent units and the 3-frame epoch, 15 units in all. The
    # epoch's start is its slot s (0..14), so it covers a given position with P = 3/15.
    assert res.attrs["n_frames_used"] == 17 and res.attrs["variant"] == "peters2014_rewarded"
    np.testing.assert_array_equal(res.statistic.values[[0, 2]], [1.0, 0.0])
    # p = (less + ties / 2 + 1) / (N + 1): cell 0 (real 1): 0.8 + 0.2 / 2; cell 2 (real 0): 0.8 / 2
    np.testing.assert_allclose(res.p_value.values[[0, 2]], [0.9, 0.4], atol=0.01)
    # cell 1 has no event left on the frames used: not tested, as a cell without events
    assert np.isnan(res.p_value.values[1]) and "1 units have no events" in res.attrs["nan_reason"]
    # the all-movements rule keeps the unrewarded epoch: cell 1's event is on a movement
    res_all = classify_movement_related(ds, events, dilate_frames=0, frame_rule="overlap", n_shuffles=n)
    np.testing.assert_array_equal(res_all.statistic.values, [1.0, 1.0, 0.0])
    assert res_all.attrs["n_frames_used"] == 20


def test_rewarded_variant_keeps_an_epoch_whose_dilated_frames_hold_the_reward():
    from nwbmotor.analysis._movement_related import _rewarded_epoch_frames

    mov = movement_frames(np.arange(40) / 10.0, np.array([1.0, 2.5]), np.array([1.2, 2.7]), 2, frame_rule="overlap")
    # epochs 8-14 and 23-29 after the +-2 dilation; a reward on frame 9 (dilated part) counts
    keep = _rewarded_epoch_frames(mov, np.array([9, -1, 99]))
    np.testing.assert_array_equal(np.flatnonzero(~keep), np.arange(23, 30))
    keep = _rewarded_epoch_frames(mov, np.array([5]))  # a reward on a quiescent frame rewards nothing
    np.testing.assert_array_equal(np.flatnonzero(~keep), np.r_[8:15, 23:30])


def test_rewarded_variant_without_a_rewarded_movement_is_an_error():
    ds = _tiny_session([np.nan, np.nan])
    with pytest.raises(NwbMotorValueError, match=r"no reward onset .* falls on one of the 2 movement epochs"):
        classify_movement_related(ds, ds.activity + 0.0, variant="peters2014_rewarded", dilate_frames=0)


@pytest.mark.parametrize("seed", [3, 4])
def test_rewarded_variant_recovers_planted_movement_related_cells(seed):
    ds, truth = planted_session(n_cells=40, n_frames=6000, seed=seed)
    exc = ds.cell_type.values == "excitatory"
    res = classify_movement_related(ds, n_shuffles=2000, variant="peters2014_rewarded")
    assert res.attrs["n_frames_used"] < ds.sizes["time"]  # spontaneous movements were removed
    true = truth["movement_related"] & exc
    found = res.movement_related.values
    assert (found & true).sum() >= 0.8 * true.sum()
    assert (found & ~truth["movement_related"]).sum() <= max(1, int(0.05 * (~truth["movement_related"]).sum()))
    assert not (res.quiescence_related.values & true).any()
