"""Movement-related classification against planted cells and a brute-force shuffle."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.analysis import classify_movement_related, detect_events, fraction_movement_related
from nwbmotor.analysis._movement_related import movement_frames, movement_shuffle_test
from nwbmotor.testing import planted_session


@pytest.mark.parametrize("seed", [0, 5])
def test_precision_and_recall_on_planted_cells(seed: int) -> None:
    ds, truth = planted_session(n_cells=60, n_frames=6000, seed=seed)
    res = classify_movement_related(ds, n_shuffles=2000)
    exc = ds.cell_type.values == "excitatory"
    assert res.tested.values.tolist() == exc.tolist()
    for kind in ("movement_related", "quiescence_related"):
        pred, true = res[kind].values[exc], truth[kind][exc]
        tp = int((pred & true).sum())
        assert true.sum() >= 5
        assert tp / max(pred.sum(), 1) >= 0.9, kind  # precision
        assert tp / true.sum() >= 0.9, kind  # recall
    assert not res.movement_related.values[~exc].any()


def _brute_p(ev: np.ndarray, mov: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Shuffle the units of the movement trace by explicit concatenation."""
    edges = np.flatnonzero(np.diff(mov.astype(int))) + 1
    pieces = np.split(mov, edges)
    units = [p[i : i + 1] for p in pieces if not p[0] for i in range(p.size)] + [
        p for p in pieces if p[0]
    ]
    real = ev[mov].sum(axis=0)
    less = np.zeros(ev.shape[1])
    equal = np.zeros(ev.shape[1])
    for _ in range(n):
        shuffled = np.concatenate([units[i] for i in rng.permutation(len(units))])
        s = shuffled @ ev
        less += s < real - 1e-9
        equal += np.abs(s - real) <= 1e-9
    return (less + 0.5 * equal + 1) / (n + 1)


def test_fast_shuffle_matches_explicit_unit_shuffle() -> None:
    rng = np.random.default_rng(3)
    mov = np.zeros(1500, bool)
    for s in rng.choice(np.arange(20, 1450, 60), 18, replace=False):
        mov[s : s + rng.integers(8, 40)] = True
    ev = np.zeros((1500, 4))
    ev[:, 0] = np.where(mov & (rng.random(1500) < 0.3), 1.0, 0.0)  # movement-locked
    ev[:, 1] = np.where(~mov & (rng.random(1500) < 0.1), 1.0, 0.0)  # quiescence-locked
    ev[:, 2] = np.where(rng.random(1500) < 0.05, rng.random(1500), 0.0)  # untuned
    ev[:, 3] = np.convolve(np.where(mov & (rng.random(1500) < 0.05), 1.0, 0.0), np.ones(6))[:1500]
    stat, p_fast = movement_shuffle_test(ev, mov, 3000, seed=1)
    p_brute = _brute_p(ev, mov, 3000, np.random.default_rng(2))
    np.testing.assert_allclose(stat, ev[mov].sum(axis=0))
    np.testing.assert_allclose(p_fast, p_brute, atol=0.03)
    assert p_fast[0] > 0.995 and p_fast[1] < 0.005


def test_movement_frames_dilate_and_clip() -> None:
    t = np.arange(50) / 10.0
    m = movement_frames(t, np.array([-1.0, 2.0, 4.8]), np.array([-0.5, 2.25, 9.0]), 2)
    expected = np.zeros(50, bool)
    expected[18:25] = True  # frames 20-22 dilated by 2
    expected[46:] = True  # frames 48-49 dilated back by 2, clipped at the end
    np.testing.assert_array_equal(m, expected)


def test_result_records_parameters_and_nan_reasons() -> None:
    ds, _ = planted_session(n_cells=8, n_frames=3000, seed=1, fraction_inhibitory=0.25)
    ev = detect_events(ds.activity)
    ev[:, 0] = 0.0  # a silent cell
    ev[:, 1] = np.nan  # a NaN trace
    ds = ds.assign_coords(excluded=("unit", [False] * 7 + [True]))
    res = classify_movement_related(ds, ev, n_shuffles=300, dilate_frames=3, seed=7)
    assert (
        res.attrs["n_shuffles"] == 300
        and res.attrs["dilate_frames"] == 3
        and res.attrs["seed"] == 7
    )
    assert res.attrs["p_movement"] == 0.995 and res.attrs["p_quiescence"] == 0.005
    assert np.isnan(res.p_value.values[[0, 1, 7]]).all()
    assert not res.tested.values[7]
    for text in ("no events", "NaN in their trace", "not tested"):
        assert text in res.attrs["nan_reason"]
    assert res["cell_type"].values.tolist() == ds["cell_type"].values.tolist()


def test_session_events_variable_is_used() -> None:
    ds, truth = planted_session(n_cells=10, n_frames=3000, seed=2)
    ev = detect_events(ds.activity)
    a = classify_movement_related(ds, ev, n_shuffles=500)
    b = classify_movement_related(ds.assign(events=ev), n_shuffles=500)
    xr.testing.assert_identical(a, b)


def test_bad_sessions_raise() -> None:
    ds, _ = planted_session(n_cells=4, n_frames=1500, seed=0)
    with pytest.raises(NwbMotorValueError, match="has no lever movements"):
        classify_movement_related(ds.isel(movement=[]), n_shuffles=10)
    late = ds.assign(
        movement_start_time=ds.movement_start_time + 1e4,
        movement_stop_time=ds.movement_stop_time + 1e4,
    )
    with pytest.raises(NwbMotorValueError, match="all .* movements fall outside the recording"):
        classify_movement_related(late, n_shuffles=10)
    with pytest.raises(
        NwbMotorValueError, match="events have 1000 frames, the session's activity has 1500"
    ):
        classify_movement_related(
            ds, detect_events(ds.activity.isel(time=slice(0, 1000))), n_shuffles=10
        )
    with pytest.raises(NwbMotorValueError, match="the session has no activity"):
        classify_movement_related(ds.isel(unit=[]), n_shuffles=10)
    with pytest.raises(NwbMotorTypeError, match="expected the session view"):
        classify_movement_related(ds.activity, n_shuffles=10)


def test_fraction_movement_related_per_session() -> None:
    ds, truth = planted_session(n_cells=40, n_frames=3000, seed=0, fraction_movement=0.5)
    res = classify_movement_related(ds, n_shuffles=500)
    one = fraction_movement_related(res)
    expected = res.movement_related.values.sum() / np.isfinite(res.p_value.values).sum()
    assert float(one) == pytest.approx(expected)
    exc = ds.cell_type.values == "excitatory"
    assert abs(float(one) - truth["movement_related"][exc].mean()) < 0.1
    many = fraction_movement_related(
        {"a": res, "b": res.assign(movement_related=res.movement_related & False)}
    )
    assert many.dims == ("session",) and many.values.tolist() == [pytest.approx(expected), 0.0]
    tree = xr.DataTree.from_dict({"PLANT01/day01": res, "PLANT01/day02": res})
    from_tree = fraction_movement_related(tree)
    assert from_tree.session.values.tolist() == ["PLANT01/day01", "PLANT01/day02"]
    np.testing.assert_allclose(from_tree.values, expected)
    nothing = fraction_movement_related(res.assign(p_value=res.p_value * np.nan))
    assert np.isnan(float(nothing)) and "no cell with a p-value" in nothing.attrs["nan_reason"]
    with pytest.raises(NwbMotorValueError, match="kind must be"):
        fraction_movement_related(res, kind="other")
