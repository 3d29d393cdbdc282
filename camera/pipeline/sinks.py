"""Where event updates go besides MQTT: the local store and a JSON-lines file."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Protocol, TextIO

from camera.events import EventUpdate
from camera.files import describe_os_error, shown
from camera.store import EventStore

log = logging.getLogger(__name__)


class OutputError(Exception):
    """An output the user asked for cannot be written (exit code 1); one user-facing line."""


class EventSink(Protocol):
    """Receives every event update with its thumbnail (``None`` when the update has none)."""

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None: ...

    def close(self) -> None: ...


class StoreSink:
    """Keeps the local history (``ronda events``), whatever happens to the network.

    Retention (``store.retention_days``, ``store.max_events``) is applied when an event ends,
    at most once every ``PRUNE_INTERVAL_S``, and at the stop: a camera that runs for months
    keeps its history within bounds without waiting for a restart (the first version pruned
    only at the stop: a camera that never stopped never applied its retention)."""

    PRUNE_INTERVAL_S = 60.0

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._next_prune = 0.0

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        self.store.record(update, thumbnail)
        if update.type == "end" and (now := time.monotonic()) >= self._next_prune:
            self._next_prune = now + self.PRUNE_INTERVAL_S
            self.store.prune()

    def close(self) -> None:
        self.store.prune()


class JsonlSink:
    """``--events-jsonl``: one line per update, exactly the JSON that goes to MQTT.

    A file that cannot be opened stops the command before it starts (:class:`OutputError`).  A
    write that fails later (a full disk) is logged once and the replay carries on: the alerts
    and the local store matter more than this copy; ``failure`` then says how many lines are
    missing, and ``ronda replay`` exits 1 with it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.missing = 0
        self._error: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: TextIO = path.open("a", encoding="utf-8")
        except OSError as error:
            raise OutputError(
                f"cannot write --events-jsonl {shown(path)}: {describe_os_error(error)}"
            ) from None

    @property
    def failure(self) -> str | None:
        if not self.missing:
            return None
        return (
            f"{self.missing} event update(s) could not be written to {shown(self.path)} "
            f"({self._error}); the alerts and the local store have them"
        )

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        if not update.alert:
            return  # what MQTT gets, and MQTT gets nothing of an event that does not alert
        if self._error is None:
            try:
                self._file.write(update.to_json() + "\n")
                self._file.flush()
                return
            except OSError as error:
                self._error = error.strerror or str(error)
                log.error("cannot append to %s (%s); later event updates are not written there",
                          shown(self.path), self._error)  # fmt: skip
        self.missing += 1

    def close(self) -> None:
        try:
            self._file.close()
        except OSError as error:  # the last buffered line could not be written
            self._error = self._error or error.strerror or str(error)
            self.missing = max(self.missing, 1)
