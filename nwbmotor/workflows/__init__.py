"""Workflows that compose the layers: ``analyze`` and its report, ``simulate``, ``demo``, and the
modular network's claims over seeds (``modular_rnn_claims``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.workflows._analyze import (
        AnalysisResult,
        analyze,
        lab_session_metrics,
        model_session_metrics,
    )
    from nwbmotor.workflows._claims import (
        claims_section,
        claims_table,
        modular_rnn_claims,
    )
    from nwbmotor.workflows._demo import (
        run_demo,
    )
    from nwbmotor.workflows._report import (
        Figure,
        Section,
        bar_figure,
        learning_curve_figure,
        write_report,
    )
    from nwbmotor.workflows._simulate import (
        simulate,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "AnalysisResult": "nwbmotor.workflows._analyze",
        "Figure": "nwbmotor.workflows._report",
        "Section": "nwbmotor.workflows._report",
        "analyze": "nwbmotor.workflows._analyze",
        "bar_figure": "nwbmotor.workflows._report",
        "claims_section": "nwbmotor.workflows._claims",
        "claims_table": "nwbmotor.workflows._claims",
        "lab_session_metrics": "nwbmotor.workflows._analyze",
        "learning_curve_figure": "nwbmotor.workflows._report",
        "model_session_metrics": "nwbmotor.workflows._analyze",
        "modular_rnn_claims": "nwbmotor.workflows._claims",
        "run_demo": "nwbmotor.workflows._demo",
        "simulate": "nwbmotor.workflows._simulate",
        "write_report": "nwbmotor.workflows._report",
    },
)
