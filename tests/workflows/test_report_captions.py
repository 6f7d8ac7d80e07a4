"""Report captions are computed from the numbers their figures show."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nwbmotor.workflows._report import learning_curve_figure, paired_figure, trend_caption


def _table(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"subject_id": s, "training_day": d + 1, "fraction_rewarded": v}
        for s, vals in values.items()
        for d, v in enumerate(vals)
    ]
    return pd.DataFrame(rows)


def test_caption_states_test_n_and_the_falling_animal(tmp_path: Path) -> None:
    table = _table({"A": [0.3, 0.5, 0.7, 0.9], "B": [0.35, 0.55, 0.75, 0.85], "C": [0.575, 0.55, 0.5, 0.45]})
    fig = learning_curve_figure(table, "fraction_rewarded", tmp_path / "f.png", title="Fraction rewarded",
                                ylabel="fraction", caption="Rewarded / all trials.")
    r, p = stats.pearsonr(table["training_day"], table["fraction_rewarded"])
    assert fig.caption.startswith("Rewarded / all trials.")
    assert f"r of value vs training day = {r:.2f}" in fig.caption
    assert "12 sessions of 3 animals" in fig.caption
    assert "C falls from 0.575 to 0.45" in fig.caption
    assert ("increases" in fig.caption) == (p < 0.05)
    assert fig.path.stat().st_size > 5_000


def test_caption_says_no_trend_when_there_is_none() -> None:
    rng = np.random.default_rng(0)
    table = _table({k: list(0.5 + rng.normal(0, 0.01, 4)) for k in "AB"})
    caption, trend = trend_caption(table, "fraction_rewarded", what="Fraction rewarded")
    assert caption.startswith("Fraction rewarded: thin lines")
    assert trend.attrs["direction"] == "no significant trend"
    assert "no significant trend" in caption and "increases" not in caption and "decreases" not in caption


def test_paired_caption_has_both_means_the_signed_rank_p_and_n(tmp_path: Path) -> None:
    light = [0.40, 0.45, 0.38, 0.50, 0.42, 0.47]
    no_light = [0.80, 0.85, 0.78, 0.90, 0.83, 0.88]
    fig = paired_figure(light, no_light, tmp_path / "p.png", labels=("light", "no light"), title="Opto",
                        ylabel="fraction", what="Fraction rewarded")
    p = stats.wilcoxon(light, no_light).pvalue
    assert f"p = {p:.3f}" in fig.caption and "6 sessions" in fig.caption
    assert "light < no light" in fig.caption
    assert f"{np.mean(light):.3g} ± " in fig.caption


def test_analyze_writes_the_panels_the_data_allow(tmp_path: Path) -> None:
    from nwbmotor.testing import write_lab_sessions
    from nwbmotor.workflows import analyze

    write_lab_sessions(tmp_path / "nwb", n_sessions=3, n_rois=20, duration=90.0, seed=1,
                       session_start_time="2014-03-01T10:00:00-08:00")  # one start date for all
    result = analyze([tmp_path / "nwb"], tmp_path / "report", n_shuffles=200, progress=False)
    page = result.report.read_text()
    for title in ("Learning", "Population similarity", "Optogenetics", "E/I balance", "Not computed"):
        assert f"<h2>{title}</h2>" in page
    assert "Pearson r of value vs training day" in page and "Wilcoxon signed-rank" in page
    # no spine table and no input-source labels in these files: said, not drawn
    assert "Spine turnover: no session file holds a spine scoring table" in page
    assert "no session has ROIs labelled by input source" in page
    assert "<h2>Spines</h2>" not in page
    # the movement-related caption states the shuffles actually used
    assert "(200 shuffles)" in page
    assert list(result.lab["training_day"]) == [1, 2, 3]  # one start date for all: session order, with a note
    assert any("training day = session order" in n for n in result.notes)


def test_bouton_analyses_and_panel_on_files_with_two_input_sources(tmp_path: Path) -> None:
    from nwbmotor import analysis as an
    from nwbmotor.testing import write_lab_session
    from nwbmotor.views import open_session
    from nwbmotor.workflows import analyze

    labels = np.where(np.arange(30) % 2 == 0, "motor thalamus", "cortex")
    paths, truths = [], []
    for k in range(2):
        truth = write_lab_session(tmp_path / "nwb" / f"b{k}.nwb", n_rois=30, duration=120.0, seed=20 + k,
                                  session_id=f"day0{k + 1}", fraction_inhibitory=0.0, input_sources=labels)
        paths.append(truth.path)
        truths.append(truth)
    ds = open_session(paths[0]).load()
    assert sorted(set(ds.input_source.values.tolist())) == ["cortex", "motor thalamus"]
    enc = an.input_encoding(ds, n_shuffles=500)
    for src in ("cortex", "motor thalamus"):
        expected = truths[0].movement_related[labels == src].mean()
        assert float(enc.fraction_movement_related.sel(input=src)) == pytest.approx(expected, abs=0.2)
    groups = an.group_axons(ds)
    assert int(groups.n_axons.sum()) >= 25  # each ROI here is its own axon: none share transients
    result = analyze([tmp_path / "nwb"], tmp_path / "report", n_shuffles=200, progress=False)
    page = result.report.read_text()
    assert "<h2>Input boutons</h2>" in page and "Pooled Fisher exact test" in page
