"""The lab's calcium-event preset (AP_caEvents.m) and MATLAB's loess, against the published rule."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from nwbmotor import NwbMotorValueError
from nwbmotor.analysis import detect_events
from nwbmotor.methods import events_excitatory_lab, events_inhibitory_lab, matlab_loess, matlab_moving_mean
from nwbmotor.testing import gcamp_trace

# ------------------------------------------------------------------ MATLAB smoothing


def test_loess_reproduces_a_quadratic_everywhere():
    t = np.arange(80.0)
    y = 2.0 - 0.3 * t + 0.02 * t**2
    np.testing.assert_allclose(matlab_loess(y, 30), y, atol=1e-9)


def test_loess_interior_uses_29_neighbours_and_the_ends_the_first_30_samples():
    y = np.zeros(200)
    y[100] = 1.0
    out = matlab_loess(y, 30)
    # span 30 -> 31, h = 15: offsets +-15 carry weight (1 - 1)^3 = 0
    assert np.all(out[86:115] != 0.0) and out[85] == 0.0 and out[115] == 0.0
    for k, reaches_first in ((29, True), (30, False)):
        y = np.zeros(200)
        y[k] = 1.0
        assert bool(matlab_loess(y, 30)[0] != 0.0) is reaches_first  # y(1:span-1) only


def test_moving_mean_shrinks_its_span_at_the_ends():
    y = np.array([4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 8.0])
    np.testing.assert_allclose(matlab_moving_mean(y, 6), [4.0, 4 / 3, 0.8, 0.0, 0.0, 1.6, 8 / 3, 8.0])


# --------------------------------------------------- the MATLAB code, 1-based, literally


def _lab_pyr(raw: np.ndarray) -> np.ndarray:
    """caEvents_pyr transcribed with MATLAB's 1-based indices (x1 = x0 + 1)."""
    n = raw.size
    s = matlab_loess(raw, 30)
    ddf = np.r_[0.0, np.diff(s)]
    d2 = np.r_[0.0, np.diff(ddf)]
    sd = np.std(raw - s, ddof=1)
    vthr = 5 * np.std(ddf[s < 3 * sd], ddof=1)
    rise = (np.r_[0.0, np.diff(np.sign(ddf - vthr))] == 2) & (d2 > 0)
    zdown = (np.r_[0.0, np.diff(np.sign(ddf))] == -2) & (d2 < 0)
    zup = (np.r_[0.0, np.diff(np.sign(ddf))] == 2) & (d2 > 0)
    R = [i + 1 for i in np.flatnonzero(rise)]
    last_down, first_up = np.flatnonzero(zdown)[-1] + 1, np.flatnonzero(zup)[0] + 1
    R = [r for r in R if not (r > last_down or r < first_up)]
    out = np.zeros(n)
    M = lambda i: raw[i - 1]  # noqa: E731  MATLAB pyr_matrix(curr_cell, i)
    for r in R:
        peak = r - 1 + next(k for k in range(1, n + 1) if zdown[r - 1 + k - 1])
        search = [x for x in range(peak - 5, peak + 6) if 0 < x < n]
        vals = [M(x) for x in search]
        offset = int(np.argmax(vals)) + 1
        peak_df, peak_frame = vals[offset - 1], peak + (offset - 6)
        start_vel = max(k for k in range(1, r + 1) if zup[k - 1])
        low = M(start_vel)
        starts = [k for k in range(1, peak_frame + 1) if M(k) < low + sd]
        bad = peak_df < 3 * sd or M(peak_frame + 1) - low < 2 * sd or M(peak_frame) < 3 * sd
        if bad or low < -2 * sd or not starts:
            continue
        out[starts[-1] - 1 : peak_frame] = peak_df - low  # frames start..peak (1-based)
    return out


def _lab_gad(raw: np.ndarray) -> np.ndarray:
    """caEvents_gad transcribed with 1-based indices."""
    s = matlab_loess(raw, 30)
    noise = np.mean(np.abs(raw - s))
    t1_start = np.diff(np.r_[0, (s > noise).astype(int), 0]) == 1
    d3 = np.diff(np.r_[0, (s > 3 * noise).astype(int), 0])
    on = np.zeros(raw.size, dtype=bool)
    for x, y in zip(np.flatnonzero(d3 == 1) + 1, np.flatnonzero(d3 == -1) + 1):
        k = next(k for k in range(1, x + 1) if t1_start[x - k])  # find(t1_start(x:-1:1), 1)
        on[x - k : y - 1] = True  # frames x - k + 1 .. y - 1 (1-based)
    return np.where(on, raw, 0.0)


