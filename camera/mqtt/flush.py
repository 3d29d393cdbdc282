"""Deliver what is queued on disk and stop: ``ronda flush``.

After a crash, a ``kill -9`` or a power cut with the broker unreachable, the alerts wait in the
outbox until Ronda next runs.  ``ronda run`` delivers them at start, but a replay machine, a
stopped service or a test wants them delivered *now*, without loading a model or opening a
camera.  This connects with the configured credentials, drains the outbox in order and exits.

It uses its own client id (``<client id>-flush``) and never touches the camera's availability
topic, so a running service is neither kicked off the broker nor announced offline; run it while
the service is stopped, though, or both will publish the same rows (duplicates, same event id).
It also publishes Home Assistant discovery, so ``discovery.remove: true`` plus one
``ronda flush`` deletes the camera's entities.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from camera.mqtt.config import MqttConfig
from camera.mqtt.discovery import attach_discovery
from camera.mqtt.link import MqttLink
from camera.mqtt.topics import Topics
from camera.shutdown import Shutdown
from camera.store import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FlushResult:
    delivered: int
    left: int
    error: str | None
    dead_letters: int = 0
    """Dead letters in the outbox afterwards (``ronda outbox list``)."""


def flush_outbox(
    config: MqttConfig,
    outbox: Outbox,
    *,
    topics: Topics,
    client_id: str,
    camera: str,
    timeout: float,
    shutdown: Shutdown | None = None,
) -> FlushResult:
    """Publish every queued message and wait up to ``timeout`` s for the acknowledgements;
    ``shutdown`` abandoned (a signal) ends the wait at once."""
    link = MqttLink(
        config,
        outbox,
        client_id=f"{client_id}-flush",
        will_topic=topics.availability,
        availability=False,
    )
    attach_discovery(link, config.discovery, topics, camera)
    if shutdown is not None:
        shutdown.on_abandon(link.cancel_drain)
    queued = outbox.depth()
    log.info("flushing %d queued message(s) to MQTT broker %s", queued, link.broker)
    link.start()
    try:
        link.wait_drained(timeout)
    finally:
        link.stop(publish_offline=False)
    left = outbox.depth()
    return FlushResult(
        delivered=link.sender.acked,
        left=left,
        error=link.undelivered_reason(),
        dead_letters=outbox.dead.count(),
    )
