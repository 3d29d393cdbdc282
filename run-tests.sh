#!/usr/bin/env bash
# One command to install what the tests need and run all of them (CI runs exactly this).
#
#   ./run-tests.sh [PYTEST ARGS]            the locked versions (requirements/test.txt) in .venv
#   ./run-tests.sh --latest [PYTEST ARGS]   the newest releases pyproject.toml allows, in
#                                           .venv-latest: drift seen before it bites
#
# System packages: mosquitto (the tests start their own brokers on free loopback ports),
# mosquitto-clients, openssl (TLS tests make their own certificates), systemd (unit verification),
# chromium (the web page's browser tests drive Debian's Chromium; nothing downloads a browser),
# systemd-container and mmdebstrap (tests/test_service_container.py boots a Debian with systemd in
# systemd-nspawn; its root is built once into /var/cache/ronda-test, see tests/nspawn.py).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
LATEST=0
if [ "${1:-}" = "--latest" ]; then
    LATEST=1
    shift
fi
missing=()
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_passwd >/dev/null || missing+=(mosquitto-clients)
command -v openssl >/dev/null || missing+=(openssl)
command -v systemd-analyze >/dev/null || missing+=(systemd)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ "$LATEST" = 1 ]; then
    VENV=.venv-latest
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade --upgrade-strategy eager -e '.[test]'
    export RONDA_UNLOCKED=1   # tests/test_lock.py: installed versions are not the lock's here
    "$VENV/bin/python" -m pip list --format freeze > "$VENV/versions.txt"
    echo "run-tests.sh --latest:" $(grep -iE \
        '^(numpy|opencv-python-headless|av|mypy|ai-edge-litert|aiohttp|pydantic|paho-mqtt)==' \
        "$VENV/versions.txt")
else
    # The lock (requirements/README.md): every version and hash as CI tested them; the project
    # itself without dependencies, built by the locked hatchling.
    VENV=.venv
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --require-hashes -r requirements/test.txt
    "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
fi
# Home Assistant 2024.1 in its own venv checks the discovery payloads and the phone-alert
# blueprint for real (about 2 min the first time; again when setup_ha.sh changed, which its
# stamp in the venv tells). If it cannot be built, those tests skip and say so; everything else
# still runs.
ha_stamp=$(cat tests/homeassistant/setup_ha.sh requirements/homeassistant.txt | sha256sum | cut -d' ' -f1)
if [ "${RONDA_SKIP_HA:-0}" != 1 ] \
    && [ "$(cat "${RONDA_HA_VENV:-.venv-ha}/ronda-setup.sha256" 2>/dev/null)" != "$ha_stamp" ]; then
    PYTHON="$PYTHON" bash tests/homeassistant/setup_ha.sh \
        || echo "run-tests.sh: the Home Assistant venv could not be built; its test will skip" >&2
fi
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy"                                # camera/ and tools/, settings in pyproject.toml
"$VENV/bin/mkdocs" build --strict --quiet --site-dir "$(mktemp -d)"   # the manual, warnings fail
# Two workers (pytest-xdist), a test file per worker at a time so that a module's broker, Home
# Assistant or camera is started once: about 13 min instead of 19 on 2 cores.
# RONDA_TEST_WORKERS=0 runs everything in this one process (debugging, pdb).
exec "$VENV/bin/python" -m pytest -q -n "${RONDA_TEST_WORKERS:-2}" --dist loadfile "$@"
