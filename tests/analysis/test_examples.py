"""The docstring examples of the analyses run and give what they say; the accessor forwards."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
import xarray as xr

from nwbmotor.analysis import classify_movement_related
from nwbmotor.testing import planted_session

MODULES = [
    "nwbmotor.methods._dff",
    "nwbmotor.analysis._dff",
    "nwbmotor.analysis._events",
    "nwbmotor.analysis._movement_related",
    "nwbmotor.analysis._population",
    "nwbmotor.analysis._premovement",
    "nwbmotor.analysis._lever",
    "nwbmotor.analysis._behavior",
    "nwbmotor.analysis._spatial",
    "nwbmotor.analysis._opto",
    "nwbmotor.testing._planted",
    "nwbmotor.analysis._stats",
    "nwbmotor.analysis._ei",
    "nwbmotor.analysis._spines",
    "nwbmotor.analysis._template",
    "nwbmotor.analysis._inputs",
    "nwbmotor.analysis._opto_learning",
    "nwbmotor.testing._planted_inputs",
    "nwbmotor.views._spines",
]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_accessor_forwards_to_the_function() -> None:
    ds, _ = planted_session(n_cells=6, n_frames=2000, seed=0)
    expected = classify_movement_related(ds, n_shuffles=200)
    actual = ds.motor.classify_movement_related(n_shuffles=200)
    xr.testing.assert_identical(actual, expected)


def test_unlabelled_cells_count_as_excitatory() -> None:
    ds, truth = planted_session(n_cells=20, n_frames=3000, seed=0, fraction_inhibitory=0.0)
    unlabelled = ds.assign_coords(cell_type=("unit", np.full(20, "unknown")))
    res = classify_movement_related(unlabelled, n_shuffles=500)
    assert res.tested.values.all()
    strict = classify_movement_related(unlabelled, n_shuffles=500, cell_types=("excitatory",))
    assert not strict.tested.values.any() and np.isnan(strict.p_value.values).all()
    assert "not tested" in strict.attrs["nan_reason"]
