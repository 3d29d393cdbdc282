"""Log a sensor's loss once and its recovery once.

Sensors are polled every few seconds for the life of the process; a Pi without a battery HAT or a
desktop without ``vcgencmd`` would otherwise write the same complaint to the journal forever.
Absence (no such file, no such command) is logged at INFO because it is a normal configuration;
a sensor that exists but fails (bad output, timeout, permission) is a WARNING.
"""

from __future__ import annotations

import logging

log = logging.getLogger("camera.governor.sensors")


class Health:
    """The up/down state of one sensor; only transitions are logged."""

    def __init__(self, name: str) -> None:
        self.name = name
        # False when a wrapper (e.g. the auto temperature chain) reports on this sensor's behalf.
        self.reported = True
        self.problem: str | None = None
        self.missing = False  # True when the problem is absence rather than failure

    def ok(self) -> None:
        if self.problem is not None and self.reported:
            log.info("%s sensor is back (was: %s)", self.name, self.problem)
        self.problem = None

    def absent(self, problem: str) -> None:
        """The sensor does not exist here: reading "unknown", not an error."""
        self._fail(problem, missing=True)

    def failed(self, problem: str) -> None:
        """The sensor exists but could not be read."""
        self._fail(problem, missing=False)

    def _fail(self, problem: str, *, missing: bool) -> None:
        if self.problem is None and self.reported:
            level = logging.INFO if missing else logging.WARNING
            log.log(level, "%s unknown: %s (logged once until it recovers)", self.name, problem)
        self.problem = problem
        self.missing = missing

    @property
    def status(self) -> str:
        return "ok" if self.problem is None else f"unknown: {self.problem}"
