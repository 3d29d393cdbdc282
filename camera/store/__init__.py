"""Local state on disk: the event history with thumbnails, and the MQTT outbox.

Names load on first use (``camera.lazy_exports``), so reading a configuration does not
load the event store and OpenCV with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from camera.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from camera.store.clips import ClipStore, StoredClip
    from camera.store.config import StoreConfig, default_state_dir
    from camera.store.database import DATABASE_NAME, Database
    from camera.store.events import (
        EventFilter,
        EventStore,
        StoredEvent,
        StoredUpdate,
        local_midnight,
    )
    from camera.store.outbox import Outbox, OutboxConfig, OutgoingMessage, QueuedMessage

_HOMES = {
    "ClipStore": "clips",
    "StoredClip": "clips",
    "StoreConfig": "config",
    "default_state_dir": "config",
    "DATABASE_NAME": "database",
    "Database": "database",
    "EventFilter": "events",
    "EventStore": "events",
    "StoredEvent": "events",
    "StoredUpdate": "events",
    "local_midnight": "events",
    "Outbox": "outbox",
    "OutboxConfig": "outbox",
    "OutgoingMessage": "outbox",
    "QueuedMessage": "outbox",
}

__all__ = [
    "DATABASE_NAME",
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
    "local_midnight",
]


__getattr__ = lazy_exports(__name__, _HOMES)
