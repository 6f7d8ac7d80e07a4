"""Bad, hostile and broken inputs: every one gives one clear line and exit 2, nothing is lost.

A table of cases, each building its input in ``tmp_path`` with nwbmotor's own
generators and running the command line in-process. A case passes when the command
exits 2 with exactly one ``error:`` line on stderr, short (input is quoted at most ~100
characters), naming what it must name (the file, the field, the allowed values), and
when the files the case protects are unchanged.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from nwbmotor._cli import main
from nwbmotor.testing import write_model_hdf5, write_stroud_mat, write_suite2p_plane

#: longest error line accepted (a message quoting a whole hostile input is a failure)
MAX_LINE = 700


def _spec(**session_extra: Any) -> dict:
    return {
        "metadata": {"lab": "Motor learning lab", "institution": "UC San Diego"},
        "subjects": [
            {
                "subject_id": "AP071",
                "species": "Mus musculus",
                "sex": "F",
                "age": "P60D",
                "sessions": [
                    {
                        "session_id": "day01",
                        "session_start_time": "2014-03-01T10:00:00-08:00",
                        "session_description": "lever-press training day 1",
                        **session_extra,
                    }
                ],
            }
        ],
    }


def _write_spec(tmp: Path, spec: dict | str, name: str = "spec.yaml") -> Path:
    path = tmp / name
    path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False))
    return path


def _with(path: str, value: Any, **session_extra: Any) -> dict:
    """The base spec with one field set, ``path`` like 'subject.sex' or 'session.age'."""
    spec = _spec(**session_extra)
    level, key = path.split(".")
    target = spec["subjects"][0] if level == "subject" else spec["subjects"][0]["sessions"][0]
    if level == "metadata":
        target = spec["metadata"]
    target[key] = value
    return spec


def _convert(tmp: Path, spec: dict | str, *extra: str) -> list[str]:
    return ["convert", str(_write_spec(tmp, spec)), "-o", str(tmp / "nwb"), *extra]


def _check(tmp: Path, spec: dict | str) -> list[str]:
    return ["convert", "--check", str(_write_spec(tmp, spec)), "-o", str(tmp / "nwb")]


def _model_spec(tmp: Path, file_path: Path, fmt: str = "hdf5", **args: Any) -> list[str]:
    sources = {"model": {"file_path": str(file_path), "format": fmt, **args}}
    return _convert(tmp, _spec(sources=sources))


def _suite2p_spec(tmp: Path, folder: Path) -> list[str]:
    return _convert(tmp, _spec(sources={"suite2p": {"folder_path": str(folder)}}))


# ---------------------------------------------------------------- builders of hostile files


def _model_h5(tmp: Path) -> tuple[Path, np.ndarray]:
    path = tmp / "run.h5"
    write_model_hdf5(path, n_trials=2, n_steps=10, n_units=3)
    with h5py.File(path, "r") as f:
        rates = f["rates"][()]
    return path, rates


def _secret(tmp: Path, nbytes: int) -> Path:
    secret = tmp / "secret.bin"
    secret.write_bytes(np.full(nbytes // 8, 7.0).tobytes())
    return secret


def _external_storage(tmp: Path) -> list[str]:
    path, rates = _model_h5(tmp)
    secret = _secret(tmp, rates.nbytes)
    with h5py.File(path, "a") as f:
        del f["rates"]
        f.create_dataset("rates", shape=rates.shape, dtype=rates.dtype, external=[(str(secret), 0, rates.nbytes)])
    return _model_spec(tmp, path)


def _external_link(tmp: Path) -> list[str]:
    path, rates = _model_h5(tmp)
    other = tmp / "other.h5"
    with h5py.File(other, "w") as f:
        f["rates"] = np.full(rates.shape, 7.0)
    with h5py.File(path, "a") as f:
        del f["rates"]
        f["rates"] = h5py.ExternalLink(str(other), "/rates")
    return _model_spec(tmp, path)


def _virtual_dataset(tmp: Path) -> list[str]:
    path, rates = _model_h5(tmp)
    other = tmp / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.full(rates.shape, 7.0)
    with h5py.File(path, "a") as f:
        del f["rates"]
        layout = h5py.VirtualLayout(shape=rates.shape, dtype=rates.dtype)
        layout[:] = h5py.VirtualSource(str(other), "x", shape=rates.shape)
        f.create_virtual_dataset("rates", layout)
    return _model_spec(tmp, path)


def _stroud_external_link(tmp: Path) -> list[str]:
    path = tmp / "net.mat"
    write_stroud_mat(path, version="7.3")
    other = tmp / "other.h5"
    with h5py.File(other, "w") as f:
        f["W"] = np.eye(40)
    with h5py.File(path, "a") as f:
        del f["W_rec"]
        f["W_rec"] = h5py.ExternalLink(str(other), "/W")
    return _model_spec(tmp, path, fmt="stroud-mat")


def _alias_bomb(tmp: Path) -> list[str]:
    """About 450 bytes that expand to 9**9 strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    body = "bomb:\n" + "\n".join("  " + line for line in lines) + "\n"
    return _check(tmp, body + yaml.safe_dump(_spec()))


