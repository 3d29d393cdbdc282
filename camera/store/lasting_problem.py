"""A storage problem logged when it starts and when it ends, never at every write in between.

A full disk or a read-only directory lasts: a camera writing a thumbnail a minute would
otherwise fill the journal (on the same full disk) with the same line.
"""

from __future__ import annotations

import logging


class LastingProblem:
    """``failed(reason)`` logs ``started`` once (``{reason}`` in it replaced); ``ok()`` logs
    ``ended`` once after that, at INFO."""

    def __init__(self, log: logging.Logger, level: int, started: str, ended: str) -> None:
        self.log = log
        self.level = level
        self.started = started
        self.ended = ended
        self.reason: str | None = None

    def failed(self, reason: str) -> None:
        if self.reason is None:
            self.log.log(self.level, self.started.replace("{reason}", reason))
        self.reason = reason

    def ok(self) -> None:
        if self.reason is not None:
            self.log.info(self.ended)
            self.reason = None
