#!/usr/bin/env bash
# Build the separate Home Assistant venv that the Home Assistant tests run against.
#
# Home Assistant is never a Ronda dependency: it lives in its own venv (default .venv-ha beside
# the repo's .venv; override with RONDA_HA_VENV) and only the heavy tests use it.  It installs
# from requirements/homeassistant.txt, a hashed lock that tests/homeassistant/lock.sh compiles
# from tests/homeassistant/requirements.in under the constraints file Home Assistant ships (the
# versions it was released with), so every run gets the same Home Assistant.  Everything the
# tests' integrations would pip-install at first start is in it, so the tests run Home Assistant
# with --skip-pip and need no network.  --no-deps: the lock lists every package already, and pip
# in hash-checking mode would otherwise refuse an extra it sees only as ">=" (python-jose's).  Prints how long the install took.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${RONDA_HA_VENV:-.venv-ha}
PYTHON=${PYTHON:-python3}
started=$(date +%s)
# A symlink to a venv that is gone (or to itself) is replaced by a venv of our own.
if [ -L "$VENV" ] && [ ! -x "$VENV/bin/python" ]; then rm "$VENV"; fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# --no-compile: Home Assistant is thousands of modules and a test imports a few hundred of them;
# Python compiles those on first import (half the install time saved).
"$VENV/bin/python" -m pip install -q --no-compile --disable-pip-version-check --require-hashes \
    --no-deps -r requirements/homeassistant.txt
"$VENV/bin/python" -c "import homeassistant.const as c; print('homeassistant', c.__version__)"
"$VENV/bin/python" -c "import nacl.secret, hass_nabucasa, matter_server.client, hassil, numpy, PIL"
# The tests compare this with the script and the lock they run with: a venv built from an older
# script or lock is rebuilt by run-tests.sh rather than failing obscurely.
cat tests/homeassistant/setup_ha.sh requirements/homeassistant.txt | sha256sum | cut -d' ' -f1 \
    > "$VENV/ronda-setup.sha256"
echo "Home Assistant venv ready in $VENV after $(( $(date +%s) - started )) s"