def _dict_pickle_npy(path: Path, payload: bytes) -> None:
    """A 0-d object .npy whose pickle bytes are ``payload``."""
    from numpy.lib import format as npy_format

    with open(path, "wb") as f:
        npy_format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False, "shape": ()})
        f.write(payload)


def _suite2p(tmp: Path, **kw: Any) -> Path:
    folder = tmp / "suite2p" / "plane0"
    write_suite2p_plane(folder, n_rois=4, n_frames=60, image_shape=(32, 32), **kw)
    return folder


def _ops_bytearray(tmp: Path) -> list[str]:
    folder = _suite2p(tmp)
    payload = b"\x80\x02c__builtin__\nbytearray\nq\x00\x8a\x06\x00\x00\x00\x00\x00\x04\x85q\x01Rq\x02."
    _dict_pickle_npy(folder / "ops.npy", payload)
    return _suite2p_spec(tmp, folder)


def _stat_system(tmp: Path) -> list[str]:
    folder = _suite2p(tmp)

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp / 'pwned'}",))

    _dict_pickle_npy(folder / "stat.npy", pickle.dumps(Evil(), protocol=2))
    return _suite2p_spec(tmp, folder)


def _truncated_f(tmp: Path) -> list[str]:
    folder = _suite2p(tmp)
    data = (folder / "F.npy").read_bytes()
    (folder / "F.npy").write_bytes(data[: len(data) // 2])
    return _suite2p_spec(tmp, folder)


def _fifo_spec(tmp: Path) -> list[str]:
    fifo = tmp / "spec.yaml"
    os.mkfifo(fifo)
    return ["convert", str(fifo), "-o", str(tmp / "nwb")]


def _target(tmp: Path) -> Path:
    return tmp / "nwb" / "sub-AP071" / "sub-AP071_ses-day01.nwb"


def _truncated_target(tmp: Path) -> list[str]:
    target = _target(tmp)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    return _convert(tmp, _spec())


def _folder_target(tmp: Path, *extra: str) -> list[str]:
    target = _target(tmp)
    target.mkdir(parents=True)
    (target / "mine.txt").write_text("the user's")
    return _convert(tmp, _spec(), *extra)


def _foreign_target(tmp: Path) -> list[str]:
    """An NWB file another program wrote (no completion marker), with --overwrite."""
    from pynwb import NWBHDF5IO

    from nwbmotor.testing import mock_nwbfile

    target = _target(tmp)
    target.parent.mkdir(parents=True)
    with NWBHDF5IO(str(target), "w") as io:
        io.write(mock_nwbfile(subject_id="AP071", session_id="day01"))
    return _convert(tmp, _spec(), "--overwrite")


def _unchanged(*relative: str) -> Callable[[Path], dict[str, bytes | list[str]]]:
    """Snapshot of files/folders (relative to tmp) the case must leave as they are."""

    def snap(tmp: Path) -> dict[str, bytes | list[str]]:
        out: dict[str, bytes | list[str]] = {}
        for rel in relative:
            p = tmp / rel
            out[rel] = sorted(str(q.relative_to(p)) + q.read_text() for q in p.rglob("*")) if p.is_dir() \
                else p.read_bytes()
        return out

    return snap


@dataclass
class Case:
    build: Callable[[Path], list[str]]
    expect: tuple[str, ...]
    keep: Callable[[Path], Any] | None = None
    absent: tuple[str, ...] = field(default_factory=tuple)


TARGET = "nwb/sub-AP071/sub-AP071_ses-day01.nwb"

CASES: dict[str, Case] = {
    # ---- issue 1-2: targets
    "truncated-target-is-not-finished": Case(_truncated_target, ("sub-AP071_ses-day01.nwb", "not a finished NWB",
                                                                  "left alone"), keep=_unchanged(TARGET)),
    "folder-at-target-is-kept": Case(_folder_target, ("a folder", "left alone"), keep=_unchanged(TARGET)),
    "folder-at-target-kept-with-overwrite": Case(lambda t: _folder_target(t, "--overwrite"), ("a folder",),
                                                 keep=_unchanged(TARGET)),
    "foreign-nwb-not-replaced-with-overwrite": Case(_foreign_target, ("no nwbmotor completion marker",),
                                                    keep=_unchanged(TARGET)),
    # ---- issue 3: inputs reaching outside themselves
    "model-external-storage": Case(_external_storage, ("run.h5", "'/rates'", "external file", "self-contained"),
                                   absent=(TARGET,)),
    "model-external-link": Case(_external_link, ("run.h5", "external link", "other.h5"), absent=(TARGET,)),
    "model-virtual-dataset": Case(_virtual_dataset, ("run.h5", "virtual dataset"), absent=(TARGET,)),
    "stroud-v73-external-link": Case(_stroud_external_link, ("net.mat", "external link"), absent=(TARGET,)),
    # ---- issue 4: YAML
    "yaml-alias-bomb": Case(_alias_bomb, ("spec.yaml", "expands to more than")),
    "yaml-duplicate-key": Case(lambda t: _check(t, yaml.safe_dump(_spec()).replace("sex: F", "sex: F\n  sex: M")),
                               ("spec.yaml", "duplicate key 'sex'", "line")),
    # ---- issue 5: Suite2p
    "suite2p-truncated-F": Case(_truncated_f, ("F.npy", "truncated"), absent=(TARGET,)),
    "suite2p-ops-huge-bytearray": Case(_ops_bytearray, ("ops.npy", "refused"), absent=(TARGET,)),
    # ---- issue 6: one line, exit 2
    "spec-not-utf8": Case(lambda t: ["convert", str(_bytes(t, b"subjects: \xff\xfe\n")), "-o", str(t / "nwb")],
                          ("spec.yaml", "not UTF-8", "line 1")),
    "spec-utf16": Case(lambda t: ["convert", str(_bytes(t, yaml.safe_dump(_spec()).encode("utf-16"))),
                                  "-o", str(t / "nwb")], ("spec.yaml", "UTF-16", "UTF-8")),
    "spec-deeply-nested": Case(lambda t: _check(t, "subjects: " + "[" * 3000 + "]" * 3000), ("spec.yaml", "nested")),
    "simulate-negative-iterations": Case(lambda t: ["simulate", "gain-modulation", "-o", str(t / "g.nwb"),
                                                    "--option", "n_iterations=-5"],
                                         ("n_iterations=-5", "an integer >= 1")),
    "simulate-non-integer-n-exc": Case(lambda t: ["simulate", "gain-modulation", "-o", str(t / "g.nwb"),
                                                  "--option", "n_exc=abc"], ("n_exc='abc'", "an integer, got str")),
    "simulate-zero-dt": Case(lambda t: ["simulate", "modular-rnn", "-o", str(t / "g.nwb"), "--option", "tau=0"],
                             ("'tau'", "expected > 0", "got 0")),
    "unreachable-scheduler": Case(lambda t: _convert(t, _spec(), "--scheduler", "tcp://127.0.0.1:9"),
                                  ("--scheduler", "tcp://127.0.0.1:9", "cannot connect")),
    "model-format-lists-allowed": Case(lambda t: _model_spec(t, _bytes(t, b"x", "m.mat"), fmt="matlab"),
                                       ("sources.model.format", "one of", "'stroud-mat'", "'matlab'")),
    "folder-as-spec": Case(lambda t: ["convert", str(_mkdir(t / "spec.yaml")), "-o", str(t / "nwb")],
                           ("spec.yaml", "is a folder", "expected a YAML file")),
    "fifo-as-spec": Case(_fifo_spec, ("spec.yaml", "named pipe")),
    "non-integer-n-movie-frames": Case(lambda t: _check(t, _spec(sources={"xsglog": {
        "folder_path": str(_mkdir(t / "xsg")), "n_movie_frames": "many"}})),
        ("xsglog.n_movie_frames", "expected integer or null", "'many'")),
    "nul-in-description": Case(lambda t: _convert(t, _with("session.session_description", "day\x00one")),
                               ("session_description", "control character", "'\\x00'"), absent=("nwb",)),
    "bad-trials-csv-names-file": Case(lambda t: _convert(t, _spec(sources={"lever_table": {
        "file_path": str(_bytes(t, b"\xff\xfe\x00garbage", "trials.csv"))}})), ("trials.csv",), absent=(TARGET,)),
    "missing-source-exits-2": Case(lambda t: _model_spec(t, t / "nowhere.h5"),
                                   ("sources.model.file_path", "nowhere.h5", "does not exist")),
    "output-path-is-a-file": Case(lambda t: ["convert", str(_write_spec(t, _spec())), "-o",
                                             str(_bytes(t, b"x", "out"))], ("out", "is a file", "expected a folder")),
    "output-parent-missing": Case(lambda t: ["convert", str(_write_spec(t, _spec())), "-o", str(t / "a" / "b")],
                                  ("does not exist",), absent=("a",)),
    # ---- issue 8
    "simulate-missing-parent-folder": Case(lambda t: ["simulate", "gain-modulation", "-o",
                                                      str(t / "no" / "such" / "g.nwb")],
                                           ("does not exist", "create it first"), absent=("no",)),
}


def _bytes(tmp: Path, data: bytes, name: str = "spec.yaml") -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


# ------------------------------------------------------------ more cases beyond the issue's


def _spec_case(field_path: str, value: Any, *expect: str) -> Case:
    return Case(lambda t: _check(t, _with(field_path, value)), expect)


MORE: dict[str, Case] = {
    "empty-spec": Case(lambda t: _check(t, ""), ("spec.yaml", "expected a mapping")),
    "spec-is-a-list": Case(lambda t: _check(t, "- a\n- b\n"), ("spec.yaml", "expected a mapping", "list")),
    "spec-python-tag": Case(lambda t: _check(t, "subjects: !!python/object/apply:os.system ['true']\n"),
                            ("spec.yaml", "python/object/apply", "no language-specific tags")),
    "spec-too-large": Case(lambda t: _check(t, "# " + "x" * (5 * 1024 * 1024)), ("spec.yaml", "bytes", "at most")),
    "spec-nul-byte-in-text": Case(lambda t: ["convert", str(_bytes(t, b"subjects:\x00 []\n")), "-o", str(t / "n")],
                                  ("spec.yaml", "NUL")),
    "spec-latin1": Case(lambda t: ["convert", str(_bytes(t, yaml.safe_dump(_spec()).replace(
        "lever", "l\u00e9ver").encode("latin-1"))), "-o", str(t / "n")], ("spec.yaml", "not UTF-8")),
    "spec-utf32": Case(lambda t: ["convert", str(_bytes(t, yaml.safe_dump(_spec()).encode("utf-32"))), "-o",
                                  str(t / "n")], ("UTF-32",)),
    "spec-syntax-error": Case(lambda t: _check(t, "subjects: [a, b\n"), ("spec.yaml", "not valid YAML", "line")),
    "spec-tab-indent": Case(lambda t: _check(t, "subjects:\n\t- a\n"), ("spec.yaml", "not valid YAML")),
    "spec-many-aliases": Case(lambda t: _check(t, "a: &a 1\nb: [" + ", ".join(["*a"] * 150) + "]\n"),
                              ("more than 100 aliases",)),
    "spec-missing": Case(lambda t: ["convert", str(t / "nope.yaml"), "-o", str(t / "n")], ("nope.yaml",
                                                                                          "does not exist")),
    "spec-unknown-top-key": Case(lambda t: _check(t, {**_spec(), "subject": []}), ("subject", "unknown key")),
    "spec-no-subjects": Case(lambda t: _check(t, {"subjects": []}), ("subjects",)),
    "subject-id-path-traversal": _spec_case("subject.subject_id", "../../etc", "subject_id", "letters, digits"),
    "session-id-slash": _spec_case("session.session_id", "day/01", "session_id", "'day-01'"),
    "session-id-empty": _spec_case("session.session_id", "", "session_id"),
    "species-common-name": _spec_case("subject.species", "mouse", "species", "'Mus musculus'"),
    "sex-word": _spec_case("subject.sex", "female", "sex", "'M', 'F', 'O', 'U'", "'F'"),
    "sex-huge-value-clipped": _spec_case("subject.sex", "F" * 100_000, "sex", "characters"),
    "age-words": _spec_case("subject.age", "90 days", "age", "'P90D'"),
    "start-without-timezone": _spec_case("session.session_start_time", "2014-03-01T10:00:00",
                                         "session_start_time", "time zone"),
    "start-in-future": _spec_case("session.session_start_time", "2999-03-01T10:00:00-08:00", "in the future"),
    "start-before-1980": _spec_case("session.session_start_time", "1970-03-01T10:00:00-08:00", "before 1980"),
    "start-not-a-date": _spec_case("session.session_start_time", "yesterday", "session_start_time"),
    "escape-in-description": _spec_case("session.session_description", "red \x1b[31m", "control character",
                                        "'\\x1b'"),
    "nul-in-experimenter": _spec_case("metadata.experimenter", ["Peters\x00"], "experimenter",
                                      "control character"),
    "bell-in-lab": _spec_case("metadata.lab", "lab\x07", "lab", "control character"),
    "description-not-string": _spec_case("session.session_description", {"a": 1}, "session_description"),
    "unknown-subject-key": _spec_case("subject.colour", "brown", "colour", "unknown key"),
    "no-age-no-birth": Case(lambda t: _check(t, _drop_age()), ("neither age nor date_of_birth",)),
    "birth-without-timezone": Case(lambda t: _check(t, _with("subject.date_of_birth", "2014-01-01T00:00:00")),
                                   ("date_of_birth", "time zone")),
    "duplicate-session": Case(lambda t: _check(t, _two_sessions("day01", "day01")), ("session_id", "repeats")),
    "unknown-source-kind": Case(lambda t: _check(t, _spec(sources={"ephys": {}})), ("sources.ephys",
                                                                                  "expected one of")),
    "source-args-not-mapping": Case(lambda t: _check(t, _spec(sources={"model": "run.h5"})),
                                    ("sources.model", "valid dictionary", "'run.h5'")),
    "source-unknown-argument": Case(lambda t: _check(t, _spec(sources={"model": {
        "file_path": str(_bytes(t, b"x", "m.h5")), "format": "hdf5", "colour": 1}})), ("colour", "unknown key")),
    "source-path-nul": Case(lambda t: _check(t, _spec(sources={"model": {"file_path": "a\x00b", "format": "hdf5"}})),
                            ("file_path", "control character", "'\\x00'")),
    "source-file-is-folder": Case(lambda t: _check(t, _spec(sources={"model": {
        "file_path": str(_mkdir(t / "m.h5")), "format": "hdf5"}})), ("file_path", "is a folder", "expected a file")),
    "source-folder-is-file": Case(lambda t: _check(t, _spec(sources={"suite2p": {
        "folder_path": str(_bytes(t, b"x", "plane0"))}})), ("folder_path", "is a file", "expected a folder")),
    "source-missing-check": Case(lambda t: _check(t, _spec(sources={"suite2p": {"folder_path": "nowhere"}})),
                                 ("folder_path", "does not exist")),
    "neuroconv-unknown-interface": Case(lambda t: _check(t, _spec(sources={"neuroconv:NoSuch": {}})),
                                        ("NoSuch",)),
    "model-text-as-hdf5": Case(lambda t: _model_spec(t, _bytes(t, b"hello", "m.h5")), ("m.h5", "not an HDF5"),
                               absent=(TARGET,)),
    "model-truncated-npz": Case(lambda t: _model_spec(t, _bytes(t, b"PK\x03\x04junk", "m.npz"), fmt="npz"),
                                ("m.npz",), absent=(TARGET,)),
    "model-metadata-duplicate-key": Case(lambda t: _model_with_meta(t, "dt: 0.01\ndt: 0.02\n"),
                                         ("run.yaml", "duplicate key 'dt'"), absent=(TARGET,)),
    "model-metadata-alias-bomb": Case(lambda t: _model_with_meta(t, "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"a{i}: &a{i} [{','.join(['*a' if i == 0 else f'*a{i - 1}'] * 10)}]\n" for i in range(7))),
        ("run.yaml", "expands to more than"), absent=(TARGET,)),
    "feulner-hostile-pickle": Case(lambda t: _hostile_feulner(t), ("sim.npy", "refused to unpickle"),
                                   absent=("pwned", TARGET)),
    "suite2p-stat-runs-code": Case(_stat_system, ("stat.npy", "refused to unpickle", "system"),
                                   absent=("pwned", TARGET)),
    "suite2p-missing-file": Case(lambda t: _suite2p_without(t, "iscell.npy"), ("iscell.npy", "missing")),
    "workers-zero": Case(lambda t: _convert(t, _spec(), "--workers", "0"), ("--workers", "at least 1")),
    "simulate-unknown-option": Case(lambda t: ["simulate", "gain-modulation", "-o", str(t / "g.nwb"),
                                               "--option", "n_neurons=5"], ("n_neurons", "expected among")),
    "simulate-option-without-equals": Case(lambda t: ["simulate", "gain-modulation", "-o", str(t / "g.nwb"),
                                                      "--option", "n_exc"], ("KEY=VALUE",)),
    "simulate-float-count": Case(lambda t: ["simulate", "gain-modulation", "-o", str(t / "g.nwb"),
                                            "--option", "n_exc=1.5"], ("n_exc=1.5", "an integer")),
    "simulate-bounds-length": Case(lambda t: ["simulate", "gain-modulation", "-o", str(t / "g.nwb"),
                                              "--option", "gain_bounds=[1]"], ("gain_bounds", "2 numbers")),
    "simulate-negative-radius": Case(lambda t: ["simulate", "gain-modulation", "-o", str(t / "g.nwb"),
                                                "--option", "radius=-1"], ("radius=-1", "> 0")),
    "simulate-nan-tau": Case(lambda t: ["simulate", "gain-modulation", "-o", str(t / "g.nwb"),
                                        "--option", "tau=.nan"], ("tau", "finite number")),
    "simulate-option-alias-bomb": Case(lambda t: ["simulate", "gain-modulation", "-o", str(t / "g.nwb"),
                                                  "--option", "n_exc=" + "[" * 200 + "]" * 200], ("nested",)),
    "organize-only-bad-files": Case(lambda t: ["organize", str(_bytes(t, b"not nwb", "a.nwb")), "-d",
                                               str(t / "ds")], ("a.nwb", "not an HDF5 file"), absent=("ds",)),
    "organize-truncated-file": Case(lambda t: ["organize", str(_bytes(t, b"\x89HDF\r\n\x1a\n" + bytes(64),
                                                                       "b.nwb")), "-d", str(t / "ds")],
                                    ("b.nwb",), absent=("ds",)),
    "organize-partial-file": Case(lambda t: ["organize", str(_bytes(t, b"\x89HDF", ".nwbmotor-partial-1234abcd-c.nwb")),
                                             "-d", str(t / "ds")], ("interrupted",), absent=("ds",)),
    "organize-into-thesis-folder": Case(lambda t: ["organize", str(_bytes(t, b"x", "a.nwb")), "-d",
                                                   str(_thesis(t))], ("not empty", "no dandiset.yaml"),
                                        keep=_unchanged("thesis")),
}


def _drop_age() -> dict:
    spec = _spec()
    del spec["subjects"][0]["age"]
    return spec


def _two_sessions(a: str, b: str) -> dict:
    spec = _spec()
    first = spec["subjects"][0]["sessions"][0]
    spec["subjects"][0]["sessions"] = [{**first, "session_id": a}, {**first, "session_id": b}]
    return spec


def _model_with_meta(tmp: Path, meta: str) -> list[str]:
    path, _ = _model_h5(tmp)
    path.with_suffix(".yaml").write_text(meta)
    return _model_spec(tmp, path)


def _hostile_feulner(tmp: Path) -> list[str]:
    from nwbmotor.testing import write_hostile_pickle

    path = write_hostile_pickle(tmp / "sim.npy", tmp / "pwned")
    return _model_spec(tmp, path, fmt="feulner-pickle")


def _suite2p_without(tmp: Path, name: str) -> list[str]:
    folder = _suite2p(tmp)
    (folder / name).unlink()
    return _suite2p_spec(tmp, folder)


def _thesis(tmp: Path) -> Path:
    folder = tmp / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("precious")
    return folder


ALL = {**CASES, **MORE}


def test_the_table_is_as_large_as_promised() -> None:
    assert len(CASES) >= 25 and len(MORE) >= 40


@pytest.mark.parametrize("name", sorted(ALL))
def test_bad_input_gives_one_clear_line_and_exit_2(tmp_path: Path, name: str) -> None:
    case = ALL[name]
    argv = case.build(tmp_path)
    before = case.keep(tmp_path) if case.keep else None
    result = CliRunner().invoke(main, argv)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.exit_code == 2, (result.exit_code, result.stderr[-2000:], result.exception)
    assert len(errors) == 1, result.stderr[-2000:]
    line = errors[0]
    assert len(line) <= MAX_LINE, line[:2000]
    assert "Traceback" not in result.stderr and "unexpected" not in line, line
    for fragment in case.expect:
        assert fragment in line, (fragment, line)
    if case.keep:
        assert case.keep(tmp_path) == before
    for rel in case.absent:
        assert not (tmp_path / rel).exists(), rel


def test_check_validates_the_spec_and_sources_without_writing(tmp_path: Path) -> None:
    path, _ = _model_h5(tmp_path)
    argv = _model_spec(tmp_path, path)
    argv.insert(1, "--check")
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.stderr
    assert "OK: 1 session(s), 1 source file(s) found; 0 output(s) already in" in result.stdout
    assert not (tmp_path / "nwb").exists()


@pytest.mark.parametrize(
    "text",
    [
        "\ufeff" + yaml.safe_dump(_spec()),  # a UTF-8 byte-order mark, as Windows editors write
        "shared: &lab {lab: Motor learning lab}\n" + yaml.safe_dump(_spec()),  # a plain alias
        yaml.safe_dump(_with("session.session_description", "tab\tand newline\nare text " + "x" * 5000)),
    ],
    ids=["utf8-bom", "small-alias", "long-description"],
)
def test_plain_specs_near_the_limits_are_accepted(tmp_path: Path, text: str) -> None:
    from nwbmotor.conversion import load_spec

    if text.startswith("shared:"):
        with pytest.raises(Exception, match="shared: unknown key"):  # aliases parse; the key is still unknown
            load_spec(_write_spec(tmp_path, text))
        return
    (session,) = load_spec(_write_spec(tmp_path, text)).sessions
    assert session.subject.subject_id == "AP071"
