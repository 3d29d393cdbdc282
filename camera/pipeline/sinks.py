"""Where event updates go besides MQTT: the local store and a JSON-lines file."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, TextIO

from camera.events import EventUpdate
from camera.store import EventStore


class EventSink(Protocol):
    """Receives every event update with its thumbnail (``None`` when the update has none)."""

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None: ...

    def close(self) -> None: ...


class StoreSink:
    """Keeps the local history (``ronda events``), whatever happens to the network."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        self.store.record(update, thumbnail)

    def close(self) -> None:
        self.store.prune()


class JsonlSink:
    """``--events-jsonl``: one line per update, exactly the JSON that goes to MQTT."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("a", encoding="utf-8")

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        self._file.write(update.to_json() + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()
