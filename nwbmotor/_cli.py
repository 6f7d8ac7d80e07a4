"""The ``nwbmotor`` command: a thin layer that parses arguments and calls public functions.

Every command is usable from Python too; the CLI only turns ``NwbMotorError`` into one
line on stderr and exit code 2, and findings into exit code 1.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import click

from nwbmotor._errors import NwbMotorError

__all__ = ["main"]


def _clean_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Print an error as one line and exit 2, instead of a traceback.

    An NwbMotorError is printed as it is (a spec with several problems lists one per
    line under its first line). Any other exception is a bug or an environment
    failure: it is printed on one line too, naming its type; NWBMOTOR_DEBUG=1 shows
    the traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import os

        try:
            return func(*args, **kwargs)
        except NwbMotorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("NWBMOTOR_DEBUG"):
                raise
            from nwbmotor._safe_yaml import shorten

            click.echo(f"error: unexpected {type(exc).__name__}: {shorten(str(exc))} "
                       "(set NWBMOTOR_DEBUG=1 for the traceback)", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nwbmotor")
def main() -> None:
    """NWB for motor-learning neuroscience: convert, check, share, simulate, analyse."""


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--output-dir", "-o", type=click.Path(path_type=Path), default=Path("nwb"), show_default=True,
              help="Folder for the NWB files (sub-<subject>/sub-<subject>_ses-<session>.nwb).")
@click.option("--backend", type=click.Choice(["hdf5", "zarr"]), default="hdf5", show_default=True)
@click.option("--workers", type=int, default=1, show_default=True, help="Sessions converted in parallel.")
@click.option("--scheduler", default=None, help="Address of an existing dask scheduler.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files (only files nwbmotor wrote).")
@click.option("--check", "check_only", is_flag=True,
              help="Check the spec, every source's presence and the output folder; write nothing.")
@_clean_errors
def convert(spec: Path, output_dir: Path, backend: Literal["hdf5", "zarr"], workers: int, scheduler: str | None, overwrite: bool,
            check_only: bool) -> None:
    """Convert the sessions described by SPEC (a YAML file) into NWB files.

    Exits 2 if the spec is wrong or any session failed (each failure on one line).
    """
    from nwbmotor.conversion import check_spec
    from nwbmotor.conversion import convert as run

    if workers < 1:
        raise NwbMotorError(f"--workers: expected at least 1, got {workers}")
    if check_only:
        click.echo(check_spec(spec, output_dir=output_dir, backend=backend))
        return
    result = run(spec, output_dir=output_dir, backend=backend, workers=workers, scheduler=scheduler,
                 overwrite=overwrite)
    click.echo(result.summary())
    if not result.ok:
        failed = [o for o in result.outcomes if o.status == "failed"]
        click.echo(f"error: {len(failed)} of {len(result.outcomes)} session(s) failed; the first: {failed[0].message}",
                   err=True)
        sys.exit(2)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@_clean_errors
def inspect(paths: tuple[Path, ...], as_json: bool) -> None:
    """Validate NWB files (pynwb) and check them with nwbinspector's DANDI configuration.

    Exits 1 if any file has a validation error, a CRITICAL or BEST_PRACTICE_VIOLATION
    finding, cannot be read, or lacks the cached spec of a namespace it uses.
    """
    from nwbmotor.sharing._inspect import format_reports, inspect_paths

    reports = inspect_paths(paths)
    if not reports:
        raise click.UsageError(f"no NWB files found in {', '.join(map(str, paths))}")
    click.echo(format_reports(reports, as_json=as_json))
    if not all(r.ok for r in reports):
        sys.exit(1)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dandiset-dir", "-d", required=True, type=click.Path(path_type=Path),
              help="The dandiset folder (made with a dandiset.yaml if new; never clobbered).")
@click.option("--mode", type=click.Choice(["copy", "move", "hardlink", "symlink"]), default="copy",
              show_default=True, help="How files get into the dandiset.")
@click.option("--name", default=None, help="Name of a new dandiset.")
@click.option("--description", default=None, help="Description of a new dandiset.")
@_clean_errors
def organize(paths: tuple[Path, ...], dandiset_dir: Path, mode: Literal["copy", "move", "hardlink", "symlink"], name: str | None,
             description: str | None) -> None:
    """Organize NWB files into a DANDI dandiset (layout + dandiset.yaml) and validate it.

    Sessions can be added one at a time; files already there are left as they are.
    Exits 2 if an input file was refused, 1 if dandi validate reports an error.
    """
    from nwbmotor.sharing import organize as run

    result = run(paths, dandiset_dir, mode=mode, name=name, description=description)
    click.echo(result.summary())
    if result.refused:
        click.echo(f"error: {len(result.refused)} file(s) refused; the first: {result.refused[0]}", err=True)
        sys.exit(2)
    if not result.ok:
        sys.exit(1)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--output-dir", "-o", required=True, type=click.Path(path_type=Path),
              help="Folder for report.html, figures, CSV and NetCDF.")
@click.option("--workers", type=int, default=1, show_default=True, help="Sessions analysed in parallel.")
@click.option("--shuffles", type=int, default=10_000, show_default=True,
              help="Shuffles of the movement-related classification.")
@_clean_errors
def analyze(paths: tuple[Path, ...], output_dir: Path, workers: int, shuffles: int) -> None:
    """Run the standard analyses on lab and model sessions; write figures, report and tables."""
    from nwbmotor.workflows import analyze as run

    result = run(paths, output_dir, workers=workers, n_shuffles=shuffles)
    click.echo(f"report: {result.report}")


def _parse_model_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs, values parsed as YAML scalars (numbers, booleans, strings)."""
    from nwbmotor._safe_yaml import clip, load_yaml_text

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise NwbMotorError(f"--option {clip(pair)}: expected KEY=VALUE, e.g. n_iterations=5000")
        options[key.strip().replace("-", "_")] = load_yaml_text(value, source=f"--option {key.strip()}")
    return options


