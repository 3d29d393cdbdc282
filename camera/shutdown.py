"""How SIGINT/SIGTERM reach a running command: the first one stops, the second one stops waiting.

The first signal sets ``stop``: the frame loop ends after the current frame, open events end,
and the outbox is drained for up to ``mqtt.drain_timeout_s`` so the last alerts reach the phone.
A second signal means "now": the callbacks registered with :meth:`Shutdown.on_abandon` run
(``Runtime.cancel_drain``, ``MqttLink.cancel_drain``), the wait for the broker ends at once and
the process exits (code 3); nothing is lost, the outbox keeps every unacknowledged alert on disk
for the next run.  A command with no frame loop (``ronda flush``) abandons at the first signal.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)


class Shutdown:
    """The stop state of one command; :meth:`install` hooks it to SIGINT and SIGTERM."""

    def __init__(self, *, first_abandons: bool = False) -> None:
        self.stop = threading.Event()
        self.abandoned = threading.Event()
        self.first_abandons = first_abandons
        self._on_abandon: list[Callable[[], None]] = []

    def install(self) -> Shutdown:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)
        return self

    def on_abandon(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when waiting is abandoned (at once if it already was)."""
        self._on_abandon.append(callback)
        if self.abandoned.is_set():
            callback()

    def request(self) -> None:
        """What a signal does; callable directly (tests, the service monitor)."""
        if not self.stop.is_set() and not self.first_abandons:
            self.stop.set()
            return
        self.stop.set()
        if self.abandoned.is_set():
            return
        self.abandoned.set()
        log.warning("stopping now: not waiting for the broker; queued alerts stay on disk")
        for callback in self._on_abandon:
            callback()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        self.request()
