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
# A symlink to a venv that is gone (or to itself) is replaced by a venv of our own.
if [ -L "$VENV" ] && [ ! -x "$VENV/bin/python" ]; then rm "$VENV"; fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
"${pip[@]}" --no-deps "homeassistant==$HA_VERSION"
constraints=$("$VENV/bin/python" -c \
    "import homeassistant, pathlib; print(pathlib.Path(homeassistant.__file__).parent / 'package_constraints.txt')")
# The integrations the tests load (http, auth, api, config, mqtt with file_upload, image;
# automation and blueprint; mobile_app with person, image_upload and notify) and their
# requirements, as pinned in Home Assistant's manifests.  mobile_app also imports cloud at load
# (hass-nabucasa), which imports alexa, google_assistant (-> matter, stream: numpy, PyTurboJPEG)
# and assist_pipeline (conversation, tts, ffmpeg, webrtc-noise-gain): each is only imported, never
# set up, but the import needs the package.  The last group pins what those pull in and Home
# Assistant's constraints leave open, as resolved when this was written: josepy 2 removed
# ComparableX509, which the acme that hass-nabucasa pins still imports.
"${pip[@]}" -c "$constraints" \
    "homeassistant==$HA_VERSION" \
    "paho-mqtt==1.6.1" \
    "aiohttp_cors==0.7.0" \
    "aiohttp-fast-url-dispatcher==0.3.0" \
    "aiohttp-zlib-ng==0.1.3" \
    "janus==1.0.0" \
    "PyNaCl==1.5.0" \
    "Pillow==10.1.0" \
    "hass-nabucasa==0.75.1" \
    "python-matter-server==5.1.1" \
    "numpy==1.26.0" \
    "PyTurboJPEG==1.7.1" \
    "hassil==1.5.1" \
    "home-assistant-intents==2024.1.2" \
    "webrtc-noise-gain==1.2.3" \
    "mutagen==1.47.0" \
    "ha-ffmpeg==3.1.0" \
    "josepy==1.14.0" "acme==2.7.4" "pycognito==2023.5.0" "python-jose==3.4.0" "ecdsa==0.19.2" \
    "rsa==4.9.1" "pyRFC3339==2.1.1" "boto3==1.44.8" "botocore==1.44.8" "s3transfer==0.19.3" \
    "jmespath==1.1.0" "envs==1.4" "aenum==3.1.17" "aiorun==2025.1.1" "coloredlogs==15.0.1" \
    "humanfriendly==10.0" "dacite==1.9.2" "home-assistant-chip-clusters==2023.12.0" \
    "unicode-rbnf==1.0.0"
"$VENV/bin/python" -c "import homeassistant.const as c; print('homeassistant', c.__version__)"
"$VENV/bin/python" -c "import nacl.secret, hass_nabucasa, matter_server.client, hassil, numpy, PIL"
# The tests compare this with the script they run with: a venv built by an older version of this
# script (missing packages) is rebuilt by run-tests.sh rather than failing obscurely.
sha256sum tests/homeassistant/setup_ha.sh | cut -d' ' -f1 > "$VENV/ronda-setup.sha256"
echo "Home Assistant venv ready in $VENV after $(( $(date +%s) - started )) s"