@main.command()
@click.argument("model", type=click.Choice(["gain-modulation", "modular-rnn"]))
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path), help="The NWB file to write.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the whole run.")
@click.option("--preset", type=click.Choice(["default", "paper"]), default="default", show_default=True,
              help="'paper' runs the published sizes (slow).")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="A model option, e.g. --option n_iterations=5000 (repeatable).")
@click.option("--species", default="Mus musculus", show_default=True,
              help="Species the simulated network stands for (the file's subject; see model_metadata).")
@click.option("--network", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="gain-modulation: run the study on this Stroud-layout MAT-file's network (e.g. the authors' "
                   "data.mat) instead of building one.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@_clean_errors
def simulate(model: str, output: Path, seed: int, preset: str, options: tuple[str, ...], species: str,
             network: Path | None, overwrite: bool) -> None:
    """Simulate a reference network MODEL and write the session as an NWB file."""
    from nwbmotor.workflows import simulate as run

    model_options = _parse_model_options(options)
    if network is not None:
        model_options["network"] = network
    path = run(model, output, seed=seed, overwrite=overwrite, progress=True, preset=preset, species=species,
               **model_options)
    click.echo(f"wrote {path}")


@main.command()
@click.option("--output-dir", "-o", type=click.Path(path_type=Path), default=Path("nwbmotor-demo"),
              show_default=True, help="Folder for everything the demo makes (a previous demo's folders there are replaced; other files are kept).")
@click.option("--workers", type=int, default=2, show_default=True)
@_clean_errors
def demo(output_dir: Path, workers: int) -> None:
    """The whole path on a built-in example: lab files -> NWB -> checks -> DANDI -> models -> report."""
    from nwbmotor.workflows import run_demo

    run_demo(output_dir, workers=workers, echo=click.echo)