def _traces(seed: int, n: int = 3000, rate: float = 28.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(2.0, n / rate - 2.0, 25))
    amps = rng.uniform(0.3, 2.0, times.size)
    return gcamp_trace(times, amps, n, rate) + rng.normal(0.0, 0.08, n)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_excitatory_events_match_the_lab_code(seed):
    raw = _traces(seed)
    expected = _lab_pyr(raw)
    assert np.count_nonzero(np.diff(np.r_[0, expected > 0]) == 1) >= 10  # the case has events
    np.testing.assert_array_equal(events_excitatory_lab(raw), expected)


@pytest.mark.parametrize("seed", [0, 1])
def test_inhibitory_activity_matches_the_lab_code(seed):
    raw = _traces(seed)
    expected = _lab_gad(raw)
    assert (expected > 0).sum() > 100
    np.testing.assert_array_equal(events_inhibitory_lab(raw), expected)


def test_inhibitory_activity_ends_with_the_3_noise_run_and_starts_with_its_1_noise_run():
    t = np.arange(400)
    raw = np.where((t >= 150) & (t < 250), 1.0, 0.0) + 0.02 * np.sin(1.7 * t)
    out = events_inhibitory_lab(raw)
    s = matlab_loess(raw, 30)
    noise = np.mean(np.abs(raw - s))
    on = np.flatnonzero(out != 0)
    above3 = np.flatnonzero(s > 3 * noise)
    assert on[-1] == above3[-1]  # nothing after the 3-noise run
    assert s[on[0]] > noise and s[on[0] - 1] <= noise  # back to where s first exceeded noise


def test_events_are_found_at_planted_transients():
    raw = _traces(5)
    ev = events_excitatory_lab(raw)
    starts = np.flatnonzero(np.diff(np.r_[0, ev > 0]) == 1)
    rng = np.random.default_rng(5)
    times = np.sort(rng.uniform(2.0, 3000 / 28.0 - 2.0, 25))
    frames = np.round(times * 28.0).astype(int)
    found = [np.any(np.abs(starts - f) <= 6) for f in frames]
    assert np.mean(found) >= 0.5  # overlapping transients are one event by the rule
    near = [np.any(np.abs(frames - st) <= 6) for st in starts]
    assert np.mean(near) >= 0.9  # and events lie at planted transients
    noise_only = np.random.default_rng(6).normal(0.0, 0.08, 3000)
    assert np.count_nonzero(np.diff(np.r_[0, events_excitatory_lab(noise_only) > 0]) == 1) <= 2


# -------------------------------------------------------------- detect_events presets


def _activity(raw: np.ndarray) -> xr.DataArray:
    return xr.DataArray(raw[:, None], dims=("time", "unit"), coords={"time": np.arange(raw.size) / 28.0})


def test_detect_events_default_is_the_lab_code_and_records_the_preset():
    raw = _traces(0)
    ev = detect_events(_activity(raw))
    assert ev.attrs["preset"] == "peters2014"
    np.testing.assert_array_equal(ev.values[:, 0], events_excitatory_lab(raw))
    other = detect_events(_activity(raw), preset="nwbmotor", velocity_sd=4.0)
    assert other.attrs["preset"] == "nwbmotor" and other.attrs["velocity_sd"] == 4.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"preset": "peters2015"}, r"unknown preset 'peters2015'"),
        ({"velocity_sd": 4.0}, r"parameters \['velocity_sd'\] are those of the lab's code"),
    ],
)
def test_detect_events_bad_preset_use(kwargs, match):
    with pytest.raises(NwbMotorValueError, match=match):
        detect_events(_activity(_traces(0)), **kwargs)


def test_lab_preset_sets_nan_samples_to_zero_and_drops_all_nan_units():
    # AP_caEvents.m: all-NaN cells are discarded, other NaN samples are set to 0 first
    raw = _traces(0)
    holed = raw.copy()
    holed[[10, 500]] = np.nan
    act = xr.DataArray(np.c_[holed, np.full(raw.size, np.nan)], dims=("time", "unit"),
                       coords={"time": np.arange(raw.size) / 28.0})
    ev = detect_events(act)
    zeroed = np.where(np.isnan(holed), 0.0, holed)
    np.testing.assert_array_equal(ev.values[:, 0], events_excitatory_lab(zeroed))
    assert np.isnan(ev.values[:, 1]).all() and ev.events_valid.values.tolist() == [True, False]
    assert ev.attrs["nan_samples_set_to_zero"] == 2 and "[1] have only NaN samples" in ev.attrs["nan_reason"]
