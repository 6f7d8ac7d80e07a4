"""``nwbmotor simulate``: thin CLI over nwbmotor.models.simulate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
from click.testing import CliRunner

from nwbmotor._cli import main
from nwbmotor.converters.model import read_model_session
from nwbmotor.testing import assert_valid_nwb

TINY = ["--option", "n_exc=10", "--option", "n_inh=10", "--option", "n_iterations=30", "--option", "n_primitives=1",
        "--option", "radius=3.0"]


def test_simulate_writes_a_valid_session(tmp_path: Path) -> None:
    out = tmp_path / "gm.nwb"
    result = CliRunner().invoke(main, ["simulate", "gain-modulation", "-o", str(out), "--seed", "7",
                                       "--species", "Macaca mulatta", *TINY])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert_valid_nwb(out)
    session = read_model_session(out)
    assert (session.seed, session.n_units) == (7, 20)
    with h5py.File(out, "r") as f:
        assert f["general/subject/species"][()].decode() == "Macaca mulatta"
        assert f["general/subject/subject_id"][()].decode() == "gain-modulation"
    log = session.training_log
    assert len(log["loss"][log["phase"] == "novel"]) == 30  # the option reached the model


def test_simulate_runs_the_study_on_a_given_network_file(tmp_path: Path) -> None:
    from nwbmotor.testing import write_stroud_mat

    truth = write_stroud_mat(tmp_path / "data.mat", layout="struct", seed=2)  # the authors' struct layout
    out = tmp_path / "gm.nwb"
    result = CliRunner().invoke(main, ["simulate", "gain-modulation", "--network", str(tmp_path / "data.mat"), "-o",
                                       str(out), "--option", "n_iterations=30", "--option", "n_primitives=1"])
    assert result.exit_code == 0, result.output
    session = read_model_session(out)
    np.testing.assert_array_equal(session.snapshot("novel").weights["W_rec"], truth["W_rec"])
    np.testing.assert_array_equal(session.snapshot("initial").initial_state, truth["initial_cond"])
    np.testing.assert_array_equal(session.targets[1, :, 0], truth["novel_target"])
    assert session.n_steps == truth["initial_target"].size
    missing = CliRunner().invoke(main, ["simulate", "gain-modulation", "--network", str(tmp_path / "none.mat"),
                                        "-o", str(tmp_path / "x.nwb")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_simulate_refuses_to_overwrite_then_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "gm.nwb"
    out.write_bytes(b"old")
    runner = CliRunner()
    result = runner.invoke(main, ["simulate", "gain-modulation", "-o", str(out), *TINY])
    assert result.exit_code == 2
    assert "the output exists; pass overwrite=True (--overwrite)" in result.output
    assert out.read_bytes() == b"old"
    # a file nwbmotor did not write is never replaced, even with --overwrite
    result = runner.invoke(main, ["simulate", "gain-modulation", "-o", str(out), "--overwrite", *TINY])
    assert result.exit_code == 2 and "is not a finished file nwbmotor wrote" in result.output
    assert out.read_bytes() == b"old"
    out.unlink()
    assert runner.invoke(main, ["simulate", "gain-modulation", "-o", str(out), "--seed", "1", *TINY]).exit_code == 0
    with h5py.File(out, "r") as f:
        first = f["identifier"][()]
    result = runner.invoke(main, ["simulate", "gain-modulation", "-o", str(out), "--overwrite", *TINY])
    assert result.exit_code == 0, result.output
    assert_valid_nwb(out)
    with h5py.File(out, "r") as f:
        assert f["identifier"][()] != first


def test_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["simulate", "gain-modulation", "-o", str(tmp_path / "x.nwb"), "--option", "n_neurons=3"])
    assert result.exit_code == 2
    assert "error: simulate: model 'gain-modulation' has no option(s) ['n_neurons']" in result.output
    result = runner.invoke(main, ["simulate", "gain-modulation", "-o", str(tmp_path / "x.nwb"), "--option", "n_exc"])
    assert result.exit_code == 2 and "expected KEY=VALUE" in result.output
    result = runner.invoke(main, ["simulate", "hopfield", "-o", str(tmp_path / "x.nwb")])
    assert result.exit_code == 2 and "'hopfield' is not one of" in result.output
    assert not list(tmp_path.iterdir())


def test_end_to_end_in_a_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "gm.nwb"
    run = subprocess.run([sys.executable, "-P", "-m", "nwbmotor", "simulate", "gain-modulation", "-o", str(out), *TINY],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "gain learning" in run.stderr  # tqdm progress
    check = subprocess.run([sys.executable, "-P", "-m", "nwbmotor", "inspect", str(out)], capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    session = read_model_session(out)
    assert np.isfinite(session.outputs).all()
