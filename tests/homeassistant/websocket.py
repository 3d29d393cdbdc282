"""Just enough of a WebSocket client (RFC 6455) for Home Assistant's websocket API, stdlib only.

Some of Home Assistant's configuration is reachable only over its websocket API (saving a
blueprint, as the UI's import dialog does).  The test venv has no websocket library and this is
the only use, so: the opening handshake, masked text frames out, unmasked frames in, and the
``auth`` exchange.  Text frames only; a close or an unexpected frame is an error.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
from typing import Any


class WebSocketError(RuntimeError):
    pass


class HomeAssistantSocket:
    """One authenticated connection to ``/api/websocket``; ``command()`` sends and waits."""

    def __init__(self, host: str, port: int, token: str, timeout: float = 30) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._buffer = b""
        self._next_id = 1
        key = base64.b64encode(os.urandom(16)).decode()
        self._sock.sendall(
            (
                f"GET /api/websocket HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = self._read_until(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise WebSocketError(f"websocket upgrade refused: {head[:200]!r}")
        if self.receive().get("type") != "auth_required":
            raise WebSocketError("Home Assistant did not ask for authentication")
        self.send({"type": "auth", "access_token": token})
        answer = self.receive()
        if answer.get("type") != "auth_ok":
            raise WebSocketError(f"websocket authentication failed: {answer}")

    def command(self, payload: dict[str, Any]) -> Any:
        """Send one command and return its result (raises with Home Assistant's error)."""
        message_id = self._next_id
        self._next_id += 1
        self.send({**payload, "id": message_id})
        while True:
            answer = self.receive()
            if answer.get("id") == message_id and answer.get("type") == "result":
                if not answer.get("success"):
                    raise WebSocketError(f"{payload['type']} failed: {answer.get('error')}")
                return answer.get("result")

    def send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        mask = os.urandom(4)
        if len(data) < 126:
            header = struct.pack("!BB", 0x81, 0x80 | len(data))
        elif len(data) < 1 << 16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, len(data))
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, len(data))
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))
        self._sock.sendall(header + mask + masked)

    def receive(self) -> dict[str, Any]:
        first, second = self._read_exact(2)
        opcode, length = first & 0x0F, second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read_exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read_exact(8))
        if second & 0x80:
            raise WebSocketError("the server sent a masked frame")
        payload = self._read_exact(length)
        if opcode != 0x1 or not first & 0x80:
            raise WebSocketError(f"unexpected websocket frame (opcode {opcode})")
        return json.loads(payload)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.sendall(struct.pack("!BB", 0x88, 0x80) + os.urandom(4))
        self._sock.close()

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            self._fill()
        head, self._buffer = self._buffer.split(marker, 1)
        return head

    def _read_exact(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._fill()
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _fill(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise WebSocketError("websocket closed by Home Assistant")
        self._buffer += chunk
