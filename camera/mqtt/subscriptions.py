"""Topics the link listens to (Home Assistant's ``online``, the retained stats for ``status``):
subscribed again after every connect, SUBACKs awaited on a drain, handlers isolated.

A handler that raises is logged and the link carries on: a dead network thread would silently
stop every alert.  paho never re-sends a SUBSCRIBE, so the SUBACKs awaited are forgotten on a
new connection and everything is subscribed again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("camera.mqtt.link")

Handler = Callable[[bytes], None]


class Subscriptions:
    """See the module docstring.  Thread-safe."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self._due = threading.Event()
        self._awaited: set[int] = set()
        self._lock = threading.Lock()

    def add(self, topic: str, handler: Handler) -> None:
        self.handlers[topic] = handler
        self._due.set()

    def reconnected(self) -> None:
        """The old connection's subscriptions are gone: subscribe everything again."""
        with self._lock:
            self._awaited.clear()
        self._due.set()

    def take_due(self) -> list[str]:
        """Topics to subscribe now (all of them, once after ``add`` or ``reconnected``)."""
        if not self._due.is_set():
            return []
        self._due.clear()
        return list(self.handlers)

    def sent(self, mid: int) -> None:
        with self._lock:
            self._awaited.add(mid)

    def acknowledged(self, mid: int) -> None:
        with self._lock:
            self._awaited.discard(mid)

    def busy(self) -> bool:
        with self._lock:
            return bool(self._awaited)

    def dispatch(self, topic: str, payload: bytes) -> None:
        handler = self.handlers.get(topic)
        if handler is None:
            return
        try:
            handler(payload)
        except Exception:
            log.exception("handler for MQTT topic %s failed", topic)
