"""Reader of the Dispatcher (BControl) task file ``data_@<protocol>_<exp>_<animal>_<date>.mat``.

Times are on the Dispatcher clock. MATLAB class objects (``StateMachineAssembler``)
that scipy cannot decode are skipped and listed, never an error.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = ["DISPATCHER_PATTERN", "DispatcherSession", "read_dispatcher_file"]

DISPATCHER_PATTERN = re.compile(r"^data_@(?P<protocol>[^_]+)_(?P<experimenter>[^_]+)_(?P<animal>[^_]+)_(?P<date>[^_.]+)\.mat$")
_VARIABLES = ("saved", "saved_autoset", "saved_history")


@dataclasses.dataclass
class DispatcherSession:
    """What a Dispatcher file says about a session.

    Attributes
    ----------
    path : Path
    protocol : str or None
        From the file name, e.g. ``lever2p``.
    states : list of dict of str to ndarray
        Per trial, each state's ``(n, 2)`` array of [start, stop] rows (Dispatcher
        clock, s); ``(0, 2)`` when the state did not occur.
    pokes : list of dict of str to ndarray
    catch : ndarray of bool or None
        ``saved_history.CatchSection_catch_trial`` per trial, when present.
    saved, saved_autoset : dict
        Scalars and strings of the structs (objects and arrays left out).
    skipped : list of str
        Where undecodable MATLAB objects were found and skipped.
    """

    path: Path
    protocol: str | None
    states: list[dict[str, np.ndarray]]
    pokes: list[dict[str, np.ndarray]]
    catch: np.ndarray | None
    saved: dict[str, Any]
    saved_autoset: dict[str, Any]
    skipped: list[str]

    @property
    def n_trials(self) -> int:
        return len(self.states)

    def state_times(self, state: str, row: int = 0, column: int = 0) -> np.ndarray:
        """Per trial, ``states.<state>(row + 1, column + 1)``; NaN where absent."""
        out = np.full(self.n_trials, np.nan)
        for i, st in enumerate(self.states):
            a = st.get(state)
            if a is not None and a.shape[0] > row:
                out[i] = a[row, column]
        return out

    def trial_numbers(self) -> np.ndarray:
        return np.arange(1, self.n_trials + 1, dtype=np.int64)


def _is_object(value: Any) -> bool:
    from scipy.io.matlab import MatlabFunction, MatlabObject, MatlabOpaque

    return isinstance(value, (MatlabOpaque, MatlabObject, MatlabFunction))


def _fields(struct: Any) -> dict[str, Any]:
    from scipy.io.matlab import mat_struct

    if isinstance(struct, mat_struct):
        return {k: getattr(struct, k) for k in struct._fieldnames}
    if isinstance(struct, dict):
        return dict(struct)
    raise TypeError(type(struct).__name__)


def _scalars(struct: Any, where: str, skipped: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in _fields(struct).items():
        if _is_object(v):
            skipped.append(f"{where}.{k}")
        elif isinstance(v, str):
            out[k] = v
        elif isinstance(v, (int, float, np.number)) or (isinstance(v, np.ndarray) and v.size == 1 and v.dtype.kind in "biuf"):
            out[k] = float(np.asarray(v).item())
    return out


def _as_rows(value: Any, where: str) -> np.ndarray:
    a = np.asarray(value)
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise NwbMotorValueError(f"{where} has dtype {a.dtype}; expected an n x 2 array of [start stop] times")
    if a.size == 0:
        return np.zeros((0, 2))
    if a.ndim == 1 and a.size == 2:
        return a.astype(np.float64).reshape(1, 2)
    if a.ndim == 2 and a.shape[1] == 2:
        return a.astype(np.float64)
    raise NwbMotorValueError(f"{where} has shape {a.shape}; expected an n x 2 array of [start stop] times")


def _trial_list(value: Any) -> list[Any]:
    if isinstance(value, np.ndarray) and value.dtype == object:
        return list(value.ravel())
    return [value]  # squeeze_me turns a one-trial cell into the struct itself


def read_dispatcher_file(file_path: str | os.PathLike[str]) -> DispatcherSession:
    """Read the trials of a Dispatcher file.

    Parameters
    ----------
    file_path : path
        ``data_@lever2p_<experimenter>_<animal>_<date>.mat`` (MATLAB v5).

    Returns
    -------
    DispatcherSession

    Raises
    ------
    NwbMotorValueError
        Not a MATLAB v5 file (a v7.3 file names the fix), no
        ``saved_history.ProtocolsSection_parsed_events``, a trial without ``states``
        or ``states.bitcode``, a state that is not an n x 2 array.

    Examples
    --------
    >>> import tempfile
    >>> from nwbmotor.testing import write_rig_session
    >>> truth = write_rig_session(tempfile.mkdtemp(), n_trials=3)
    >>> read_dispatcher_file(truth.dispatcher_path).n_trials
    3
    """
    import scipy.io

    path = Path(file_path)
    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such file; expected a Dispatcher data_@<protocol>_...mat file")
    with open(path, "rb") as f:
        head = f.read(128)
    if head.startswith(b"\x89HDF") or b"MATLAB 7.3" in head:
        raise NwbMotorValueError(
            f"{path}: a MATLAB v7.3 (HDF5) file; expected MATLAB v5. Re-save it in MATLAB with "
            "save(name, '-struct', ..., '-v7')"
        )
    try:
        mat = scipy.io.loadmat(
            path, squeeze_me=True, struct_as_record=False, variable_names=list(_VARIABLES), appendmat=False
        )
    except Exception as exc:  # noqa: BLE001 - scipy raises many kinds on a malformed file
        raise NwbMotorValueError(f"{path}: cannot be read as a MATLAB v5 file ({type(exc).__name__}: {exc})") from None
    skipped: list[str] = []
    if "saved_history" not in mat:
        raise NwbMotorValueError(
            f"{path}: variable 'saved_history' is missing (found {sorted(k for k in mat if not k.startswith('__'))}); "
            "expected a Dispatcher data file"
        )
    history = _fields(mat["saved_history"])
    if "ProtocolsSection_parsed_events" not in history:
        raise NwbMotorValueError(
            f"{path}: field saved_history.ProtocolsSection_parsed_events is missing; expected the parsed "
            "events of every trial"
        )
    states, pokes = [], []
    for i, trial in enumerate(_trial_list(history["ProtocolsSection_parsed_events"])):
        where = f"{path}: saved_history.ProtocolsSection_parsed_events{{{i + 1}}}"
        try:
            fields = _fields(trial)
        except TypeError:
            raise NwbMotorValueError(f"{where} is a {type(trial).__name__}; expected a struct with states and pokes") from None
        if "states" not in fields:
            raise NwbMotorValueError(f"{where}.states is missing; expected a struct of n x 2 state arrays")
        st = {}
        for name, v in _fields(fields["states"]).items():
            if _is_object(v):
                skipped.append(f"{where}.states.{name}")
                continue
            st[name] = _as_rows(v, f"{where}.states.{name}")
        if "bitcode" not in st:
            raise NwbMotorValueError(f"{where}.states.bitcode is missing; expected the trial's bitcode state")
        states.append(st)
        pk = {}
        if "pokes" in fields:
            for name, v in _fields(fields["pokes"]).items():
                if not _is_object(v):
                    pk[name] = _as_rows(v, f"{where}.pokes.{name}")
        pokes.append(pk)
    catch = None
    if "CatchSection_catch_trial" in history:
        raw = history["CatchSection_catch_trial"]
        values = _trial_list(raw) if isinstance(raw, np.ndarray) and raw.dtype == object else np.atleast_1d(raw).tolist()
        try:
            catch = np.array([bool(np.asarray(v).item()) if np.size(v) == 1 else False for v in values], dtype=bool)
        except (TypeError, ValueError):
            raise NwbMotorValueError(f"{path}: saved_history.CatchSection_catch_trial holds non-numeric values; expected 0/1 per trial") from None
    for k, v in history.items():
        in_cells = isinstance(v, np.ndarray) and v.dtype == object and any(_is_object(x) for x in v.ravel())
        if in_cells or _is_object(v):
            skipped.append(f"saved_history.{k}")
    saved = _scalars(mat["saved"], "saved", skipped) if "saved" in mat else {}
    autoset = _scalars(mat["saved_autoset"], "saved_autoset", skipped) if "saved_autoset" in mat else {}
    m = DISPATCHER_PATTERN.match(path.name)
    return DispatcherSession(path, m["protocol"] if m else None, states, pokes, catch, saved, autoset, skipped)
