#!/usr/bin/env bash
# Run the whole nwbmotor path on the built-in example: bash scripts/demo.sh [-o DIR]
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
export MPLBACKEND=Agg
exec "$VENV/bin/nwbmotor" demo "$@"
