"""Battery charge from a PiSugar board through pisugar-server's text protocol.

The server listens on TCP port 8423 and on a Unix socket; a request is a line (``get battery``)
and the answer a line with the same name as prefix (``battery: 87.5``).  The same connection also
carries pushed events (button presses such as ``single`` or ``long``), so answers are matched by
prefix and everything else skipped.  One short connection per poll keeps no state to go stale
when the server restarts.
"""

from __future__ import annotations

import socket
import time

from camera.governor.sensors.battery import BatteryReading
from camera.governor.sensors.health import Health


class PiSugarBattery:
    """Queries ``get battery`` and ``get battery_charging``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8423,
        socket_path: str | None = None,
        timeout_s: float = 0.5,
    ) -> None:
        self.host = host
        self.port = port
        self.socket_path = socket_path
        self.timeout_s = timeout_s
        self.health = Health("battery (PiSugar)")

    @property
    def source(self) -> str:
        where = self.socket_path or f"{self.host}:{self.port}"
        return f"pisugar:{where}"

    def read(self) -> BatteryReading | None:
        deadline = time.monotonic() + self.timeout_s
        try:
            with self._connect() as conn:
                lines = _Lines(conn, deadline)
                percent = float(lines.ask("battery"))
                charging_text = lines.ask("battery_charging").lower()
        except FileNotFoundError:
            self.health.absent(f"no PiSugar socket at {self.socket_path}")
            return None
        except ConnectionRefusedError:
            self.health.absent(f"no pisugar-server at {self.source}")
            return None
        except TimeoutError:
            self.health.failed(f"{self.source}: no answer within {self.timeout_s:g} s")
            return None
        except (OSError, ValueError) as exc:
            self.health.failed(f"{self.source}: {exc}")
            return None
        if not 0.0 <= percent <= 100.0:
            self.health.failed(f"{self.source}: implausible {percent:g} %")
            return None
        self.health.ok()
        charging = {"true": True, "false": False}.get(charging_text)
        return BatteryReading(percent, charging)

    def _connect(self) -> socket.socket:
        if self.socket_path:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(self.timeout_s)
            try:
                conn.connect(self.socket_path)
            except OSError:
                conn.close()
                raise
            return conn
        return socket.create_connection((self.host, self.port), timeout=self.timeout_s)


class _Lines:
    """Line reader over one connection, bounded by a shared deadline for the whole poll."""

    def __init__(self, conn: socket.socket, deadline: float) -> None:
        self.conn = conn
        self.deadline = deadline
        self.buffer = b""

    def ask(self, name: str) -> str:
        """Send ``get <name>`` and return the value of the first ``<name>: value`` line."""
        self.conn.sendall(f"get {name}\n".encode())
        prefix = f"{name}:"
        while True:
            line = self._line()
            if line.startswith(prefix):
                return line[len(prefix) :].strip()

    def _line(self) -> str:
        while b"\n" not in self.buffer:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            self.conn.settimeout(remaining)
            chunk = self.conn.recv(4096)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode("utf-8", "replace").strip()
