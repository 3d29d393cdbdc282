"""What every request handler shares: the state directory, the store, the live feed, sessions."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from camera.config import RondaConfig
from camera.controls import Controls
from camera.site.auth import Access
from camera.store import Database, EventStore, Outbox
from camera.web.live import Areas, LiveEncoder, LiveFeed

log = logging.getLogger(__name__)

StatsProvider = Callable[[], Mapping[str, object]]
"""The live ``Runtime.stats_payload`` or, under ``ronda web``, the retained JSON from the broker
(whose shape is only as good as the service that wrote it: read it with ``.get``)."""
ConfigApplier = Callable[[RondaConfig], None]


@dataclass
class WebContext:
    """One per server; handlers reach it as ``request.app[CONTEXT]``."""

    config: RondaConfig
    """The configuration as last loaded or saved (masks and zones change at run time)."""
    config_path: Path | None
    database: Database
    """The web's own connection (SQLite WAL: its reads never wait for the frame loop's)."""
    live: LiveFeed | None = None
    """The running camera's feed; None when ``ronda web`` browses a state directory."""
    stats: StatsProvider | None = None
    apply_config: ConfigApplier | None = None
    controls: Controls | None = None
    """The running camera's controls (the page changes them); None under ``ronda web``."""
    started: float = field(default_factory=time.time)
    encoder: LiveEncoder = field(default_factory=LiveEncoder)
    worker: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="ronda-web-worker")
    )
    """One thread for the slow work (JPEG encoding, password hashing, saving the config): the
    event loop stays responsive, and one thread means one malloc arena on a 512 MB Pi."""
    config_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.state_dir = self.database.path.parent
        self.events = EventStore(self.database, self.config.store)
        self.outbox = Outbox(self.database, self.config.mqtt.outbox)
        self.access = Access.for_site(self.config.web, self.state_dir, self.worker)
        self.passwords = self.access.passwords

    def areas(self) -> Areas:
        return Areas(
            masks=tuple(self.config.motion.masks),
            zones={name: zone.points for name, zone in self.config.zones.items()},
        )


CONTEXT = web.AppKey("context", WebContext)
