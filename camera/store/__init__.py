"""Local state on disk: the event history with thumbnails, and the MQTT outbox.

Names load on first use (PEP 562): ``camera.store.config`` is part of every configuration,
including ``ronda home``'s, which must not pay for what the event store imports (OpenCV).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from camera.store.clips import ClipStore, StoredClip
    from camera.store.config import StoreConfig, default_state_dir
    from camera.store.database import Database
    from camera.store.events import EventFilter, EventStore, StoredEvent, StoredUpdate
    from camera.store.outbox import Outbox, OutboxConfig, OutgoingMessage, QueuedMessage

_HOMES = {
    "ClipStore": "clips",
    "StoredClip": "clips",
    "StoreConfig": "config",
    "default_state_dir": "config",
    "Database": "database",
    "EventFilter": "events",
    "EventStore": "events",
    "StoredEvent": "events",
    "StoredUpdate": "events",
    "Outbox": "outbox",
    "OutboxConfig": "outbox",
    "OutgoingMessage": "outbox",
    "QueuedMessage": "outbox",
}

__all__ = [
    "ClipStore",
    "Database",
    "EventFilter",
    "EventStore",
    "Outbox",
    "OutboxConfig",
    "OutgoingMessage",
    "QueuedMessage",
    "StoreConfig",
    "StoredClip",
    "StoredEvent",
    "StoredUpdate",
    "default_state_dir",
]


def __getattr__(name: str) -> Any:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module 'camera.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"camera.store.{module}"), name)
