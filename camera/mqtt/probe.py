"""A short-lived broker connection through the real MqttLink: ``ronda doctor``'s login check,
and the retained stats that ``ronda status`` and ``ronda web`` read back.

Reusing the link means the same credentials, TLS set-up and error wording as the service.  It
connects under its own client id and with ``availability=False``: a broker kicks off an older
session with the same client id, and an ``offline`` on the availability topic would mark the
running camera dead in Home Assistant.  Its outbox is an empty scratch database, so it
publishes nothing.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from camera.mqtt.config import MqttConfig
from camera.mqtt.link import MqttLink
from camera.mqtt.topics import Topics
from camera.store import Database, Outbox


@contextmanager
def probe_link(
    mqtt: MqttConfig, client_id: str, topic_prefix: str, purpose: str
) -> Iterator[MqttLink]:
    """A not yet started link as ``<client id>-<purpose>``; stopped and cleaned up on exit."""
    with tempfile.TemporaryDirectory(prefix="ronda-probe-") as scratch:
        database = Database(Path(scratch) / "probe.sqlite3")
        link = MqttLink(
            mqtt,
            Outbox(database, mqtt.outbox),
            client_id=f"{client_id}-{purpose}",
            will_topic=Topics(topic_prefix).availability,
            availability=False,
        )
        try:
            yield link
        finally:
            link.stop(publish_offline=False)
            database.close()


def wait_connected(link: MqttLink, timeout: float) -> bool:
    """True once the broker accepted us; False at the first error or after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if link.connected.wait(0.05):
            return True
        if link.last_error is not None:
            return False
    return link.connected.is_set()


@dataclass(frozen=True, slots=True)
class RetainedStats:
    """The last stats message the service left on the broker, or why there is none."""

    payload: bytes | None
    problem: str | None
    broker: str = ""


def fetch_retained_stats(
    mqtt: MqttConfig, client_id: str, topic_prefix: str, timeout: float
) -> RetainedStats:
    """Subscribe to the retained stats topic and wait up to ``timeout`` for the message
    (``ronda status``, and the web page when ``ronda web`` has no camera of its own)."""
    if not mqtt.enabled:
        return RetainedStats(None, "mqtt.enabled is false")
    received: list[bytes] = []
    arrived = threading.Event()

    def keep(payload: bytes) -> None:
        received.append(payload)
        arrived.set()

    with probe_link(mqtt, client_id, topic_prefix, "status") as link:
        link.subscribe(Topics(topic_prefix).stats, keep)
        link.start()
        if not wait_connected(link, timeout):
            return RetainedStats(None, f"broker unreachable: {link.last_error or 'timeout'}")
        if not arrived.wait(timeout):
            return RetainedStats(
                None,
                f"none retained on {link.broker} yet (published every "
                f"{mqtt.stats_interval_s:g} s while the service runs)",
                link.broker,
            )
        return RetainedStats(received[-1], None, link.broker)
