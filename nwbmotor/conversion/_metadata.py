"""Subject and session metadata, checked before anything is written.

The models accept what a lab writes in a spec (strings from YAML) and refuse, with the
field, the value and the fix, anything that DANDI's validators would reject: a species
that is neither a Latin binomial nor an NCBI taxon URL, a sex outside M/F/O/U, an age
that is not an ISO 8601 duration, a start time without a time zone, identifiers that
would break DANDI file names.
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from nwbmotor._safe_yaml import clip

__all__ = ["SubjectMetadata", "SessionMetadata", "SharedMetadata", "to_neuroconv_metadata"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_BINOMIAL = re.compile(r"^[A-Z][a-z]+ [a-z]+( [a-z]+)?$")
_NCBI = re.compile(r"^https?://purl\.obolibrary\.org/obo/NCBITaxon_\d+$")
_DURATION = re.compile(
    r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?(/P.*)?$"
)
_COMMON_SPECIES = {
    "mouse": "Mus musculus",
    "mice": "Mus musculus",
    "rat": "Rattus norvegicus",
    "human": "Homo sapiens",
    "macaque": "Macaca mulatta",
    "monkey": "Macaca mulatta",
    "zebrafish": "Danio rerio",
}
_UNIT_LETTER = {"year": "Y", "month": "M", "week": "W", "day": "D"}

NonEmpty = Annotated[str, Field(min_length=1)]


def _suggest_duration(text: str) -> str | None:
    """'90 days' -> 'P90D', 'P90' -> 'P90D', '12 weeks' -> 'P12W'."""
    m = re.fullmatch(r"\s*P?(\d+)\s*(year|month|week|day)?s?\s*(old)?\s*", text, flags=re.I)
    if m is None:
        return None
    letter = _UNIT_LETTER[(m.group(2) or "day").lower()]
    return f"P{m.group(1)}{letter}"


def _check_identifier(value: str, what: str) -> str:
    if not _ID.match(value):
        fix = re.sub(r"[^A-Za-z0-9-]+", "-", value).strip("-") or "AP071"
        raise ValueError(
            f"{what} {clip(value)} may hold only letters, digits and '-' (DANDI file names "
            f"are built from it: sub-<subject_id>_ses-<session_id>.nwb); write {clip(fix)}"
        )
    return value


def _control_character(text: str) -> str | None:
    return next((c for c in text if (ord(c) < 32 and c not in "\t\n\r") or 127 <= ord(c) < 160), None)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_default=True)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, v: Any, info: ValidationInfo) -> Any:
        # NUL cannot be stored in an NWB string and other control characters garble
        # DANDI's listings: refuse them here, before any source is read
        for text in v if isinstance(v, list) else [v]:
            if isinstance(text, str):
                bad = _control_character(text)
                if bad is not None:
                    raise ValueError(
                        f"{info.field_name} holds the control character {bad!r} at position {text.index(bad)}; "
                        f"expected printable text, got {clip(text)}"
                    )
        return v


class SubjectMetadata(_Model):
    """The animal (or simulated network) a session belongs to.

    Examples
    --------
    >>> SubjectMetadata(subject_id="AP071", species="Mus musculus", sex="F", age="P60D").age
    'P60D'
    """

    subject_id: NonEmpty
    species: NonEmpty
    sex: str
    age: str | None = None
    date_of_birth: _dt.datetime | None = None
    genotype: str | None = None
    strain: str | None = None
    description: str | None = None
    weight: str | None = None

    @field_validator("subject_id")
    @classmethod
    def _subject_id(cls, v: str) -> str:
        return _check_identifier(v, "subject_id")

    @field_validator("species")
    @classmethod
    def _species(cls, v: str) -> str:
        if _BINOMIAL.match(v) or _NCBI.match(v):
            return v
        fix = _COMMON_SPECIES.get(v.lower())
        hint = f"write {fix!r}" if fix else "e.g. 'Mus musculus' or 'http://purl.obolibrary.org/obo/NCBITaxon_10090'"
        raise ValueError(
            f"species {clip(v)} is neither a Latin binomial nor an NCBI taxonomy URL; {hint}"
        )

    @field_validator("sex")
    @classmethod
    def _sex(cls, v: str) -> str:
        if v in {"M", "F", "O", "U"}:
            return v
        fix = {"male": "M", "female": "F", "unknown": "U", "other": "O"}.get(v.lower(), "U")
        raise ValueError(f"sex {clip(v)} must be one of 'M', 'F', 'O', 'U'; write {fix!r}")

    @field_validator("age")
    @classmethod
    def _age(cls, v: str | None) -> str | None:
        if v is None or _DURATION.match(v):
            return v
        fix = _suggest_duration(v)
        hint = f"write {fix!r}" if fix else "write e.g. 'P90D' (90 days) or 'P12W' (12 weeks)"
        raise ValueError(f"age {clip(v)} is not an ISO 8601 duration; {hint}")

    @field_validator("date_of_birth")
    @classmethod
    def _dob(cls, v: _dt.datetime | None) -> _dt.datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError(
                f"date_of_birth {v.isoformat()!r} has no time zone; write e.g. '{v.date()}T00:00:00-08:00'"
            )
        return v

    @model_validator(mode="after")
    def _age_or_birth(self) -> SubjectMetadata:
        if self.age is None and self.date_of_birth is None:
            raise ValueError(
                f"subject {self.subject_id!r} has neither age nor date_of_birth; DANDI needs one: "
                "add e.g. age: P60D"
            )
        return self


class SharedMetadata(_Model):
    """Metadata shared by every session of a spec (the spec's ``metadata`` section)."""

    experimenter: list[NonEmpty] | None = None
    lab: str | None = None
    institution: str | None = None
    keywords: list[NonEmpty] | None = None
    experiment_description: str | None = None
    related_publications: list[NonEmpty] | None = None
    protocol: str | None = None

    @field_validator("experimenter", "keywords", "related_publications", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class SessionMetadata(SharedMetadata):
    """One recording (or simulation) session.

    Examples
    --------
    >>> s = SessionMetadata(session_id="day01", session_start_time="2014-03-01T10:00:00-08:00",
    ...                     session_description="lever-press training day 1")
    >>> s.session_start_time.utcoffset()
    datetime.timedelta(days=-1, seconds=57600)
    """

    session_id: NonEmpty
    session_start_time: _dt.datetime
    session_description: NonEmpty
    identifier: str | None = None

    @field_validator("session_id")
    @classmethod
    def _session_id(cls, v: str) -> str:
        return _check_identifier(v, "session_id")

    @field_validator("session_start_time")
    @classmethod
    def _start(cls, v: _dt.datetime) -> _dt.datetime:
        if v.tzinfo is None:
            raise ValueError(
                f"session_start_time {v.isoformat()!r} has no time zone; write e.g. "
                f"'{v.isoformat()}-08:00' (the offset of the lab's local time)"
            )
        if v > _dt.datetime.now(_dt.timezone.utc):
            raise ValueError(f"session_start_time {v.isoformat()!r} is in the future")
        if v.year < 1980:
            raise ValueError(f"session_start_time {v.isoformat()!r} is before 1980; check the year")
        return v


def to_neuroconv_metadata(
    subject: SubjectMetadata, session: SessionMetadata, shared: SharedMetadata | None = None
) -> dict[str, Any]:
    """Merge the three levels into NeuroConv's metadata layout (``NWBFile``, ``Subject``).

    Session values override shared ones. A fresh UUID identifier is made unless the
    session gives one.
    """
    nwbfile: dict[str, Any] = {}
    for level in (shared, session):
        if level is not None:
            nwbfile.update({k: v for k, v in level.model_dump().items() if v is not None})
    nwbfile.setdefault("identifier", str(uuid.uuid4()))
    protocol = nwbfile.pop("protocol", None)
    if protocol is not None:
        nwbfile["protocol"] = protocol
    subject_md = {k: v for k, v in subject.model_dump().items() if v is not None}
    return {"NWBFile": nwbfile, "Subject": subject_md}
