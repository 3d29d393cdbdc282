"""Tell systemd how the frame loop is doing: READY, WATCHDOG, STATUS and STOPPING.

The monitor is a pipeline frame hook, so every message is a consequence of a frame having gone
through the pipeline.  That is the whole point of the watchdog: a camera that stops delivering,
a detector that hangs or a loop that deadlocks stops the pings, and systemd restarts the
service.  A timer thread pinging on its own would keep a dead camera "healthy" forever.

- ``READY=1`` at the first processed frame: the model is loaded (the Runtime loads it before the
  source opens) and the camera delivers.
- ``WATCHDOG=1`` at most every ``WATCHDOG_USEC / 2``, the interval sd_watchdog_enabled(3)
  recommends, and only from a frame.
- ``STATUS=`` (what ``systemctl status ronda`` shows) with the processed frame rate, the
  governor level and the last event, every few seconds and at once when the level changes.
- ``STOPPING=1`` as soon as SIGTERM/SIGINT arrives, then the Runtime ends open events and
  flushes the outbox.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Mapping

from camera.pipeline import FrameOutcome, Pipeline
from camera.service.notify import Notifier, status_field, watchdog_interval
from camera.sources import FrameSource

log = logging.getLogger(__name__)

STATUS_INTERVAL_S = 10.0
START_EXTENSION_S = 60.0
"""Each report while the first frame waits on a known cause extends the start by this much:
well over the source's reporting interval (5 s), so a missed report is not a kill."""


class ServiceMonitor:
    """A frame hook (``RunOptions(hooks=[monitor])``) reporting to systemd; see the module doc."""

    def __init__(
        self,
        notifier: Notifier,
        *,
        watchdog_s: float | None = None,
        status_interval_s: float = STATUS_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.notifier = notifier
        self.ping_interval = watchdog_s / 2 if watchdog_s else None
        self.status_interval = status_interval_s
        self.clock = clock
        self.ready = False
        self.stopping_sent = False
        self.pings = 0
        self._pipeline: Pipeline | None = None
        self._next_ping = -float("inf")
        self._next_status = -float("inf")
        self._level: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ServiceMonitor:
        """Configured by systemd's ``$NOTIFY_SOCKET``, ``$WATCHDOG_USEC`` and ``$WATCHDOG_PID``."""
        return cls(Notifier.from_environment(environ), watchdog_s=watchdog_interval(environ))

    def attach(self, pipeline: Pipeline) -> None:
        """The pipeline whose stats and policy the STATUS line describes."""
        self._pipeline = pipeline

    # -- the frame hook ----------------------------------------------------------------------
    def __call__(self, outcome: FrameOutcome) -> None:
        if not self.notifier.enabled or self.stopping_sent:
            return
        now = self.clock()
        fields: list[str] = []
        # Privacy mode looks at no frame, yet the loop is healthy: a camera started in privacy
        # is ready too (else systemd would kill it at TimeoutStartSec).
        if not self.ready and (outcome.processed or outcome.privacy):
            self.ready = True
            fields.append("READY=1")
            log.info("first frame processed: service ready")
        if self.ping_interval is not None and now >= self._next_ping:
            self._next_ping = now + self.ping_interval
            self.pings += 1
            fields.append("WATCHDOG=1")
        level = outcome.policy.level
        if self.ready and (now >= self._next_status or level != self._level or "READY=1" in fields):
            self._next_status = now + self.status_interval
            self._level = level
            fields.append(status_field(self.describe(level)))
        if fields:
            self.notifier.send(*fields)

    def describe(self, level: str) -> str:
        """The STATUS line: ``9.8 fps, governor normal, last event: end person 7f3a…``."""
        if self._pipeline is None:
            return f"running, governor {level}"
        stats = self._pipeline.stats
        paused = "" if self._pipeline.policy.detect else " (detector paused)"
        return (
            f"{stats.recent_fps:.1f} fps, governor {level}{paused}, "
            f"last event: {stats.last_event or 'none'}"
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def status(self, text: str) -> None:
        """A free-form STATUS, e.g. while the model loads (before any frame)."""
        self.notifier.send(status_field(text))

    def camera_waiting(self, text: str) -> None:
        """The first frame is late for a known reason (the AI Camera's network firmware
        uploading, minutes the first time): say so in STATUS and, before READY, push systemd's
        start timeout out by ``START_EXTENSION_S`` from now, so a slow upload is a progress
        line, not a failed start.  The watchdog only runs once READY is sent."""
        if self.ready or self.stopping_sent:
            return
        self.notifier.send(
            status_field(text), f"EXTEND_TIMEOUT_USEC={int(START_EXTENSION_S * 1_000_000)}"
        )

    def stopping(self) -> None:
        """``STOPPING=1``, once: systemd shows "deactivating" while events end and alerts flush."""
        if self.stopping_sent:
            return
        self.stopping_sent = True
        self.notifier.send(
            "STOPPING=1", status_field("stopping: ending open events, flushing the outbox")
        )

    def stop_on_signals(self, source: FrameSource) -> None:
        """On SIGTERM/SIGINT also say STOPPING at once and close ``source``.

        Runs after the handlers already installed (the CLI's, which set the stop event).  Closing
        the source ends ``frames()`` even while the camera is stalled and no frame would come to
        notice the stop event.  Python runs signal handlers in the main thread between bytecodes,
        so this never races the frame loop.
        """
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(signum)

            def handler(number: int, frame: object, previous: object = previous) -> None:
                if callable(previous):
                    previous(number, frame)
                self.stopping()
                source.close()

            signal.signal(signum, handler)
