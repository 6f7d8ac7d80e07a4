#!/usr/bin/env bash
# Run the checks and the test suite against the installed package: bash scripts/test.sh [pytest args]
# ruff (lint + import order) and mypy check the source; pytest (docstring examples included) runs
# on the installed wheel. NWBMOTOR_SKIP_LINT=1 skips the static checks (for quick local runs).
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$ROOT"
if [ "${NWBMOTOR_SKIP_LINT:-0}" != "1" ]; then
  echo "==> ruff"
  "$VENV/bin/ruff" check nwbmotor converters extensions tests benchmarks
  echo "==> mypy"
  "$VENV/bin/mypy" --no-error-summary nwbmotor && echo "mypy: no issues"
fi
# The pytest script (not `python -m pytest`) keeps the checkout off sys.path, and
# NWBMOTOR_TEST_INSTALLED makes tests/conftest.py refuse to run against the checkout.
export NWBMOTOR_TEST_INSTALLED=1 MPLBACKEND=Agg
set +e
"$VENV/bin/pytest" "$@"
status=$?
set -e
exit $status
