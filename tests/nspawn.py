"""A Debian bookworm with systemd as PID 1, booted in ``systemd-nspawn``: the real service
manager for tests of the unit, the installer and the watchdog.

The root (systemd, python3, a wheelhouse of Ronda's dependencies) is built once by
``tests/container/build-root.sh`` and cached outside the repository, in
``$RONDA_TEST_CACHE`` (default ``/var/cache/ronda-test``), under a name keyed by a hash of
everything that goes into it; a changed script or dependency list builds a new root and removes
the old one.  Each boot runs on a throw-away overlay (``--volatile=overlay``), so the cached
root is never changed and a test always starts from the same machine.

The host's PID 1 need not be systemd: ``--register=no --keep-unit`` keep nspawn away from
machined and the host's service manager.  Commands run inside through ``nsenter`` into the
container's PID 1, with a clean environment.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.broker import wait_until
from tests.cli_helpers import REPO

CACHE = Path(os.environ.get("RONDA_TEST_CACHE", "/var/cache/ronda-test"))
BUILDER = REPO / "tests" / "container" / "build-root.sh"
REQUIREMENTS = REPO / "tests" / "container" / "requirements.py"
WHEELS = "/opt/wheels"
"""The wheelhouse inside the root: install with ``--no-index --find-links`` this."""
TOOLS = {
    "systemd-nspawn": "systemd-container",
    "mmdebstrap": "mmdebstrap",
    "nsenter": "util-linux",
}
CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}


def cannot_boot_reason() -> str | None:
    """Why this machine cannot boot a container (a skip reason), or None when it can."""
    if os.geteuid() != 0:
        return "booting a systemd-nspawn container needs root"
    for tool, package in TOOLS.items():
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install {package}; run-tests.sh does)"
    if not Path("/sys/fs/cgroup").is_dir():
        return "no /sys/fs/cgroup: systemd cannot run as a container's PID 1 here"
    return None


def root_key(arch: str) -> str:
    """A hash of what goes into the root: the builder, the dependencies (pyproject.toml, the
    lock when there is one), the architecture."""
    digest = hashlib.sha256(arch.encode())
    digest.update(BUILDER.read_bytes())
    digest.update(REQUIREMENTS.read_bytes())
    for wheels_from in (REPO / "pyproject.toml", REPO / "requirements" / "runtime.txt"):
        digest.update(wheels_from.read_bytes() if wheels_from.is_file() else b"")
    return digest.hexdigest()[:16]


def debian_root(arch: str = "amd64", timeout: float = 900) -> Path:
    """The cached root for ``arch``, built first if this key has none (under a lock per
    architecture, so two test processes build it once)."""
    prefix = f"bookworm-{arch}-"
    root = CACHE / f"{prefix}{root_key(arch)}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f".lock-{arch}").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not root.is_dir():
            built = subprocess.run(
                [str(BUILDER), arch, str(root)], capture_output=True, text=True, timeout=timeout
            )
            if built.returncode != 0:
                raise RuntimeError(
                    f"{BUILDER.name} {arch} failed ({built.returncode}): {built.stderr[-3000:]}"
                )
            for old in CACHE.glob(f"{prefix}*"):
                if old != root and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
    return root


class Machine:
    """One booted container; ``binds`` maps host paths to read-only paths inside."""

    def __init__(self, root: Path, log: Path, binds: dict[Path, str] | None = None) -> None:
        self.root = root
        self.log = log
        self.binds = binds or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.leader = 0
        """Host PID of the container's PID 1 (systemd)."""

    def boot(self, timeout: float = 60) -> None:
        command = [
            "systemd-nspawn",
            "--quiet",
            "--register=no",
            "--keep-unit",
            "--volatile=overlay",
            "--console=passive",
            f"--directory={self.root}",
            *(f"--bind-ro={host}:{inside}" for host, inside in self.binds.items()),
            "--boot",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        if not wait_until(lambda: self._exited() or self._pid1() != 0, timeout):
            raise RuntimeError(f"the container's PID 1 did not appear: {self.log.read_text()}")
        if self._exited():
            raise RuntimeError(f"systemd-nspawn exited: {self.log.read_text()[-3000:]}")
        self.leader = self._pid1()
        if not wait_until(self._booted, timeout, interval=0.2):
            state = self.run(["systemctl", "--failed", "--no-pager"], check=False).stdout
            raise RuntimeError(f"the container did not finish booting: {state}")

    def _pid1(self) -> int:
        """The host PID of nspawn's child that runs systemd (nspawn forks a short-lived helper
        first, so the first child is not necessarily it)."""
        assert self.process is not None
        pid = self.process.pid
        for child in _read(Path(f"/proc/{pid}/task/{pid}/children")).split():
            if _read(Path(f"/proc/{child}/comm")).strip() == "systemd":
                return int(child)
        return 0

    def _exited(self) -> bool:
        return self.process is None or self.process.poll() is not None

    def _booted(self) -> bool:
        state = self.run(["systemctl", "is-system-running"], check=False).stdout.strip()
        return state in ("running", "degraded")

    def run(
        self, argv: Sequence[str], *, check: bool = True, timeout: float = 60, cwd: str = "/"
    ) -> subprocess.CompletedProcess[str]:
        """``argv`` inside the container (all its namespaces), as root, clean environment."""
        result = subprocess.run(
            ["nsenter", f"--target={self.leader}", "--all", "--", "env", f"--chdir={cwd}", *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=CLEAN_ENV,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(argv)} exited {result.returncode}: {result.stdout}{result.stderr}"
            )
        return result

    def write(self, path: str, text: str) -> None:
        """A file inside the container (through its overlay)."""
        self.run(["mkdir", "-p", str(Path(path).parent)])
        subprocess.run(
            ["nsenter", f"--target={self.leader}", "--all", "--", "tee", path],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            env=CLEAN_ENV,
        )

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        """``systemctl show`` properties of ``unit``."""
        shown = self.run(["systemctl", "show", unit, *(f"--property={p}" for p in properties)])
        return dict(line.partition("=")[::2] for line in shown.stdout.splitlines())

    def journal(self, unit: str) -> str:
        return self.run(["journalctl", "--no-pager", "--unit", unit], check=False).stdout

    def shutdown(self, timeout: float = 30) -> None:
        """Power the container off (nspawn asks its systemd to on SIGTERM); kill if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
