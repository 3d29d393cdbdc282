"""The systemd notification protocol (sd_notify), without libsystemd or a Python dependency.

The protocol is one datagram of ``KEY=value`` lines sent to the AF_UNIX socket named by
``$NOTIFY_SOCKET`` (a leading ``@`` means the Linux abstract namespace).  Writing it ourselves
is a dozen lines, whereas the bindings would be a compiled dependency on a Pi Zero.  Without
``$NOTIFY_SOCKET`` (run from a shell, in tests, under another supervisor) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)

NOTIFY_SOCKET = "NOTIFY_SOCKET"
WATCHDOG_USEC = "WATCHDOG_USEC"
WATCHDOG_PID = "WATCHDOG_PID"


def socket_address(name: str) -> str | None:
    """``$NOTIFY_SOCKET`` as a ``socket.connect`` address; None for kinds we do not speak."""
    if name.startswith("@"):
        return "\0" + name[1:]
    if name.startswith("/"):
        return name
    # vsock: addresses are for VMs and containers talking to a host systemd; not a camera's case.
    return None


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds systemd allows between ``WATCHDOG=1`` pings, or None without a watchdog.

    ``$WATCHDOG_PID``, when present, names the process the watchdog is meant for; a child that
    inherited the environment must not ping on its parent's behalf.
    """
    env = os.environ if environ is None else environ
    pid = env.get(WATCHDOG_PID)
    if pid and pid.strip() != str(os.getpid()):
        return None
    try:
        usec = int(env.get(WATCHDOG_USEC, ""))
    except ValueError:
        return None
    return usec / 1e6 if usec > 0 else None


class Notifier:
    """Sends notifications to systemd; every method is a cheap no-op when not under systemd.

    A failed send is logged once and never raised: the camera must keep running even if the
    notification socket went away (a ``systemctl daemon-reexec`` recreates it).
    """

    def __init__(self, address: str | None) -> None:
        self.address = address
        self._socket: socket.socket | None = None
        self._failed = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        name = env.get(NOTIFY_SOCKET, "")
        address = socket_address(name) if name else None
        if name and address is None:
            log.warning("NOTIFY_SOCKET %s is not a Unix socket; not notifying systemd", name)
        return cls(address)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *fields: str) -> bool:
        """Send ``KEY=value`` fields as one datagram; True when it left the process."""
        if self.address is None:
            return False
        message = "\n".join(fields).encode("utf-8", "replace")
        try:
            if self._socket is None:
                self._socket = socket.socket(
                    socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                )
            self._socket.sendto(message, self.address)
        except OSError as error:
            if not self._failed:
                log.warning("cannot notify systemd on %r: %s", self.address, error)
            self._failed = True
            self.close()
            return False
        self._failed = False
        return True

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def status_field(text: str) -> str:
    """A ``STATUS=`` field: one line (a newline would start another field)."""
    return "STATUS=" + " ".join(text.split())
