from __future__ import annotations

import pytest

import nwbmotor


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [(nwbmotor.NwbMotorValueError, ValueError), (nwbmotor.NwbMotorTypeError, TypeError)],
)
def test_errors_are_both_nwbmotor_and_builtin(cls: type, builtin: type) -> None:
    with pytest.raises(builtin):
        raise cls("x")
    with pytest.raises(nwbmotor.NwbMotorError):
        raise cls("x")


def test_public_names_resolve() -> None:
    missing = [name for name in nwbmotor.__all__ if not hasattr(nwbmotor, name)]
    assert missing == []
