#!/usr/bin/env bash
# The arm64 check: does Ronda install and give the same alerts on a 64-bit Raspberry Pi OS?
#
#   sudo tests/arm64/check.sh [VIDEO] [FRAMES]
#
# Builds (once, cached like the container test's root: tests/nspawn.py) a Debian bookworm arm64
# root with a wheelhouse from the lock (requirements/runtime.txt), runs it under qemu-user as a Pi 4 would look to Ronda
# (QEMU_CPU=cortex-a72, so only the A72's instructions; a Pi 4's /proc/cpuinfo bound over the
# host's, because TFLite picks its int8 kernels from it), installs Ronda there with pip from the
# wheelhouse, replays the first FRAMES (260) frames of VIDEO (the one-by-one person clip) with
# the float32 416 model, does the same on this machine, and compares the event updates: same types
# and labels in the same order, scores within 0.06, boxes within 4 px (tests/arm64/compare.py).
#
# Needs root, mmdebstrap, arch-test, systemd-container and qemu-user-static (its aarch64 binfmt
# handler is registered here if the host has not), and this checkout's .venv (run-tests.sh).
# Measured on a 2-core x86 machine at load 15-19: 36 min cold (17 min for the root: Debian's
# install scripts and pip under qemu), 19 min once the root is cached (pip install 3 min, Ronda timing its four
# model variants at the first start 11 min, the replay 5 min at 7.3 s per inference).  Too slow
# for CI: run it before a release and after a dependency bump (refresh.sh).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
video=${1:-tests/footage/clips/intel_one-by-one-person-detection.mp4}
frames=${2:-260}
variant=picodet-s416-float32
python=.venv/bin/python

binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/qemu-aarch64" ]; then
    [ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt"
    # The F flag (in Debian's file) opens qemu now, so it works inside the container too.
    cat /usr/lib/binfmt.d/qemu-aarch64.conf > "$binfmt/register"
fi

started=$(date +%s)
root=$($python -c 'from tests.nspawn import debian_root; print(debian_root("arm64", 3600))')
echo "check: arm64 root $root ready after $(($(date +%s) - started)) s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$python -m tests.arm64.compare cut "$video" "$work/clip.mp4" --frames "$frames"
printf 'camera:\n  name: arm64-check\ndetector:\n  variant: %s\n' "$variant" > "$work/ronda.yaml"
replay=(replay --config "$work/ronda.yaml" --no-mqtt --quiet)

$python -m camera "${replay[@]}" --state-dir "$work/x86" --events-jsonl "$work/x86.jsonl" \
    "$work/clip.mp4"

started=$(date +%s)
systemd-nspawn --quiet --register=no --keep-unit --pipe --volatile=overlay -D "$root" \
    --bind-ro="$repo:/src" --bind="$work:$work" --setenv=QEMU_CPU=cortex-a72 \
    /bin/sh -euc '
        mount --bind /src/tests/arm64/pi4-cpuinfo.txt /proc/cpuinfo
        python3 -m venv /opt/ronda/venv
        /opt/ronda/venv/bin/pip install --quiet --disable-pip-version-check --no-index \
            --find-links /opt/wheels -r /opt/wheels/requirements.txt
        /opt/ronda/venv/bin/pip install --quiet --disable-pip-version-check --no-index \
            --find-links /opt/wheels --no-deps --no-build-isolation /src
        echo "check: on arm64: $(uname -m), $(grep -m1 ^Model /proc/cpuinfo)"
        cd "$0" && /opt/ronda/venv/bin/ronda "$@" --state-dir "$0/arm64" \
            --events-jsonl "$0/arm64.jsonl" "$0/clip.mp4"
    ' "$work" "${replay[@]}"
echo "check: install and replay under qemu took $(($(date +%s) - started)) s"
$python -m tests.arm64.compare same "$work/x86.jsonl" "$work/arm64.jsonl"
