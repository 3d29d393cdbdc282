#!/usr/bin/env bash
# One command from a fresh clone to a working Ronda: a virtual environment with Ronda installed
# from the lock (requirements/runtime.txt: the versions the tests ran, hashes checked, plain
# pip), then `ronda demo` (no camera, no broker needed; its photos ship with Ronda).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup.sh: Ronda needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info >= (3, 14))'; then
    echo "setup.sh: the lock covers Python 3.11 to 3.13 ($PYTHON is $("$PYTHON" --version 2>&1));" \
        "use one of those, or install unlocked: .venv/bin/pip install -e ." >&2
    exit 1
fi
# On a Pi, picamera2 and libcamera come from apt (python3-picamera2): let the venv see them.
SITE=""
if "$PYTHON" -c 'import picamera2' 2>/dev/null; then SITE="--system-site-packages"; fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv $SITE .venv
.venv/bin/python -m pip install -q --require-hashes -r requirements/runtime.txt
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
exec .venv/bin/ronda demo "$@"
