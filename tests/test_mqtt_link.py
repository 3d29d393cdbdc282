"""The broker link against a real mosquitto: delivery on PUBACK, outages, restarts, refusals."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from camera.events import EventUpdate
from camera.mqtt import MqttAlertSink, MqttConfig, MqttLink, Topics
from camera.store import Database, Outbox, OutboxConfig, OutgoingMessage
from tests.broker import Mosquitto, Subscriber, password_broker, wait_until

PREFIX = "ronda/test"


def make_link(tmp_path: Path, port: int, **overrides) -> tuple[MqttLink, Outbox]:
    config = MqttConfig(
        host="127.0.0.1", port=port, reconnect_min_s=0.1, reconnect_max_s=0.5, **overrides
    )
    outbox = Outbox(Database(tmp_path / "state.sqlite3"), OutboxConfig())
    topics = Topics(PREFIX)
    link = MqttLink(config, outbox, client_id="ronda-test", will_topic=topics.availability)
    return link, outbox


def update(event_id: str, kind: str = "start", label: str = "person") -> EventUpdate:
    return EventUpdate(
        id=event_id,
        camera="test",
        type=kind,
        label=label,
        subclass=label,
        score=0.8,
        box=[1, 2, 3, 4],
        frame_time=1.0,
        start_time=1.0,
        end_time=None if kind != "end" else 2.0,
        thumbnail_topic=f"{PREFIX}/events/{event_id}/thumbnail",
        has_thumbnail=kind != "end",
        model_precision="int8",
        motion_only=False,
        source="unit",
        sequence=1,
    )


def test_events_thumbnails_and_state_arrive(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber
) -> None:
    link, outbox = make_link(tmp_path, broker.port)
    sink = MqttAlertSink(link, outbox, Topics(PREFIX))
    link.start()
    try:
        sink.emit(update("a1"), b"\xff\xd8jpeg")
        sink.emit(update("a1", kind="end"), None)
        assert subscriber.wait_for(lambda s: len(s.events()) == 2)
        assert [e["type"] for e in subscriber.events()] == ["start", "end"]
        assert [m.payload for m in subscriber.thumbnails()] == [b"\xff\xd8jpeg"]
        assert subscriber.wait_for(
            lambda s: [m.payload for m in s.on("/person")][-2:] == [b"ON", b"OFF"]
        )
        assert subscriber.wait_for(lambda s: s.on("/availability")[-1:] != [])
        assert subscriber.on("/availability")[-1].payload == b"online"
        assert wait_until(lambda: outbox.depth() == 0, 5)
    finally:
        link.stop()
    assert subscriber.wait_for(lambda s: s.on("/availability")[-1].payload == b"offline")


def test_broker_down_at_start_then_up_delivers_everything(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    broker = Mosquitto(tmp_path)
    link, outbox = make_link(tmp_path, broker.port)
    sink = MqttAlertSink(link, outbox, Topics(PREFIX))
    link.start()
    for i in range(5):
        sink.emit(update(f"e{i}"), b"jpeg")
    assert wait_until(lambda: link.last_error is not None, 5)
    assert "refused the connection (is it running?)" in link.last_error
    assert outbox.depth() == 10
    broker.start()
    subscriber = Subscriber(broker.host, broker.port, topic=f"{PREFIX}/#").start()
    try:
        # The subscriber joined late; the alerts were still waiting on disk for the broker.
        assert wait_until(lambda: outbox.depth() == 0, 15)
    finally:
        link.stop()
        subscriber.stop()
        broker.stop()
    assert caplog.text.count("refused the connection") == 1  # logged once, not per retry
    assert "reconnected to MQTT broker" in caplog.text


def test_restart_redelivers_unacknowledged_in_order(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber
) -> None:
    # A previous process queued alerts and died before the broker acknowledged them.
    outbox = Outbox(Database(tmp_path / "state.sqlite3"), OutboxConfig())
    outbox.put(
        [
            OutgoingMessage(
                f"{PREFIX}/events", update(f"old{i}").to_json().encode(), event_id=f"old{i}"
            )
            for i in range(3)
        ]
    )
    outbox.database.close()
    link, outbox = make_link(tmp_path, broker.port)
    link.start()
    try:
        assert subscriber.wait_for(lambda s: len(s.events()) == 3)
        assert [e["id"] for e in subscriber.events()] == ["old0", "old1", "old2"]
        assert wait_until(lambda: outbox.depth() == 0, 5)
    finally:
        link.stop()


def test_wrong_password_is_one_clear_line_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = password_broker(tmp_path, "ronda", "right-secret")
    secret = tmp_path / "secret"
    secret.write_text("wrong-secret\n")
    caplog.set_level(logging.DEBUG)
    link, _ = make_link(tmp_path, broker.port, username="ronda", password_file=secret)
    link.start()
    try:
        assert wait_until(lambda: link.last_error is not None, 5)
        assert "refused the login" in link.last_error
        assert f"password from file {secret}" in link.last_error
        assert "wrong-secret" not in caplog.text
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1
        assert "retrying with backoff" in errors[0].getMessage()
    finally:
        link.stop()
        broker.stop()


def test_right_password_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broker = password_broker(tmp_path, "ronda", "s3cret")
    monkeypatch.setenv("RONDA_MQTT_PASSWORD", "s3cret")
    link, _ = make_link(tmp_path, broker.port, username="ronda")
    link.start()
    try:
        assert link.connected.wait(10), link.last_error
    finally:
        link.stop()
        broker.stop()


def test_stats_are_retained(tmp_path: Path, broker: Mosquitto) -> None:
    link, _ = make_link(tmp_path, broker.port)
    link.start()
    link.put_state(f"{PREFIX}/stats", json.dumps({"fps": 5}))
    try:
        assert link.connected.wait(10)
        late = Subscriber(broker.host, broker.port, topic=f"{PREFIX}/stats").start()
        assert late.wait_for(lambda s: bool(s.on("/stats")))
        assert late.on("/stats")[0].retain
        late.stop()
    finally:
        link.stop()
