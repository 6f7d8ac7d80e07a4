#!/usr/bin/env bash
# Run the test suite against the installed package: bash scripts/test.sh [pytest args]
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$ROOT"
# The pytest script (not `python -m pytest`) keeps the checkout off sys.path, and
# NWBMOTOR_TEST_INSTALLED makes tests/conftest.py refuse to run against the checkout.
export NWBMOTOR_TEST_INSTALLED=1 MPLBACKEND=Agg
set +e
"$VENV/bin/pytest" "$@"
status=$?
set -e
exit $status
