from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from nwbmotor import SessionMetadata, SubjectMetadata

GOOD_SUBJECT = {"subject_id": "AP071", "species": "Mus musculus", "sex": "F", "age": "P60D"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("age", "90 days", r"age '90 days' is not an ISO 8601 duration; write 'P90D'"),
        ("age", "12 weeks", r"write 'P12W'"),
        ("age", "P90", r"write 'P90D'"),
        ("species", "mouse", r"species 'mouse' is neither a Latin binomial nor an NCBI taxonomy URL; write 'Mus musculus'"),
        ("species", "mus musculus", r"neither a Latin binomial"),
        ("sex", "female", r"sex 'female' must be one of 'M', 'F', 'O', 'U'; write 'F'"),
        ("subject_id", "AP_071", r"subject_id 'AP_071' may hold only letters, digits and '-'.*write 'AP-071'"),
        ("subject_id", "AP/071", r"may hold only letters"),
    ],
)
def test_subject_errors_name_field_value_and_fix(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SubjectMetadata(**{**GOOD_SUBJECT, field: value})


@pytest.mark.parametrize(
    "species", ["Mus musculus", "Rattus norvegicus", "http://purl.obolibrary.org/obo/NCBITaxon_10090"]
)
def test_species_forms_dandi_accepts(species: str) -> None:
    assert SubjectMetadata(**{**GOOD_SUBJECT, "species": species}).species == species


@pytest.mark.parametrize("age", ["P60D", "P8W", "P1Y2M", "P90D/P100D", "PT36H"])
def test_iso_durations_accepted(age: str) -> None:
    assert SubjectMetadata(**{**GOOD_SUBJECT, "age": age}).age == age


def test_age_or_date_of_birth_required() -> None:
    no_age = {k: v for k, v in GOOD_SUBJECT.items() if k != "age"}
    with pytest.raises(ValidationError, match="neither age nor date_of_birth.*add e.g. age: P60D"):
        SubjectMetadata(**no_age)
    born = SubjectMetadata(**no_age, date_of_birth="2014-01-01T00:00:00-08:00")
    assert born.date_of_birth.year == 2014


def test_session_start_needs_time_zone() -> None:
    with pytest.raises(ValidationError, match=r"has no time zone; write e.g. '2014-03-01T10:00:00-08:00'"):
        SessionMetadata(session_id="day01", session_start_time="2014-03-01T10:00:00", session_description="d")


def test_session_start_not_in_future() -> None:
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
    with pytest.raises(ValidationError, match="is in the future"):
        SessionMetadata(session_id="day01", session_start_time=future, session_description="d")


def test_unknown_field_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        SubjectMetadata(**GOOD_SUBJECT, colour="brown")
