"""Topics the link listens to (Home Assistant's ``online``, the retained stats for ``status``):
subscribed again after every connect, SUBACKs awaited on a drain, handlers isolated.

A handler that raises is logged and the link carries on: a dead network thread would silently
stop every alert.  paho never re-sends a SUBSCRIBE, so the SUBACKs awaited are forgotten on a
new connection and everything is subscribed again.

A command topic takes no retained message: one left retained on ``<prefix>/armed/set`` by a
mistaken publisher would be applied again at every connect, overriding the state the owner
chose since.  Such a message is ignored with one log line per topic.
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
        self._fresh_only: set[str] = set()
        self._retained_logged: set[str] = set()
        self._due = threading.Event()
        self._awaited: set[int] = set()
        self._lock = threading.Lock()

    def add(self, topic: str, handler: Handler, *, retained: bool = True) -> None:
        """``retained`` False: retained messages on ``topic`` are ignored (commands)."""
        self.handlers[topic] = handler
        if not retained:
            self._fresh_only.add(topic)
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

    def dispatch(self, topic: str, payload: bytes, *, retained: bool = False) -> None:
        handler = self.handlers.get(topic)
        if handler is None:
            return
        if retained and topic in self._fresh_only:
            if topic not in self._retained_logged:
                self._retained_logged.add(topic)
                log.warning(
                    "ignoring the retained message on %s: a command must not be retained "
                    "(clear it with: mosquitto_pub -r -n -t '%s')",
                    topic,
                    topic,
                )
            return
        try:
            handler(payload)
        except Exception:
            log.exception("handler for MQTT topic %s failed", topic)
