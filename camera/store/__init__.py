"""Local state on disk: the event history with thumbnails, and the MQTT outbox."""

from camera.store.config import StoreConfig, default_state_dir
from camera.store.database import Database
from camera.store.events import EventStore, StoredEvent
from camera.store.outbox import Outbox, OutboxConfig, OutgoingMessage, QueuedMessage

__all__ = [
    "Database",
    "EventStore",
    "Outbox",
    "OutboxConfig",
    "OutgoingMessage",
    "QueuedMessage",
    "StoreConfig",
    "StoredEvent",
    "default_state_dir",
]
