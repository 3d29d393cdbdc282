"""A short-lived broker connection for ``doctor`` and ``status``, through the real MqttLink.

Reusing the link means the same credentials, TLS set-up and error wording as the service.  It
connects under its own client id and with ``availability=False``: a broker kicks off an older
session with the same client id, and an ``offline`` on the availability topic would mark the
running camera dead in Home Assistant.  Its outbox is an empty scratch database, so it
publishes nothing.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from camera.config import RondaConfig
from camera.mqtt import MqttLink, Topics
from camera.store import Database, Outbox


@contextmanager
def probe_link(config: RondaConfig, purpose: str) -> Iterator[MqttLink]:
    """A not yet started link as ``<client id>-<purpose>``; stopped and cleaned up on exit."""
    with tempfile.TemporaryDirectory(prefix="ronda-probe-") as scratch:
        database = Database(Path(scratch) / "probe.sqlite3")
        link = MqttLink(
            config.mqtt,
            Outbox(database, config.mqtt.outbox),
            client_id=f"{config.client_id}-{purpose}",
            will_topic=Topics(config.topic_prefix).availability,
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


@contextmanager
def quiet_logs() -> Iterator[None]:
    """For commands that report problems themselves (``doctor``, ``status``): the stages' own
    error logs (the link's "refused ...; retrying with backoff") would repeat them."""
    logging.disable(logging.ERROR)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
