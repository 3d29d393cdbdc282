"""Retained state (label ON/OFF, snapshots, stats, discovery): latest value wins, re-sent on
every connect; ON/OFF are transitions, kept in order.

A newer value replaces one not yet published, except for transitions: the ``ON`` then ``OFF`` of
a short event (or of one during an outage) must both reach Home Assistant, or an automation
waiting for ``ON`` never fires.  At most ``limit`` messages wait; beyond that only the latest
value of each topic is kept.  The link waits for the PUBACKs of state messages on a drain, so a
stop does not cut off the final ``OFF``.

Thread-safe: the frame loop puts, the link thread takes and acknowledges.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetainedMessage:
    payload: bytes
    qos: int = 1
    retain: bool = True


StateItem = tuple[str, RetainedMessage]


class RetainedState:
    """See the module docstring."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._latest: dict[str, RetainedMessage] = {}
        self._pending: list[StateItem] = []  # in put order
        self._awaited: set[int] = set()  # mids of state messages not yet acknowledged
        self._lock = threading.Lock()

    def put(self, topic: str, payload: bytes, *, retain: bool, transitions: bool) -> None:
        message = RetainedMessage(payload, retain=retain)
        with self._lock:
            self._latest[topic] = message
            if not transitions:
                self._pending = [item for item in self._pending if item[0] != topic]
            self._pending.append((topic, message))
            if len(self._pending) > self.limit:
                self._pending = list(self._latest.items())

    def resend_all(self) -> None:
        """Queue every latest value again: the transitions still pending first, then the
        latest value of every other topic."""
        with self._lock:
            pending = {topic for topic, _ in self._pending}
            self._pending += [(t, m) for t, m in self._latest.items() if t not in pending]

    def take(self) -> list[StateItem]:
        """Everything to publish now, in order (``requeue`` what paho would not take)."""
        with self._lock:
            pending, self._pending = self._pending, []
            return pending

    def requeue(self, items: list[StateItem]) -> None:
        with self._lock:
            self._pending[:0] = items

    def sent(self, mid: int) -> None:
        with self._lock:
            self._awaited.add(mid)

    def acknowledged(self, mid: int) -> None:
        with self._lock:
            self._awaited.discard(mid)

    def busy(self) -> bool:
        """Messages still to publish or to be acknowledged."""
        with self._lock:
            return bool(self._pending or self._awaited)
