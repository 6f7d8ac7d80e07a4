"""Run a named model and write its session to NWB; re-run a stored session.

``simulate("gain-modulation", "out.nwb", seed=0)`` builds the :class:`ModelSession` of
the model and writes it with :func:`nwbmotor.converters.model.write_model_session` (atomic, DANDI
metadata: see :func:`nwbmotor.converters.model.model_metadata`). :func:`resimulate` integrates
the stored networks again from a session (e.g. one read back from a file), so that a
file can be checked to hold everything needed to reproduce its outputs.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nwbmotor._errors import NwbMotorValueError
from nwbmotor._safe_yaml import clip
from nwbmotor.models import get_model_runner

__all__ = ["simulate"]

def _tqdm_progress() -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    from tqdm.auto import tqdm

    state: dict[str, Any] = {"bar": None, "stage": None}

    def update(stage: str, done: int, total: int) -> None:
        if stage != state["stage"]:
            if state["bar"] is not None:
                state["bar"].close()
            state["bar"] = tqdm(total=total or None, desc=stage, unit="step")
            state["stage"] = stage
        bar = state["bar"]
        bar.update(done - bar.n)

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].close()

    return update, close


def _option_problem(key: str, value: Any, default: Any) -> str | None:
    """What a model option should be, judged from its default, or None if ``value`` fits."""
    import math

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    if default is inspect.Parameter.empty or key == "progress":
        return None
    if isinstance(default, bool):
        return None if isinstance(value, bool) else f"true or false, got {type(value).__name__}"
    if isinstance(default, str):
        return None if isinstance(value, str) else f"a string, got {type(value).__name__}"
    if isinstance(default, int) or (default is None and key.startswith("n_")):
        if not isinstance(value, int) or isinstance(value, bool):
            return f"an integer, got {type(value).__name__}"
        if key.startswith("n_") and value < 1:
            return "an integer >= 1"
        return None
    if isinstance(default, float):
        if not number(value):
            return f"a finite number, got {type(value).__name__}"
        if key.endswith("_std") and value < 0:
            return "a number >= 0"
        if default > 0 and not key.endswith("_std") and value <= 0:
            return "a number > 0"
        return None
    if isinstance(default, tuple):
        if not (isinstance(value, (list, tuple)) and len(value) == len(default) and all(map(number, value))):
            return f"a list of {len(default)} numbers, e.g. {list(default)}"
    return None


def simulate(
    model: str,
    output: str | os.PathLike[str],
    *,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool | Callable[[str, int, int], Any] = False,
    species: str = "Mus musculus",
    **model_options: Any,
) -> Path:
    """Simulate a reference model and write the session to an NWB file.

    Parameters
    ----------
    model : {"gain-modulation", "modular-rnn"}
    output : str or PathLike
        The ``.nwb`` file to write (atomically).
    seed : int, default 0
        Seeds the whole run: the same seed gives the same session.
    overwrite : bool, default False
        Replace an existing ``output``; otherwise it is an error, raised before the
        simulation starts.
    progress : bool or callable, default False
        True shows tqdm bars; a callable gets ``(stage, done, total)``.
    species : str, default "Mus musculus"
        Species the simulated network stands for (see ``model_metadata``).
    **model_options
        Keyword options of the model's runner (e.g. ``n_iterations=5000`` for
        ``run_gain_modulation``). For "gain-modulation", ``network`` may be the path of a
        Stroud-layout MAT-file (flat or struct-wrapped, e.g. the authors' ``data.mat``):
        the study then runs on that network.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    NwbMotorValueError
        Unknown model or option, or ``output`` exists without ``overwrite``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "gm.nwb"
    >>> simulate("gain-modulation", out, n_exc=10, n_inh=10, n_iterations=10, n_primitives=1, radius=3.0)
    PosixPath('...gm.nwb')
    """
    from nwbmotor.converters.model import write_model_session

    output = Path(output)
    if not output.parent.is_dir():
        raise NwbMotorValueError(
            f"{output}: the folder {output.parent} does not exist; expected an existing folder (create it first)"
        )
    if output.exists() and not overwrite:
        raise NwbMotorValueError(f"{output}: the output exists; pass overwrite=True (--overwrite) to replace it")
    if os.path.lexists(output) and overwrite:
        from nwbmotor._write import finished_nwb_problem

        problem = finished_nwb_problem(output)
        if problem is not None:  # found before the simulation runs, not after
            raise NwbMotorValueError(
                f"{output}: exists and is not a finished file nwbmotor wrote ({problem}); it is left alone: "
                "move it away, then rerun"
            )
    runner = get_model_runner(model)
    network = model_options.get("network")
    if isinstance(network, (str, os.PathLike)):
        if model != "gain-modulation":
            raise NwbMotorValueError(f"simulate: a network file is read for model 'gain-modulation' only, got {model!r}")
        from nwbmotor.converters.model import read_stroud_network

        arrays = read_stroud_network(Path(network))
        arrays.pop("gains", None)
        model_options["network"] = arrays
    params = inspect.signature(runner).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = sorted(k for k in model_options if k not in params and not accepts_any)
    if unknown:
        options = sorted(k for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY and k != "progress")
        raise NwbMotorValueError(f"simulate: model {model!r} has no option(s) {unknown}; expected among {options}")
    for key, value in model_options.items():
        problem = _option_problem(key, value, params[key].default if key in params else inspect.Parameter.empty)
        if problem is not None:
            raise NwbMotorValueError(f"simulate: option {key}={clip(value)}: expected {problem}")
    close: Callable[[], None] = lambda: None  # noqa: E731
    declared = params.get("progress")
    if declared is not None and isinstance(declared.default, bool):  # the runner shows its own progress
        model_options["progress"] = bool(progress)
    elif progress is True:
        callback, close = _tqdm_progress()
        model_options["progress"] = callback
    elif callable(progress):
        model_options["progress"] = progress
    if "progress" in model_options and "progress" not in params and not accepts_any:
        del model_options["progress"]
    try:
        session = runner(seed=seed, **model_options)
    finally:
        close()
    return write_model_session(session, output, overwrite=overwrite, species=species)
