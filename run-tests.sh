#!/usr/bin/env bash
# One command to install what the tests need and run all of them (CI runs exactly this).
# System packages: mosquitto (the tests start their own brokers on free loopback ports),
# mosquitto-clients, openssl (TLS tests make their own certificates), systemd (unit verification),
# chromium (the web page's browser tests drive Debian's Chromium; nothing downloads a browser).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
missing=()
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_passwd >/dev/null || missing+=(mosquitto-clients)
command -v openssl >/dev/null || missing+=(openssl)
command -v systemd-analyze >/dev/null || missing+=(systemd)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# Home Assistant 2024.1 in its own venv checks the discovery payloads and the phone-alert
# blueprint for real (about 2 min the first time; again when setup_ha.sh changed, which its
# stamp in the venv tells). If it cannot be built, those tests skip and say so; everything else
# still runs.
ha_stamp=$(sha256sum tests/homeassistant/setup_ha.sh | cut -d' ' -f1)
if [ "${RONDA_SKIP_HA:-0}" != 1 ] \
    && [ "$(cat "${RONDA_HA_VENV:-.venv-ha}/ronda-setup.sha256" 2>/dev/null)" != "$ha_stamp" ]; then
    PYTHON="$PYTHON" bash tests/homeassistant/setup_ha.sh \
        || echo "run-tests.sh: the Home Assistant venv could not be built; its test will skip" >&2
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy                                  # camera/, settings in pyproject.toml
.venv/bin/mkdocs build --strict --quiet --site-dir "$(mktemp -d)"   # the manual, warnings fail
exec .venv/bin/python -m pytest -q "$@"
