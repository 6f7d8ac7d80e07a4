"""Shared fixtures. Tests run against the installed nwbmotor (scripts/test.sh)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import nwbmotor


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("NWBMOTOR_TEST_INSTALLED") == "1":
        where = Path(nwbmotor.__file__).resolve()
        if "site-packages" not in where.parts:
            raise pytest.UsageError(
                f"tests must run against the installed package, but nwbmotor was imported from {where}"
            )
