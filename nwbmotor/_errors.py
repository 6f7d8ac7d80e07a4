"""The exceptions nwbmotor raises for bad input.

Every error caused by what a user handed over (a file, a spec, an argument) is an
:class:`NwbMotorError`. The two concrete kinds are also the builtin exceptions that
describe them, so ``except ValueError`` keeps working for callers who do not know
nwbmotor. The message names the file, the field, what was expected and what was found.
"""

from __future__ import annotations

__all__ = ["NwbMotorError", "NwbMotorValueError", "NwbMotorTypeError"]


class NwbMotorError(Exception):
    """Base class of every error nwbmotor raises for bad input."""


class NwbMotorValueError(NwbMotorError, ValueError):
    """A value is wrong: a malformed file, an out-of-range number, a missing field."""


class NwbMotorTypeError(NwbMotorError, TypeError):
    """A value has the wrong type: a string where a number belongs, a bad file kind."""
