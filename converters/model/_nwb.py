"""Write a :class:`ModelSession` to NWB and read it back.

Layout (the session views read exactly this; types from ndx-motor-learning)::

    intervals/trials            one row per trial, trials end to end on one time axis:
                                trial k spans [k * n_steps * dt, (k + 1) * n_steps * dt).
                                Columns target_id, target_angle (deg), perturbation (deg),
                                phase, go_time, cue_time (absolute session times, NaN if
                                none), network (name of the snapshot that ran the trial,
                                "" if none), and any extra per-trial columns of the session.
    processing/model/
        units          ModelUnitsTable   module, cell_type (E/I/unknown), gain_group
        rates          ModelRateSeries   data (time, unit); ``units`` -> rows of ``units``
        outputs        TimeSeries        (time, output)
        targets        TimeSeries        (time, output)   if the session has targets
        inputs         TimeSeries        (time, input)    if the session has inputs
        networks       NetworkSnapshots  attrs model, seed; one RecurrentNetwork per phase
                                         (named by phase): attrs phase, tau, dt,
                                         nonlinearity, nonlinearity_params (JSON), noise_std;
                                         NetworkWeights datasets (n_post, n_pre) with attrs
                                         post, pre; NetworkBias datasets with attr endpoint;
                                         gains, gain_groups, initial_state
        training_log   TrainingLog       iteration, loss, phase, learning parameters

Every series starts at 0 s with ``rate = 1 / dt``. The session's ``name`` is the file's
``session_id``, its ``description`` the ``session_description``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.models import ModelSession, NetworkSnapshot

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = [
    "MODULE_NAME",
    "add_model_session",
    "model_metadata",
    "model_session_to_nwbfile",
    "read_model_session",
    "write_model_session",
]

MODULE_NAME = "model"

_TRIAL_DOCS = {
    "target_id": "Condition: index of the movement target (0-based).",
    "target_angle": "Direction of the target, in degrees.",
    "perturbation": "Visuomotor rotation applied to the output, in degrees (0 for none).",
    "phase": "Phase of the simulation (e.g. 'before', 'training', 'adaptation', 'after').",
    "go_time": "Go cue, in s (session clock); NaN if the trial has none.",
    "cue_time": "Target cue onset, in s (session clock); NaN if the trial has none.",
    "network": "Name of the network snapshot (processing/model/networks) that ran the trial; '' if none.",
}


def model_metadata(
    session: ModelSession,
    *,
    species: str = "Mus musculus",
    session_start_time: _dt.datetime | None = None,
) -> dict[str, Any]:
    """NeuroConv-style metadata for a simulated session that passes the DANDI checks.

    A model has no animal. DANDI still requires a subject with an id, a species, a sex
    and an age, so the subject is the model itself: ``subject_id`` is the model name,
    ``species`` the animal whose cortex the model stands for in nwbmotor's comparisons
    (default ``"Mus musculus"``, the species of the lab data; pass ``"Macaca mulatta"``
    for the papers' monkey data), ``sex`` ``"U"`` (unknown), ``age`` ``"P0D"`` with a
    description stating that the subject is a simulated network, not an animal.

    Parameters
    ----------
    session : ModelSession
    species : str, default "Mus musculus"
    session_start_time : datetime, optional
        Defaults to now (UTC, whole seconds).

    Returns
    -------
    dict
        ``{"NWBFile": {...}, "Subject": {...}}``.

    Examples
    --------
    >>> from nwbmotor.testing import mock_model_session
    >>> model_metadata(mock_model_session())["Subject"]["sex"]
    'U'
    """
    start = session_start_time or _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    seed = "" if session.seed is None else f" (seed {session.seed})"
    return {
        "NWBFile": {
            "session_description": session.description,
            "identifier": str(uuid.uuid4()),
            "session_start_time": start,
            "session_id": session.name,
            "lab": "nwbmotor simulations",
            "institution": "nwbmotor",
            "experiment_description": f"Simulation of the '{session.model}' network model{seed} by nwbmotor.",
            "keywords": ["network model", "simulation", "motor learning", session.model],
            "source_script": "nwbmotor.models",
            "source_script_file_name": "nwbmotor/workflows/_simulate.py",
        },
        "Subject": {
            "subject_id": session.model,
            "species": species,
            "sex": "U",
            "age": "P0D",
            "description": (
                f"Not an animal: a simulated recurrent network ('{session.model}'{seed}) standing for "
                f"{species} motor cortex. Sex and age do not apply."
            ),
        },
    }


def model_session_to_nwbfile(session: ModelSession, **metadata_options: Any) -> NWBFile:
    """A new in-memory NWBFile holding ``session`` (metadata from :func:`model_metadata`)."""
    from pynwb import NWBFile
    from pynwb.file import Subject

    meta = model_metadata(session, **metadata_options)
    nwbfile = NWBFile(**meta["NWBFile"])
    nwbfile.subject = Subject(**meta["Subject"])
    add_model_session(nwbfile, session)
    return nwbfile


def write_model_session(
    session: ModelSession,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    **metadata_options: Any,
) -> Path:
    """Write ``session`` to a new NWB file, atomically.

    Parameters
    ----------
    session : ModelSession
    path : str or PathLike
        Output ``.nwb`` file; an existing file is an error unless ``overwrite``.
    overwrite : bool, default False
    **metadata_options
        Passed to :func:`model_metadata` (``species``, ``session_start_time``).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbmotor.testing import mock_model_session
    >>> out = write_model_session(mock_model_session(), pathlib.Path(tempfile.mkdtemp()) / "m.nwb")
    >>> read_model_session(out).n_units
    6
    """
    from nwbmotor._write import write_nwbfile

    return write_nwbfile(model_session_to_nwbfile(session, **metadata_options), path, overwrite=overwrite)


def add_model_session(nwbfile: NWBFile, session: ModelSession) -> None:
    """Add the trials and the ``processing/model`` module of ``session`` to ``nwbfile``."""
    from hdmf.common import DynamicTableRegion, VectorData
    from pynwb import TimeSeries

    from nwbmotor import extensions as ext

    if MODULE_NAME in nwbfile.processing:
        raise NwbMotorValueError(
            f"NWB file {nwbfile.identifier}: processing module {MODULE_NAME!r} exists already; "
            "one file holds one model session"
        )
    _add_trials(nwbfile, session)
    module = nwbfile.create_processing_module(
        name=MODULE_NAME, description=f"Simulated network model '{session.model}': {session.description}"
    )
    u = session.units
    columns = [
        VectorData(name="module", description="Module or region of the unit.", data=u["module"].tolist()),
        VectorData(name="cell_type", description="'E', 'I' or 'unknown'.", data=u["cell_type"].tolist()),
        VectorData(name="gain_group", description="Modulatory gain group, -1 for none.", data=u["gain_group"]),
    ]
    for key, values in u.items():
        if key not in ("module", "cell_type", "gain_group"):
            data = values.tolist() if values.dtype.kind in "US" else values
            columns.append(VectorData(name=key, description=f"Per-unit {key}.", data=data))
    units = ext.ModelUnitsTable(
        name="units", description=f"Units of the '{session.model}' network.", columns=columns,
        id=np.arange(session.n_units),
    )
    module.add(units)
    rate = 1.0 / session.dt
    region = DynamicTableRegion(
        name="units", data=np.arange(session.n_units), description="Row of 'units' of each column.", table=units
    )
    module.add(
        ext.ModelRateSeries(
            name="rates",
            description="Rates r = f(x) of the network's units, trials end to end.",
            data=session.rates.reshape(-1, session.n_units),
            unit=session.rate_unit,
            rate=rate,
            starting_time=0.0,
            units=region,
        )
    )
    series = [("outputs", session.outputs, session.output_unit, "Network output (readout), trials end to end.")]
    if session.targets is not None:
        series.append(("targets", session.targets, session.output_unit, "Target of the network output."))
    if session.inputs is not None:
        series.append(("inputs", session.inputs, session.input_unit, "Inputs to the network."))
    for name, arr, unit, doc in series:
        module.add(TimeSeries(name=name, description=doc, data=arr.reshape(-1, arr.shape[2]), unit=unit, rate=rate,
                              starting_time=0.0))
    snapshots = ext.NetworkSnapshots(name="networks", model=session.model,
                                     **({} if session.seed is None else {"seed": np.int64(session.seed)}))
    for order, snap in enumerate(session.networks):
        snapshots.add_recurrent_networks(_snapshot_to_nwb(snap, order))
    module.add(snapshots)
    if session.training_log is not None:
        module.add(_log_to_nwb(session))


def _snapshot_to_nwb(snap: NetworkSnapshot, order: int) -> Any:
    from nwbmotor import extensions as ext

    optional = {
        key: getattr(snap, key)
        for key in ("gains", "gain_groups", "initial_state")
        if getattr(snap, key) is not None
    }
    return ext.RecurrentNetwork(
        name=snap.phase,
        phase=snap.phase,
        tau=snap.tau,
        dt=snap.dt,
        nonlinearity=snap.nonlinearity,
        nonlinearity_params=json.dumps(_with_integration(snap), sort_keys=True),
        noise_std=snap.noise_std,
        order=np.int64(order),
        network_weights=[
            ext.NetworkWeights(name=name, data=w, post=snap.connections[name][0], pre=snap.connections[name][1])
            for name, w in snap.weights.items()
        ],
        network_bias=[ext.NetworkBias(name=f"bias_{name.replace(':', '_')}", data=b, endpoint=name)
                      for name, b in snap.biases.items()],
        **optional,
    )


def _log_to_nwb(session: ModelSession) -> Any:
    from hdmf.common import VectorData

    from nwbmotor import extensions as ext

    log = session.training_log
    assert log is not None
    docs = {"iteration": "Iteration (update) number.", "loss": "Loss or error at this iteration.",
            "phase": "Training phase."}
    columns = []
    for key, values in log.items():
        data = values.tolist() if values.dtype.kind in "US" else values
        columns.append(VectorData(name=key, description=docs.get(key, f"Learning parameter '{key}'."), data=data))
    return ext.TrainingLog(name="training_log", description=f"Training history of the '{session.model}' network.",
                           columns=columns, id=np.arange(len(log["iteration"])))


def _add_trials(nwbfile: NWBFile, session: ModelSession) -> None:
    trials = dict(session.trials)
    trials.setdefault("network", np.full(session.n_trials, "", dtype=object))
    duration = session.trial_duration
    start = np.arange(session.n_trials) * duration
    for key in trials:
        nwbfile.add_trial_column(name=key, description=_TRIAL_DOCS.get(key, f"Per-trial {key}."))
    rows = {k: (v.tolist() if np.asarray(v).dtype.kind in "USO" else v) for k, v in trials.items()}
    for k in range(session.n_trials):
        row = {key: values[k] for key, values in rows.items()}
        for key in ("go_time", "cue_time"):
            row[key] = float(row[key]) + start[k]
        nwbfile.add_trial(start_time=float(start[k]), stop_time=float(start[k] + duration), **row)


def _as_str(values: Any) -> np.ndarray:
    return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in values], dtype=str)


def read_model_session(path: str | os.PathLike[str]) -> ModelSession:
    """Read a model session written by :func:`write_model_session`.

    Parameters
    ----------
    path : str or PathLike
        An NWB file with a ``processing/model`` module.

    Returns
    -------
    ModelSession
        Equal to the session written (arrays compare equal).

    Raises
    ------
    NwbMotorValueError
        If the file has no model session.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbmotor.testing import mock_model_session
    >>> out = write_model_session(mock_model_session(), pathlib.Path(tempfile.mkdtemp()) / "m.nwb")
    >>> read_model_session(out).networks[0].phase
    'before'
    """
    from pynwb import NWBHDF5IO

    import nwbmotor.extensions  # noqa: F401 - registers the namespace

    path = Path(path)
    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such file; expected an NWB file written by nwbmotor.models")
    with NWBHDF5IO(str(path), mode="r", load_namespaces=True) as io:
        nwbfile = io.read()
        if MODULE_NAME not in nwbfile.processing:
            raise NwbMotorValueError(
                f"{path}: expected a processing module {MODULE_NAME!r} holding a model session, "
                f"got modules {sorted(nwbfile.processing)}"
            )
        module = nwbfile.processing[MODULE_NAME]
        rates_ts = module["rates"]
        dt = 1.0 / float(rates_ts.rate)
        units_df = module["units"]
        units = {}
        for col in units_df.colnames:
            values = np.asarray(units_df[col].data[:])
            units[col] = _as_str(values) if values.dtype.kind in "OSU" else values
        trials_table = nwbfile.trials
        n_trials = len(trials_table)
        rates = np.asarray(rates_ts.data[:])
        n_steps = rates.shape[0] // n_trials
        n_units = rates.shape[1]

        def per_trial(arr: np.ndarray) -> np.ndarray:
            return arr.reshape(n_trials, n_steps, arr.shape[1])

        starts = np.asarray(trials_table["start_time"].data[:], dtype=float)
        trials: dict[str, np.ndarray] = {}
        for col in trials_table.colnames:
            if col in ("start_time", "stop_time"):
                continue
            values = np.asarray(trials_table[col].data[:])
            if values.dtype.kind in "OSU":
                values = _as_str(values)
            if col in ("go_time", "cue_time"):
                values = values.astype(float) - starts
            trials[col] = values
        if "network" in trials and not any(trials["network"]):
            del trials["network"]
        names = module.data_interfaces
        optional = {key: (per_trial(np.asarray(names[key].data[:])) if key in names else None)
                    for key in ("targets", "inputs")}
        snapshots = names["networks"]
        stored = sorted(snapshots.recurrent_networks.values(), key=lambda net: (net.order is None, net.order or 0))
        networks = [_snapshot_from_nwb(net) for net in stored]
        log = None
        if "training_log" in names:
            table = names["training_log"]
            log = {}
            for col in table.colnames:
                values = np.asarray(table[col].data[:])
                log[col] = _as_str(values) if values.dtype.kind in "OSU" else values
        seed = getattr(snapshots, "seed", None)
        return ModelSession(
            name=nwbfile.session_id or path.stem,
            description=nwbfile.session_description,
            dt=dt,
            model=snapshots.model,
            seed=None if seed is None else int(seed),
            units=units,
            rates=per_trial(rates).reshape(n_trials, n_steps, n_units),
            outputs=per_trial(np.asarray(names["outputs"].data[:])),
            targets=optional["targets"],
            inputs=optional["inputs"],
            trials=trials,
            networks=networks,
            training_log=log,
            rate_unit=rates_ts.unit,
            output_unit=names["outputs"].unit,
            input_unit=names["inputs"].unit if "inputs" in names else "a.u.",
        )


#: Key of the integration scheme inside the stored ``nonlinearity_params`` JSON (written only
#: when it is not the default forward Euler, one step per sample).
_INTEGRATION_KEY = "integration"


def _with_integration(snap: NetworkSnapshot) -> dict[str, Any]:
    params: dict[str, Any] = dict(snap.nonlinearity_params)
    if (snap.integrator, snap.substeps) != ("euler", 1):
        params[_INTEGRATION_KEY] = {"integrator": snap.integrator, "substeps": snap.substeps}
    return params


def _snapshot_from_nwb(net: Any) -> NetworkSnapshot:
    weights = {name: np.asarray(w.data[:]) for name, w in net.network_weights.items()}
    connections = {name: (str(w.post), str(w.pre)) for name, w in net.network_weights.items()}
    biases = {str(b.endpoint): np.asarray(b.data[:]) for b in net.network_bias.values()}
    optional = {key: (None if getattr(net, key) is None else np.asarray(getattr(net, key)[:]))
                for key in ("gains", "gain_groups", "initial_state")}
    params = json.loads(net.nonlinearity_params)
    integration = params.pop(_INTEGRATION_KEY, {})
    return NetworkSnapshot(
        phase=str(net.phase),
        tau=float(net.tau),
        dt=float(net.dt),
        nonlinearity=str(net.nonlinearity),
        nonlinearity_params=params,
        integrator=str(integration.get("integrator", "euler")),
        substeps=int(integration.get("substeps", 1)),
        weights=weights,
        biases=biases,
        noise_std=float(net.noise_std),
        connections=connections,
        **optional,
    )

