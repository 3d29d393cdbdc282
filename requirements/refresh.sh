#!/usr/bin/env bash
# Refresh the lock on purpose: re-resolve pyproject.toml for every supported platform (x86_64
# and aarch64 Linux, Python 3.11 to 3.13) and export the hashed requirements files that every
# installer reads with plain pip.  Needs uv (pip install uv); nothing else does.
#
#   bash requirements/refresh.sh                  # keep locked versions, add what pyproject needs
#   bash requirements/refresh.sh --upgrade        # move everything to the newest allowed release
#   bash requirements/refresh.sh --upgrade-package numpy
#
# Then run ./run-tests.sh on the new lock and commit the lock alone ("a dependency bump is its
# own commit with the suite run on it").
set -euo pipefail
cd "$(dirname "$0")/.."
uv lock "$@"
export_lock() {  # FILE [uv export options]: the project itself is installed separately, --no-deps
    local file=$1
    shift
    uv export --frozen --no-emit-project --format requirements-txt "$@" \
        | sed "s|^#    uv export .*|#    bash requirements/refresh.sh|" > "requirements/$file"
}
export_lock runtime.txt --group build
export_lock test.txt --extra test --group build
bash tests/homeassistant/lock.sh
echo "requirements/: runtime.txt test.txt homeassistant.txt refreshed from uv.lock"
