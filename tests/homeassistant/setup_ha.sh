#!/usr/bin/env bash
# Build the separate Home Assistant venv that tests/test_homeassistant_discovery.py runs against.
#
# Home Assistant is never a Ronda dependency: it lives in its own venv (default .venv-ha beside
# the repo's .venv; override with RONDA_HA_VENV) and only the heavy, opt-in test uses it.
# Its dependencies are pinned with the constraints file Home Assistant ships (the versions it was
# released with; without it pip backtracks for minutes over the bluetooth stack), and everything
# the test's integrations would pip-install at first start is installed here, so the test runs
# Home Assistant with --skip-pip and needs no network.  Prints how long the install took.
set -euo pipefail
cd "$(dirname "$0")/../.."
HA_VERSION=${HA_VERSION:-2024.1.6}
VENV=${RONDA_HA_VENV:-.venv-ha}
PYTHON=${PYTHON:-python3}
started=$(date +%s)
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
"${pip[@]}" --no-deps "homeassistant==$HA_VERSION"
constraints=$("$VENV/bin/python" -c \
    "import homeassistant, pathlib; print(pathlib.Path(homeassistant.__file__).parent / 'package_constraints.txt')")
# The integrations the test loads (http, auth, api, config, mqtt with file_upload, image) and
# their requirements, as pinned in Home Assistant's manifests.
"${pip[@]}" -c "$constraints" \
    "homeassistant==$HA_VERSION" \
    "paho-mqtt==1.6.1" \
    "aiohttp_cors==0.7.0" \
    "aiohttp-fast-url-dispatcher==0.3.0" \
    "aiohttp-zlib-ng==0.1.3" \
    "janus==1.0.0"
"$VENV/bin/python" -c "import homeassistant.const as c; print('homeassistant', c.__version__)"
echo "Home Assistant venv ready in $VENV after $(( $(date +%s) - started )) s"
