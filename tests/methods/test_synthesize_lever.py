"""The lever synthesizer plants what its truth says."""

from __future__ import annotations

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.testing import synthesize_lever_trace


def test_truth_onset_is_where_the_force_starts_to_rise():
    clean, truth = synthesize_lever_trace(
        40.0, n_movements=6, seed=4, noise_rms=0.0, hum_amplitude=0.0, drift_amplitude=0.0, adc_bits=None
    )
    for on, off in zip(truth.onset_times, truth.offset_times):
        i, j = int(round(on * 1e4)), int(round(off * 1e4))
        rest = clean[i - 1]
        assert np.all(clean[i - 500 : i] == rest)  # at rest up to the onset
        assert clean[i + 1] != rest and np.abs(clean[i : i + 200] - rest).max() > 0.01
        assert np.all(clean[j + 1 : j + 100] == clean[j + 1])  # back at (a new) rest after the offset


def test_partial_presses_stay_below_threshold_and_full_ones_cross():
    _, truth = synthesize_lever_trace(200.0, seed=1)
    assert 0.1 < truth.partial.mean() < 0.4
    assert np.all(truth.amplitudes[truth.partial] < truth.reward_threshold)
    assert np.all(truth.amplitudes[~truth.partial] > truth.reward_threshold)
    assert np.all(np.isnan(truth.crossing_times[truth.partial]))
    full = ~truth.partial
    assert np.all(truth.crossing_times[full] > truth.onset_times[full])
    assert np.all(truth.crossing_times[full] < truth.offset_times[full])


def test_noise_hum_and_quantisation():
    trace, truth = synthesize_lever_trace(20.0, n_movements=0, seed=0, drift_amplitude=0.0, n_touches=0)
    spectrum = np.abs(np.fft.rfft(trace - trace.mean())) / trace.size * 2
    freqs = np.fft.rfftfreq(trace.size, 1e-4)
    assert spectrum[np.argmin(np.abs(freqs - 60.0))] == pytest.approx(truth.hum_amplitude, rel=0.2)
    total = np.sqrt(truth.noise_rms**2 + truth.hum_amplitude**2 * (1 + 0.04) / 2)
    assert np.std(trace) == pytest.approx(total, rel=0.1)
    step = 20.0 / 2**16
    np.testing.assert_allclose(trace / step, np.round(trace / step), atol=1e-6)


def test_explicit_onsets_and_determinism():
    onsets = [2.0, 5.0, 9.5]
    a, ta = synthesize_lever_trace(15.0, onset_times=onsets, seed=3)
    b, tb = synthesize_lever_trace(15.0, onset_times=onsets, seed=3)
    c, _ = synthesize_lever_trace(15.0, onset_times=onsets, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_allclose(ta.onset_times, onsets)
    assert np.all(ta.offset_times[:-1] < ta.onset_times[1:])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"duration_s": 10.0, "n_movements": 20}, r"20 movements .* do not fit in 8.0 s"),
        ({"duration_s": 2.0}, r"duration_s must exceed 3.0 s"),
        ({"duration_s": 10.0, "onset_times": [2.0, 2.2]}, r"onset_times must increase by more than 0.5 s"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(NwbMotorValueError, match=match):
        synthesize_lever_trace(**kwargs)
