"""What the broker-link tests share: a link on a fresh outbox, event updates, alert batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from camera.events import EventUpdate
from camera.mqtt import MqttConfig, MqttLink, Topics
from camera.store import Database, Outbox, OutboxConfig, OutgoingMessage
from tests.conftest import CANARY_PASSWORD
from tests.event_factory import event_update

PREFIX = "ronda/test"
TOPICS = Topics(PREFIX)


def make_link(tmp_path: Path, port: int, **overrides: Any) -> tuple[MqttLink, Outbox]:
    """A not yet started link to ``127.0.0.1:port`` with fast reconnects."""
    settings: dict[str, Any] = {
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 0.5,
        "password": CANARY_PASSWORD,
        **overrides,
    }
    config = MqttConfig(host="127.0.0.1", port=port, **settings)
    outbox = Outbox(Database(tmp_path / "state.sqlite3"), config.outbox)
    link = MqttLink(config, outbox, client_id="ronda-test", will_topic=TOPICS.availability)
    return link, outbox


def open_outbox(tmp_path: Path) -> Outbox:
    """The outbox ``make_link`` will open (to queue rows as a previous process would)."""
    return Outbox(Database(tmp_path / "state.sqlite3"), OutboxConfig())


def update(event_id: str, kind: str = "start", label: str = "person") -> EventUpdate:
    return event_update(event_id, kind=kind, label=label, camera="test", source="unit")


def alerts(first: int, count: int) -> list[OutgoingMessage]:
    """Event JSONs ``e<first>`` ... as the alert sink queues them."""
    return [
        OutgoingMessage(TOPICS.events, update(f"e{i:04d}").to_json().encode(), event_id=f"e{i}")
        for i in range(first, first + count)
    ]


def keys(first: int, count: int) -> list[tuple[str, int]]:
    """The (event id, sequence) a subscriber sees for ``alerts(first, count)``."""
    return [(f"e{i:04d}", 1) for i in range(first, first + count)]
