#!/usr/bin/env bash
# Build a minimal Debian bookworm root (systemd, python3) with a wheelhouse of Ronda's
# dependencies in /opt/wheels, for the container test (amd64) and the arm64 check.
#
#   tests/container/build-root.sh ARCH DEST
#
# Needs root, mmdebstrap and systemd-nspawn (apt-get install mmdebstrap systemd-container; for
# a foreign ARCH also qemu-user-static with its binfmt handler registered).  Downloads from
# Debian's mirror and PyPI, so the tests call it only to fill their cache (tests/nspawn.py:
# /var/cache/ronda-test, DEST keyed by a hash of this script and the requirements).  Two
# stages: the Debian base is kept beside DEST under its own key (the package list), so a
# dependency change only downloads the wheels again.  Built in a scratch copy, renamed into
# place when complete.
set -euo pipefail
arch=$1
dest=$2
cache=$(dirname "$dest")
mirror=${RONDA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# python3-venv for the installer's venv.  A root of this machine's architecture is booted
# (the container test): systemd as PID 1, dbus for logind and systemctl.  A foreign one (arm64
# under qemu) only runs commands, and every package's install scripts are slow under qemu.
packages=python3,python3-venv,ca-certificates
[ "$arch" = "$(dpkg --print-architecture)" ] && packages="systemd,systemd-sysv,dbus,$packages"
base="$cache/debian-bookworm-$arch-$(echo "$packages $mirror" | sha256sum | cut -c1-12)"
work="$dest.building.$$"
trap 'rm -rf "$work" "$base.building.$$"' EXIT
mkdir -p "$cache"

if [ ! -d "$base" ]; then
    mmdebstrap --quiet --variant=minbase --architectures="$arch" --include="$packages" \
        --customize-hook='echo uninitialized > "$1/etc/machine-id"' \
        bookworm "$base.building.$$" "$mirror"
    mv "$base.building.$$" "$base"
fi
cp -a "$base" "$work"

# The wheelhouse: Ronda's dependencies and build backend (the hashed lock when there is one);
# the tests then install with --no-index.  pip uses this machine's trust store: PyPI may sit
# behind a TLS-inspecting proxy whose certificate only the host knows.
"$(dirname "$0")/requirements.py" > "$work/opt/wheels.txt"
ca=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
systemd-nspawn --quiet --register=no --keep-unit --pipe -D "$work" \
    --bind-ro="$ca:/opt/host-ca.crt" --setenv=PIP_CERT=/opt/host-ca.crt \
    /bin/sh -euc '
        python3 -m venv /tmp/download
        /tmp/download/bin/pip download --quiet --disable-pip-version-check --only-binary=:all: \
            --dest /opt/wheels -r /opt/wheels.txt
        mv /opt/wheels.txt /opt/wheels/requirements.txt
        rm -rf /tmp/download /root/.cache
    '
rm -f "$work/opt/host-ca.crt"
mv "$work" "$dest"
trap - EXIT
