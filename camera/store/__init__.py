"""Local state on disk: the event history with thumbnails, and the MQTT outbox."""

from camera.store.clips import ClipStore, StoredClip
from camera.store.config import StoreConfig, default_state_dir
from camera.store.database import Database
from camera.store.events import EventFilter, EventStore, StoredEvent, StoredUpdate
from camera.store.outbox import Outbox, OutboxConfig, OutgoingMessage, QueuedMessage

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
