"""``nwbmotor demo``: the whole path on the built-in example.

lab files (generated, in the rig's formats) -> SPEC.yaml -> NWB -> inspect -> DANDI
layout + ``dandi validate`` -> both reference models simulated, and the modular network's
claims measured over 10 seeds -> analyses of every session -> report. Each step prints
what it did and how long it took.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nwbmotor._errors import NwbMotorValueError

__all__ = ["run_demo"]

_MARKER = ".nwbmotor-demo"


#: The folders a demo writes; a new run replaces these and leaves anything else in place.
_OUTPUTS = ("lab-files", "nwb", "dandiset", "models", "report")


def _prepare(out: Path) -> None:
    """Make ``out``; a previous demo's outputs there are replaced (files a user added are
    kept), a folder that is not a previous demo is refused."""
    if out.exists():
        if not out.is_dir():
            raise NwbMotorValueError(f"{out}: exists and is not a folder; choose another -o")
        if any(out.iterdir()):
            if not (out / _MARKER).exists():
                raise NwbMotorValueError(
                    f"{out}: folder exists and is not a previous nwbmotor demo; choose another -o or empty it"
                )
            found = [out / name for name in _OUTPUTS if (out / name).exists() or (out / name).is_symlink()]
            for path in found:  # all checked before anything is removed
                if path.is_symlink() or not path.is_dir():
                    raise NwbMotorValueError(
                        f"{path}: expected the demo's folder, got a file or link; move it away and re-run"
                    )
            for path in found:
                shutil.rmtree(path)
    out.mkdir(parents=True, exist_ok=True)
    (out / _MARKER).write_text(
        "made by nwbmotor demo; the next demo run here replaces its folders " + ", ".join(_OUTPUTS) + "\n"
    )


def run_demo(
    output_dir: str | os.PathLike[str] = "nwbmotor-demo",
    *,
    workers: int = 2,
    echo: Callable[[str], Any] = print,
) -> Path:
    """Run the demo and return the path of the report.

    Parameters
    ----------
    output_dir : str or PathLike, default "nwbmotor-demo"
        Made (or, if it holds a previous demo, replaced). Receives ``lab-files/``,
        ``nwb/``, ``dandiset/``, ``models/`` and ``report/``.
    workers : int, default 2
        Sessions converted and analysed in parallel.
    echo : callable
        Where progress lines go.

    Returns
    -------
    Path
        ``<output_dir>/report/report.html``.

    Raises
    ------
    NwbMotorValueError
        If a step's output does not pass its checks (inspection, DANDI validation).
    """
    from nwbmotor.conversion import convert
    from nwbmotor.sharing import inspect_paths, organize
    from nwbmotor.testing._demo import write_demo_dataset
    from nwbmotor.workflows._analyze import analyze
    from nwbmotor.workflows._claims import modular_rnn_claims
    from nwbmotor.workflows._simulate import simulate

    out = Path(output_dir).resolve()
    _prepare(out)
    start = time.perf_counter()

    def step(title: str) -> Callable[[str], None]:
        t0 = time.perf_counter()
        echo(f"==> {title}")
        return lambda done: echo(f"    {done} ({time.perf_counter() - t0:.0f} s)")

    done = step("writing the example lab dataset (2 mice x 4 sessions, rig formats)")
    demo = write_demo_dataset(out / "lab-files")
    done(f"{len(demo.sessions)} sessions and their spec at {demo.spec_path}")

    done = step("converting to NWB")
    result = convert(demo.spec_path, output_dir=out / "nwb", workers=workers, progress=False)
    if not result.ok:
        raise NwbMotorValueError("demo conversion failed:\n" + result.summary())
    done(f"{len(result.paths)} files in {out / 'nwb'}")

    done = step("simulating the reference models")
    (out / "models").mkdir(exist_ok=True)
    models = [
        simulate("gain-modulation", out / "models" / "gain-modulation.nwb", seed=0, progress=False),
        simulate("modular-rnn", out / "models" / "modular-rnn.nwb", seed=0, progress=False),
    ]
    done(", ".join(str(m) for m in models))

    done = step("the modular network's claims over 10 seeds (10, 30 and 60 degree rotations)")
    claims = modular_rnn_claims(range(10), (10.0, 30.0, 60.0), workers=workers, progress=False)
    done(f"{claims.sizes['seed']} networks, {claims.attrs['wall_seconds']:.0f} s of training and measuring")

    done = step("inspecting every file (pynwb validation + nwbinspector, DANDI configuration)")
    reports = inspect_paths([*result.paths, *models])
    bad = [r for r in reports if not r.ok]
    if bad:
        from nwbmotor.sharing._inspect import format_reports

        raise NwbMotorValueError("demo files fail inspection:\n" + format_reports(bad))
    done(f"{len(reports)} files pass")

    done = step("organizing into a dandiset and running dandi validate")
    dandiset = organize([out / "nwb"], out / "dandiset")
    if not dandiset.ok:
        raise NwbMotorValueError("demo dandiset fails dandi validate:\n" + dandiset.summary())
    done(f"{len(dandiset.files)} files in {dandiset.dandiset_dir}, dandi validate OK")

    done = step("analysing every session and writing the report")
    analysis = analyze([out / "nwb", out / "models"], out / "report", workers=workers, progress=False,
                       model_claims=claims)
    done(f"{analysis.report}")

    echo(f"\nDone in {time.perf_counter() - start:.0f} s. Open the report:\n  {analysis.report}")
    return analysis.report
