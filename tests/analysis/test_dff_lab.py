"""The lab's dF/F baseline (AP_baselineEstimation.m) as preset peters2014."""

from __future__ import annotations

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.methods import dff_from_fluorescence, dff_lab
from nwbmotor.methods._dff import _clamp_ends, _grid_mode, _lab_pad, _matlab_mode, _matlab_round
from nwbmotor.testing import gcamp_trace

FS = 28.0


def test_padding_is_conv2_same_of_round_round_5fs_over_2():
    mask = np.zeros(300, dtype=bool)
    mask[150] = True
    padded = _lab_pad(mask, 70)  # round(round(5 * 28) / 2) = 70 frames: 35 before, 34 after
    np.testing.assert_array_equal(np.flatnonzero(padded), np.arange(115, 185))


def test_matlab_round_mode_grid_mode_and_clamped_ends():
    np.testing.assert_array_equal(_matlab_round(np.array([0.5, 1.5, 2.5, -0.5, -2.5])), [1, 2, 3, -1, -3])
    assert _matlab_mode(np.array([3.0, 1.0, 3.0, 1.0, 2.0])) == 1.0  # ties: the smallest
    # grid min:(max-min)/n:max without its last point; the point nearest the mean
    x = np.array([0.0, 0.0, 0.0, 10.0])  # mean 2.5, grid 0, 2.5, 5, 7.5
    assert _grid_mode(x) == 2.5
    b = np.arange(10.0)
    _clamp_ends(b, 3)  # b(1:3) = b(3); b(end-3:end) = b(end-3)
    np.testing.assert_array_equal(b, [2, 2, 2, 3, 4, 5, 6, 6, 6, 6])


def _cell(rate_hz: float, seed: int, n: int = 8400, base: float = 1000.0):
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(5.0, n / FS - 5.0, int(rate_hz * n / FS)))
    drift = 1.0 + 0.05 * np.sin(2 * np.pi * np.arange(n) / (n * 1.3))
    f0 = base * drift
    return f0 * (1.0 + gcamp_trace(times, rng.uniform(0.3, 1.0, times.size), n, FS)) + rng.normal(0, 8.0, n), f0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_cells_get_their_planted_baseline(seed):
    f, f0 = _cell(0.05, seed)
    dff, base, valid = dff_lab(f[None, :], FS)
    assert valid[0]
    assert np.median(np.abs(base[0] - f0) / f0) < 0.01
    assert abs(np.median(dff[0])) < 0.01


def test_cells_with_events_at_1_hz_are_invalid_as_in_the_lab_code():
    # events every second, padded by +-1.25 s, leave (almost) no inactive frame
    f, _ = _cell(1.2, 0)
    dff, base, valid = dff_lab(f[None, :], FS)
    assert not valid[0] and np.isnan(dff).all() and np.isnan(base).all()


def test_a_dip_is_excluded_from_the_baseline_in_the_two_sided_round():
    rng = np.random.default_rng(3)
    n = 8400
    f = 1000.0 + rng.normal(0, 8.0, n)
    f[4000:4300] -= 300.0  # a 10-s drop (e.g. the ROI leaving focus)
    _, base, valid = dff_lab(f[None, :], FS)
    assert valid[0]
    assert abs(base[0, 4150] - 1000.0) < 20.0  # interpolated across, not pulled down


def test_nan_rois_are_invalid_and_the_preset_dispatches():
    f, _ = _cell(0.05, 4)
    F = np.stack([f, f.copy()])
    F[1, 100] = np.nan
    dff, base, valid = dff_from_fluorescence(F, FS, preset="peters2014")
    np.testing.assert_array_equal(valid, [True, False])
    direct, _, _ = dff_lab(F[:1], FS)
    np.testing.assert_array_equal(dff[0], direct[0])
    with pytest.raises(NwbMotorValueError, match=r"preset 'peters2014' is the lab's code with fixed values"):
        dff_from_fluorescence(F, FS, preset="peters2014", pad_s=2.5)
    with pytest.raises(NwbMotorValueError, match=r"shape \(n_rois, n_frames\)"):
        dff_lab(np.ones(10), FS)


def test_baseline_window_is_one_minute_or_a_third_of_a_short_trace():
    from nwbmotor.methods._dff import _lab_window

    # AP_baselineEstimation.m: round(1 * 60 * framerate); if size <= that, round(size / 3)
    assert _lab_window(8400, 28.0) == 1680
    assert _lab_window(1681, 28.0) == 1680
    assert _lab_window(1680, 28.0) == 560
    assert _lab_window(1000, 30.5) == 333  # round(1000 / 3)
    assert _lab_window(5000, 28.5) == 1710


def test_mode_is_the_gaussian_grid_point_unless_100_away_from_mode_of_rounded_values():
    from nwbmotor.methods._dff import _lab_mode

    # mode(round(x)) = 0; grid 0, 2.5, 5, 7.5: nearest the mean 2.5 is 2.5, within 100 -> 2.5
    assert _lab_mode(np.array([0.0, 0.0, 0.0, 10.0])) == 2.5
    # mode(round(x)) = 0; grid step 1000 / 5 = 200, the mean 400 is grid point 2 -> 400, 100 or more away -> 0
    assert _lab_mode(np.array([0.0, 0.0, 0.0, 1000.0, 1000.0])) == 0.0
    # rounding is MATLAB's (halves away from zero) before the mode: 0.5 -> 1, 1.4 -> 1
    assert _lab_mode(np.array([0.5, 1.4, 2.6, 1000.0])) == pytest.approx(1.0)


def test_dff_is_f_minus_f0_over_f0_with_f0_the_returned_baseline():
    f, _ = _cell(0.05, 5)
    dff, base, valid = dff_lab(f[None, :], FS)
    assert valid[0]
    np.testing.assert_allclose(dff[0], (f - base[0]) / base[0])
