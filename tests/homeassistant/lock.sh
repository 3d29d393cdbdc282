#!/usr/bin/env bash
# Lock the Home Assistant test venv: compile requirements.in under the constraints file Home
# Assistant ships (the versions it was released with) into requirements/homeassistant.txt, with
# hashes, for the machines the tests run on (x86_64 Linux, Python 3.11).  Run by
# requirements/refresh.sh; needs uv.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/^homeassistant==//p' tests/homeassistant/requirements.in)
python3 -m pip download -q --no-deps --dest "$work" "homeassistant==$version"
python3 -m zipfile -e "$work"/homeassistant-*.whl "$work/wheel"
uv pip compile --quiet --generate-hashes --python-version 3.11 \
    --python-platform x86_64-manylinux_2_28 --no-header --no-annotate \
    -c "$work/wheel/homeassistant/package_constraints.txt" \
    tests/homeassistant/requirements.in -o "$work/homeassistant.txt"
{
    echo "# Home Assistant $version for the tests, locked by tests/homeassistant/lock.sh (x86_64, Python 3.11)."
    cat "$work/homeassistant.txt"
} > requirements/homeassistant.txt
