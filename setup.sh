#!/usr/bin/env bash
# One command from a fresh clone to a working Ronda: a virtual environment with Ronda and the
# demo's photos installed, then `ronda demo` (no camera, no broker needed).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup.sh: Ronda needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi
# On a Pi, picamera2 and libcamera come from apt (python3-picamera2): let the venv see them.
SITE=""
if "$PYTHON" -c 'import picamera2' 2>/dev/null; then SITE="--system-site-packages"; fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv $SITE .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[demo]'
exec .venv/bin/ronda demo "$@"
