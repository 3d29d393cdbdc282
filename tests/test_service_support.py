"""Shared by the service tests: a real systemd notification socket to listen on.

(Named ``test_service_*`` to live with the service tests; it holds helpers, no tests.)
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.broker import wait_until


@dataclass(frozen=True)
class Notification:
    at: float  # time.monotonic() on arrival
    fields: dict[str, str]


class NotifyListener:
    """What systemd does with ``$NOTIFY_SOCKET``: an AF_UNIX datagram socket, here either a
    file path or (``abstract=True``) a name in the Linux abstract namespace (``@name``).

    Every datagram is parsed into ``KEY=value`` fields and kept with its arrival time.
    """

    def __init__(self, *, abstract: bool) -> None:
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._folder: str | None = None
        if abstract:
            name = f"ronda-test-{uuid.uuid4().hex}"
            self.socket.bind("\0" + name)
            self.env_value = "@" + name
        else:
            # Short path: AF_UNIX paths are limited to 107 bytes, pytest's tmp_path can be longer.
            self._folder = tempfile.mkdtemp(prefix="ronda-notify-")
            path = os.path.join(self._folder, "notify.sock")
            self.socket.bind(path)
            self.env_value = path
        self.socket.settimeout(0.1)
        self.messages: list[Notification] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.socket.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self._lock:
                self.messages.append(Notification(time.monotonic(), fields))

    def env(self, watchdog_s: float | None = None) -> dict[str, str]:
        env = {"NOTIFY_SOCKET": self.env_value}
        if watchdog_s is not None:
            env["WATCHDOG_USEC"] = str(int(watchdog_s * 1e6))
        return env

    def with_field(self, key: str, value: str | None = None) -> list[Notification]:
        with self._lock:
            return [
                m
                for m in self.messages
                if key in m.fields and (value is None or m.fields[key] == value)
            ]

    def wait_for(self, key: str, value: str | None = None, timeout: float = 30) -> Notification:
        assert wait_until(lambda: bool(self.with_field(key, value)), timeout), (
            f"no {key}={value or '*'} within {timeout} s; got {self.messages}"
        )
        return self.with_field(key, value)[0]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.socket.close()
        if self._folder is not None:
            Path(self._folder, "notify.sock").unlink(missing_ok=True)
            os.rmdir(self._folder)
