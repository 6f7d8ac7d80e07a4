"""``nwbmotor.convert`` with the segmentation, registration and spine source kinds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from pynwb import NWBHDF5IO

from nwbmotor import convert
from nwbmotor.testing import (
    assert_valid_nwb,
    make_registration_sessions,
    write_lab_roi_session,
    write_spine_table,
    write_suite2p_plane,
)


def _spec(sessions: list[dict]) -> dict:
    return {
        "metadata": {
            "lab": "Motor learning lab",
            "institution": "University of California San Diego",
            "experimenter": ["Peters, Andrew"],
            "keywords": ["motor learning"],
            "experiment_description": "Lever-press learning with imaging.",
        },
        "subjects": [
            {
                "subject_id": "AP071",
                "species": "Mus musculus",
                "sex": "F",
                "age": "P60D",
                "genotype": "GAD-Cre;tdTomato",
                "description": "head-fixed mouse",
                "sessions": [
                    {
                        "session_id": s["id"],
                        "session_start_time": f"2014-03-0{k + 1}T10:00:00-08:00",
                        "session_description": f"lever-press training {s['id']}",
                        "sources": s["sources"],
                    }
                    for k, s in enumerate(sessions)
                ],
            }
        ],
    }


def test_suite2p_sessions_matched_to_day01(tmp_path: Path) -> None:
    out = make_registration_sessions(
        40, 2, (128, 128), max_shift=6, jitter=0.7, turnover=0.15, seed=8
    )
    for k, session in enumerate(out["sessions"]):
        write_suite2p_plane(
            tmp_path / f"day0{k + 1}" / "suite2p" / "plane0", session=session, n_frames=400, seed=k
        )
    write_spine_table(tmp_path / "spines.csv", n_dendrites=4, sessions=["day01", "day02"])
    sessions = [
        {
            "id": f"day0{k + 1}",
            "sources": {
                "suite2p": {
                    "folder_path": f"day0{k + 1}/suite2p/plane0",
                    "input_source": "motor thalamus",
                },
                "registration": {
                    "folder_path": "day01/suite2p/plane0",
                    "reference_session": "day01",
                },
                "spines": {"file_path": "spines.csv", "session": f"day0{k + 1}"},
            },
        }
        for k in range(2)
    ]
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_spec(sessions)))
    result = convert(spec, output_dir=tmp_path / "nwb", progress=False)
    assert result.ok, result.summary()
    reference = {cell: roi for roi, cell in enumerate(out["sessions"][0]["cell_ids"])}
    for k, path in enumerate(result.paths):
        assert_valid_nwb(path)
        expected = [reference.get(c, -1) for c in out["sessions"][k]["cell_ids"]]
        with NWBHDF5IO(path, "r") as io:
            ophys = io.read().processing["ophys"]
            table = ophys["ImageSegmentation"]["PlaneSegmentation"]
            np.testing.assert_array_equal(table["global_id"].data[:], expected)
            assert set(table["input_source"].data[:]) == {"motor thalamus"}
            assert ophys["CellRegistration"].reference_session == "day01"
            assert set(ophys["spine_dynamics"]["session"].data[:]) == {f"day0{k + 1}"}


def test_lab_roi_session_with_a_reused_polygon_file(tmp_path: Path) -> None:
    truth = write_lab_roi_session(
        tmp_path / "rois", n_rois=8, image_shape=(64, 64), n_frames=200, seed=1
    )
    sources = {
        "lab_rois": {
            "file_path": "rois/AP071_140301.roi",
            "dff_path": "rois/AP071_140301_roi_data.mat",
            "image_shape": [64, 64],
            "frame_rate": 28.0,
        },
        "registration": {"file_path": "rois/AP071_140301.roi", "reference_session": "day01"},
    }
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_spec([{"id": "day01", "sources": sources}])))
    result = convert(spec, output_dir=tmp_path / "nwb", progress=False)
    assert result.ok, result.summary()
    with NWBHDF5IO(result.paths[0], "r") as io:
        ophys = io.read().processing["ophys"]
        table = ophys["ImageSegmentation"]["PlaneSegmentation"]
        np.testing.assert_array_equal(table["global_id"].data[:], np.arange(8))
        assert list(table["cell_type"].data[:]) == list(truth["cell_type"])
        np.testing.assert_array_equal(ophys["DfOverF"]["RoiResponseSeries"].data[:], truth["dff"].T)
