"""Which process owns a state directory: the one holding ``<state dir>/ronda.lock``.

What a process left behind (open events, clips still marked ``recording``) is cleaned up at the
next start, but only by a process that knows the one that left it is gone: a ``ronda replay``
pointed at the state directory of a running camera must not end the camera's open events or
close its clip under it.  An advisory ``flock`` answers that exactly: the kernel drops it when
its holder exits, however it exits (SIGKILL, a watchdog kill, a power cut leaves no lock behind).
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from camera.files import describe_os_error, shown

log = logging.getLogger(__name__)

LOCK_NAME = "ronda.lock"


class StateLock:
    """Held from ``acquire`` to ``release`` (or the process's end)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> bool:
        """True when this process now owns the directory.  False when another process holds it;
        also True (with a warning) when the lock file cannot be used at all, because a crash
        left behind is far more likely than two cameras sharing one directory."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as error:
            log.warning("cannot use %s (%s): cleaning up after the last run anyway",
                        shown(self.path), describe_os_error(error))  # fmt: skip
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            log.info("another Ronda process uses %s: what it has open is left to it",
                     shown(self.path.parent))  # fmt: skip
            return False
        except OSError as error:  # a file system without locks
            os.close(fd)
            log.warning("cannot lock %s (%s): cleaning up after the last run anyway",
                        shown(self.path), describe_os_error(error))  # fmt: skip
            return True
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
