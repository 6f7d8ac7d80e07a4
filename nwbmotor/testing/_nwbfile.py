"""In-memory NWB files and metadata that pass the DANDI checks, for tests and examples."""

from __future__ import annotations

import datetime as _dt
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["mock_metadata", "mock_nwbfile"]


def mock_metadata(*, subject_id: str = "AP071", session_id: str = "day01") -> dict[str, Any]:
    """NeuroConv-style metadata (``NWBFile`` and ``Subject`` sections) that DANDI accepts.

    Parameters
    ----------
    subject_id, session_id : str
        Identifiers of the mouse and the session.

    Returns
    -------
    dict
        ``{"NWBFile": {...}, "Subject": {...}}``, ready for ``BaseDataInterface.run_conversion``.

    Examples
    --------
    >>> mock_metadata()["Subject"]["species"]
    'Mus musculus'
    """
    return {
        "NWBFile": {
            "session_description": "Cued lever-press training with two-photon imaging of motor cortex.",
            "identifier": str(uuid.uuid4()),
            "session_start_time": _dt.datetime(2014, 3, 1, 10, 0, tzinfo=_dt.timezone(_dt.timedelta(hours=-8))),
            "session_id": session_id,
            "experimenter": ["Peters, Andrew"],
            "lab": "Motor learning lab",
            "institution": "University of California San Diego",
            "experiment_description": "Motor cortex activity while mice learn a cued lever press.",
            "keywords": ["motor learning", "two-photon imaging", "lever press"],
        },
        "Subject": {
            "subject_id": subject_id,
            "species": "Mus musculus",
            "sex": "F",
            "age": "P60D",
            "genotype": "GAD-Cre;tdTomato",
            "strain": "C57BL/6J",
            "description": "Head-fixed mouse trained on a cued lever press.",
        },
    }


def mock_nwbfile(*, subject_id: str = "AP071", session_id: str = "day01") -> NWBFile:
    """An empty in-memory ``NWBFile`` whose metadata pass nwbinspector's DANDI checks.

    Examples
    --------
    >>> mock_nwbfile().subject.species
    'Mus musculus'
    """
    from pynwb import NWBFile
    from pynwb.file import Subject

    meta = mock_metadata(subject_id=subject_id, session_id=session_id)
    nwbfile = NWBFile(**meta["NWBFile"])
    nwbfile.subject = Subject(**meta["Subject"])
    return nwbfile
