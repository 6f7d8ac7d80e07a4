"""map_sessions on a real dask.distributed LocalCluster (worker processes: the views travel pickled)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import xarray as xr

from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.analysis import trial_align
from nwbmotor.testing import write_lab_session
from nwbmotor.views import map_sessions, open_session


def _by_value(func):
    """Send a function of this module to the workers by value: they cannot import the
    test module (the tests run against the installed package, not the checkout), and
    cloudpickle copies functions of ``__main__`` whole."""
    func.__module__ = "__main__"
    return func


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0")
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale")
    return [write_lab_session(folder / f"s{k}.nwb", session_id=f"day0{k + 1}", n_rois=5, n_trials=3, seed=k)
            for k in range(2)]


@_by_value
def mean_response(ds: xr.Dataset) -> xr.DataArray:
    return trial_align(ds, "cue_time", window=(-0.5, 1.0)).mean("trial").rename("response")


@_by_value
def n_rewarded(ds: xr.Dataset) -> xr.DataArray:
    return ds["rewarded"].sum().rename("n_rewarded")


def test_map_sessions_concatenates_along_session(client, sessions):
    actual = map_sessions(mean_response, [s.path for s in sessions], client=client)
    assert actual.dims == ("session", "rel_time", "unit")
    assert actual.session.values.tolist() == ["AP071/day01", "AP071/day02"]
    assert actual.session_id.values.tolist() == ["day01", "day02"]
    for k, truth in enumerate(sessions):
        expected = mean_response(open_session(truth.path))
        np.testing.assert_allclose(actual.isel(session=k).values, expected.values)
    # a scheduler address, as for a real cluster
    counts = map_sessions(n_rewarded, [s.path for s in sessions], client=client.scheduler.address)
    assert counts.values.tolist() == [int(s.trials["rewarded"].sum()) for s in sessions]


def test_a_pickled_view_computes_on_a_worker(client, sessions):
    ds = open_session(sessions[0].path, chunks={})
    future = client.submit(lambda d: float(d["activity"].sum().compute()), ds)
    assert future.result() == pytest.approx(float(sessions[0].dff.sum(dtype=np.float64)), rel=1e-5)


def test_map_sessions_tree_and_partial(client, sessions):
    func = functools.partial(trial_align, events="cue_time", window=(0.0, 0.5))
    tree = map_sessions(func, [s.path for s in sessions], client=client, combine="tree")
    assert isinstance(tree, xr.DataTree)
    assert sorted(tree["AP071"].children) == ["day01", "day02"]


def test_map_sessions_errors(client, sessions, lab):
    paths = [s.path for s in sessions]
    with pytest.raises(NwbMotorTypeError, match=r"func to return an xarray Dataset or DataArray, got int"):
        map_sessions(lambda ds: 3, paths[:1], client=client)
    with pytest.raises(NwbMotorValueError, match=r"no variable 'nope'") as err:
        map_sessions(functools.partial(trial_align, events="nope"), paths[:1], client=client)
    assert any("s0.nwb" in note for note in getattr(err.value, "__notes__", []))
    with pytest.raises(NwbMotorValueError, match=r"cannot be stacked along 'session'.*combine='tree'"):
        map_sessions(mean_response, [paths[1], lab.path], client=client)  # 5 units vs 24, no unit index
    with pytest.raises(NwbMotorTypeError, match=r"client must be a distributed.Client, a scheduler address or None"):
        map_sessions(n_rewarded, paths, client=3)
