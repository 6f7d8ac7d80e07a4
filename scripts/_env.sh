# Shared set-up for scripts/test.sh and scripts/demo.sh: a virtual environment in .venv
# with the locked dependencies and nwbmotor installed from a built wheel (not the
# checkout), so that what runs is what users install. Needs only Python >= 3.11.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${NWBMOTOR_VENV:-$ROOT/.venv}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "nwbmotor needs Python >= 3.11; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
  exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
if [ ! -x "$VENV/bin/uv" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
fi
stamp="$VENV/.requirements.lock.sha256"
want="$(sha256sum "$ROOT/requirements.lock" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "==> installing locked dependencies"
  "$VENV/bin/uv" pip sync --quiet --python "$VENV/bin/python" "$ROOT/requirements.lock"
  echo "$want" > "$stamp"
fi
echo "==> building and installing nwbmotor from $ROOT"
# setuptools reuses build/lib: a module removed from the tree would otherwise stay in the wheel
rm -rf "$ROOT/build"
"$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --no-deps --reinstall-package nwbmotor "$ROOT"
