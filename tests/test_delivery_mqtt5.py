"""MQTT 5 against a real mosquitto: a refused publish is not a delivery, and the broker's
Maximum Packet Size is respected (thumbnails shrunk or left out, the event JSON always sent).
Also what an MQTT 3.1.1 broker cannot tell us: it acknowledges a refused publish like any other.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera.events.thumbnail import ThumbnailConfig, render_thumbnail
from camera.mqtt import MqttAlertSink
from camera.types import Box
from tests.broker import Mosquitto, Subscriber, wait_until
from tests.conftest import footage
from tests.link_helpers import PREFIX, TOPICS, alerts, keys, make_link, update

DENY_EVENTS = f"topic read #\ntopic write {PREFIX}/availability\n"
"""Ronda may publish its availability, not its alerts (a typical ACL mistake)."""


def acl_broker(tmp_path: Path, rules: str, port: int | None = None) -> Mosquitto:
    acl = tmp_path / f"acl-{abs(hash(rules))}"
    acl.write_text(rules)
    broker = Mosquitto(tmp_path, port=port, settings=f"acl_file {acl}\n")
    broker.start()
    return broker


@pytest.fixture
def denying_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = acl_broker(tmp_path, DENY_EVENTS)
    yield broker
    broker.stop()


def test_a_refused_publish_is_not_a_delivery_and_retry_delivers_after_the_fix(
    tmp_path: Path, denying_broker: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    link, outbox = make_link(tmp_path, denying_broker.port, refused_attempts=2)
    outbox.put(alerts(0, 3))
    link.start()
    try:
        # Each alert is refused (PUBACK 0x87), tried again once, then kept as a dead letter.
        assert wait_until(lambda: outbox.dead.count() == 3, 15)
        assert outbox.depth() == 0
        assert link.sender.acked == 0  # nothing was deleted as delivered
        reasons = {letter.reason for letter in outbox.dead.entries()}
        assert reasons == {"refused by the broker 2 times: Not authorized (reason code 0x87)"}
        assert caplog.text.count("refused an alert message: Not authorized") == 1  # once
        # The owner fixes the ACL and puts the alerts back: the running link delivers them.
        denying_broker.stop()
        fixed = acl_broker(tmp_path, "topic readwrite #\n", port=denying_broker.port)
        phone = Subscriber(fixed.host, fixed.port, topic=f"{PREFIX}/#").start()
        try:
            assert outbox.revive(outbox.dead.existing(None)) == 3
            assert phone.wait_for(lambda s: s.unique_event_keys() == keys(0, 3), timeout=15)
            assert wait_until(lambda: outbox.depth() == 0, 5)
        finally:
            phone.stop()
            fixed.stop()
    finally:
        link.stop()


def test_a_drain_that_ends_while_refused_messages_wait_says_why(
    tmp_path: Path, denying_broker: Mosquitto
) -> None:
    link, outbox = make_link(tmp_path, denying_broker.port, reconnect_min_s=30)
    outbox.put(alerts(0, 1))
    link.start()
    try:
        assert wait_until(lambda: len(link.sender.refusals) == 1, 10)
        assert not link.wait_drained(0.2)  # the next try is 30 s away
        assert link.undelivered_reason() == (
            "the broker refused them (Not authorized (reason code 0x87)); tried again, then "
            "dead letters"
        )
        assert outbox.depth() == 1 and link.sender.acked == 0
    finally:
        link.stop()


def test_mqtt_3_1_1_cannot_tell_a_refused_publish_from_a_delivery(
    tmp_path: Path, denying_broker: Mosquitto
) -> None:
    """Documented limit: with ``protocol: "3.1.1"`` the same ACL acknowledges and drops."""
    phone = Subscriber(denying_broker.host, denying_broker.port, topic=f"{PREFIX}/#").start()
    link, outbox = make_link(tmp_path, denying_broker.port, protocol="3.1.1")
    outbox.put(alerts(0, 3))
    link.start()
    try:
        assert wait_until(lambda: link.sender.acked == 3, 10)
        assert outbox.depth() == 0 and outbox.dead.count() == 0
        assert phone.wait_for(lambda s: s.on("/availability") != [], timeout=5)
        assert phone.events() == []  # the broker dropped them; the PUBACK said nothing
    finally:
        link.stop()
        phone.stop()


# -- maximum packet size -----------------------------------------------------------------------
@pytest.fixture
def small_packet_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path, settings="max_packet_size 4096\n")
    broker.start()
    yield broker
    broker.stop()


def real_thumbnail() -> bytes:
    """A thumbnail as the pipeline renders it from a real photo (tens of KB)."""
    image = cv2.imread(str(footage("stills/opencvcourse_park.jpg")))
    height, width = image.shape[:2]
    box = Box(width * 0.3, height * 0.2, width * 0.7, height * 0.9)
    return render_thumbnail(image, box, "person", ThumbnailConfig())


def test_broker_max_packet_size_every_event_json_arrives_thumbnails_shrunk_or_left_out(
    tmp_path: Path, small_packet_broker: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    phone = Subscriber(small_packet_broker.host, small_packet_broker.port, topic=f"{PREFIX}/#")
    phone.start()
    link, outbox = make_link(tmp_path, small_packet_broker.port)
    sink = MqttAlertSink(link, outbox, TOPICS)
    large = real_thumbnail()
    assert len(large) > 10_000
    small = cv2.imencode(".jpg", np.full((24, 24, 3), 90, np.uint8))[1].tobytes()
    broken = b"\xff\xd8" + bytes(range(256)) * 40  # a JPEG no decoder can re-encode
    link.start()
    try:
        sink.emit(update("broken"), broken)
        sink.emit(update("tiny"), small)
        sink.emit(update("big"), large)  # the latest snapshot: retained, so shrunk too
        assert phone.wait_for(lambda s: len(s.events()) == 3, timeout=15)
        assert wait_until(lambda: outbox.depth() == 0, 10)
        assert link.reconnects == 0  # the broker never had to drop us
    finally:
        link.stop()
        phone.stop()
    events = {event["id"]: event for event in phone.events()}
    assert events["big"]["has_thumbnail"] and events["tiny"]["has_thumbnail"]
    assert not events["broken"]["has_thumbnail"]
    assert events["broken"]["thumbnail_omitted"].startswith(
        "larger than the broker's maximum packet size (4096 bytes, was 10242)"
    )
    thumbnails = {m.topic.split("/")[-2]: m.payload for m in phone.thumbnails()}
    assert set(thumbnails) == {"big", "tiny"}
    assert thumbnails["tiny"] == small  # fits: untouched
    shrunk = cv2.imdecode(np.frombuffer(thumbnails["big"], np.uint8), cv2.IMREAD_COLOR)
    original = cv2.imdecode(np.frombuffer(large, np.uint8), cv2.IMREAD_COLOR)
    assert len(thumbnails["big"]) < 4096 and shrunk.shape[0] < original.shape[0]
    snapshots = [m.payload for m in phone.on("/person/snapshot")]
    assert snapshots and all(len(p) < 4096 for p in snapshots)
    assert cv2.imdecode(np.frombuffer(snapshots[-1], np.uint8), cv2.IMREAD_COLOR).shape == (
        shrunk.shape
    )
    assert outbox.omitted() == 1 and outbox.dead.count() == 0
    assert "takes packets up to 4096 bytes, 20 unacknowledged" in caplog.text
    assert [json.loads(m.payload)["id"] for m in phone.on("/events")] == ["broken", "tiny", "big"]
