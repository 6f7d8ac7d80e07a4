"""The claims over seeds: table and captions computed from planted numbers; bad arguments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from nwbmotor import NwbMotorValueError
from nwbmotor.workflows import claims_section, claims_table, modular_rnn_claims
from nwbmotor.workflows._claims import CLAIM_AREAS, CLAIM_METRICS

DIMS = ("seed", "rotation", "hypothesis", "area")
ROTATIONS = [10.0, 30.0, 60.0]


def _planted(local_minus_input: np.ndarray) -> xr.Dataset:
    """10 seeds; every metric of H_input = seed + 1 (whatever the rotation), H_local = H_input + the
    planted difference of (seed, rotation)."""
    n = local_minus_input.shape[0]
    values = np.zeros((n, len(ROTATIONS), 2, len(CLAIM_AREAS)))
    values[:, :, 0] = (np.arange(n) + 1.0)[:, None, None]
    values[:, :, 1] = values[:, :, 0] + local_minus_input[:, :, None]
    coords = {"seed": np.arange(n), "rotation": ROTATIONS, "hypothesis": ["input", "local"],
              "area": list(CLAIM_AREAS)}
    return xr.Dataset({m: (DIMS, values.copy()) for m in CLAIM_METRICS}, coords=coords, attrs={"preset": "planted"})


def test_table_gives_medians_ranges_and_counts() -> None:
    diff = np.tile([1.0, 2.0, 3.0], (10, 1))
    diff[:3] = -0.5  # three seeds where H_local is the smaller
    table = claims_table(_planted(diff))
    assert len(table) == len(ROTATIONS) * len(CLAIM_METRICS) * len(CLAIM_AREAS)
    row = table.query("rotation == 30 and metric == 'covariance_change' and area == 'PMd'").iloc[0]
    assert row["H_input"] == "5.5 [1, 10]"  # seeds 1..10
    assert row["H_local"] == "7.5 [0.5, 12]"  # 0.5, 1.5, 2.5, then 6..12
    assert row["seeds H_input < H_local"] == "7/10"
    assert row["paper expects"] == "H_input < H_local"
    assert table.query("metric == 'weight_change'")["paper expects"].eq("").all()


def test_section_captions_follow_the_planted_differences(tmp_path: Path) -> None:
    # H_local - H_input positive and growing with the rotation in 8 seeds, negative and falling in 2
    diff = np.tile([1.0, 2.0, 4.0], (10, 1))
    diff[8:] = [-1.0, -2.0, -3.0]
    section = claims_section(_planted(diff), tmp_path)
    assert [f.path.name for f in section.figures] == ["claims_activity_change.png",
                                                      "claims_covariance_change.png"]
    assert all(f.path.stat().st_size > 5_000 for f in section.figures)
    caption = section.figures[0].caption
    assert "n = 10 networks" in caption
    assert "PMd+M1: 10°: 1, 30°: 2, 60°: 4" in caption  # medians of the planted differences
    assert "H_local larger in 24/30 seed-rotations" in caption
    assert "rising with the rotation in 8/10 seeds, falling in 2/10" in caption
    assert "in 8/10 seeds (as the paper expects)" in section.intro


def test_section_explains_a_metric_that_is_nan_everywhere(tmp_path: Path) -> None:
    claims = _planted(np.tile([1.0, 2.0, 4.0], (10, 1)))
    frozen = {"hypothesis": "input", "area": "M1"}
    claims["weight_change"].loc[frozen] = 0.0
    claims["dw_dimensionality"].loc[frozen] = np.nan
    section = claims_section(claims, tmp_path)
    assert section.notes == ("dw_dimensionality of M1 under H_input is NaN in every seed: no weight of that "
                             "area learns under that hypothesis.",)
    assert claims_section(_planted(np.ones((10, 3))), tmp_path).notes == ()


def test_section_says_when_the_paper_is_not_reproduced(tmp_path: Path) -> None:
    diff = np.tile([-1.0, -2.0, -3.0], (10, 1))
    section = claims_section(_planted(diff), tmp_path)
    assert "in 0/10 seeds (the paper expects H_input to change it less)" in section.intro
    assert "H_local larger in 0/30 seed-rotations" in section.figures[0].caption


@pytest.mark.parametrize(
    ("seeds", "rotations", "match"),
    [
        ([], [30.0], "seeds expected distinct integers, got \\[\\]"),
        ([0, 0], [30.0], "seeds expected distinct integers, got \\[0, 0\\]"),
        ([0], [], "rotations expected distinct finite degrees"),
        ([0], [30.0, float("nan")], "rotations expected distinct finite degrees, got \\[30.0, nan\\]"),
        (["zero"], [30.0], "seeds expected integers and rotations numbers of degrees; invalid literal"),
        ([0], ["thirty"], "seeds expected integers and rotations numbers of degrees; could not convert"),
    ],
)
def test_bad_seeds_or_rotations(seeds: list, rotations: list, match: str) -> None:
    with pytest.raises(NwbMotorValueError, match=match):
        modular_rnn_claims(seeds, rotations, progress=False)


@pytest.mark.parametrize(
    ("preset", "options", "match"),
    [
        ("fast", {}, "preset expected one of \\['default', 'paper'\\], got 'fast'"),
        ("default", {"n_unit": 8}, "unknown option\\(s\\) \\['n_unit'\\]"),
        ("default", {"rotation": 45.0}, "pass the rotations as `rotations`, not as option 'rotation'"),
    ],
)
def test_bad_preset_or_option_fails_before_any_run(preset: str, options: dict, match: str) -> None:
    with pytest.raises(NwbMotorValueError, match=match):
        modular_rnn_claims(range(10), [30.0], preset=preset, workers=2, progress=False, **options)


def test_small_sweep_measures_the_written_files() -> None:
    claims = modular_rnn_claims([3, 1], [30.0, 10.0], progress=False, n_units=8, n_steps=80, n_updates=2,
                                batch=2, n_adapt=1)
    assert claims["seed"].values.tolist() == [3, 1] and claims["rotation"].values.tolist() == [30.0, 10.0]
    assert set(CLAIM_METRICS) <= set(claims.data_vars)
    # H_input leaves M1 alone: no M1 weight changes, in every seed and rotation
    assert float(np.abs(claims["weight_change"].sel(hypothesis="input", area="M1")).max()) == 0.0
    assert bool((claims["weight_change"].sel(hypothesis="local", area="M1") > 0).all())
    # the error reduction is one number for the network, the same for every area
    red = claims["error_reduction"]
    assert bool((red.sel(area="PMd") == red.sel(area="M1")).all())
