"""Delivery faults at the broker link, against a real mosquitto: a network cut without a TCP
reset, a broker that dies with messages in flight, messages published while the connection
drops, a failing handler, and ON/OFF transitions during an outage.

Each test counts what was queued against what a (deduplicating) subscriber received and checks
the order of first arrival; duplicates may only repeat messages that were in flight.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from camera.mqtt import MqttAlertSink, Topics
from camera.store import OutgoingMessage
from tests.broker import Blackhole, Mosquitto, Subscriber, wait_until
from tests.test_mqtt_link import PREFIX, make_link, update

TOPICS = Topics(PREFIX)


def alerts(first: int, count: int) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(TOPICS.events, update(f"e{i:04d}").to_json().encode(), event_id=f"e{i}")
        for i in range(first, first + count)
    ]


def keys(first: int, count: int) -> list[tuple[str, int]]:
    return [(f"e{i:04d}", 1) for i in range(first, first + count)]


def test_network_cut_with_alerts_in_flight_reconnects_on_ack_timeout(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    proxy = Blackhole(broker.port).start()
    link, outbox = make_link(tmp_path, proxy.port, ack_timeout_s=1.5, keepalive_s=60)
    link.start()
    try:
        assert link.connected.wait(10)
        outbox.put(alerts(0, 5))
        link.wake()
        assert subscriber.wait_for(lambda s: len(s.unique_event_keys()) == 5)
        proxy.cut()  # no FIN, no RST: the socket looks healthy, nothing gets through
        outbox.put(alerts(5, 5))
        link.wake()
        assert wait_until(lambda: "no acknowledgement from MQTT broker" in caplog.text, 10)
        proxy.heal()
        # Well before keepalive (60 s) would have noticed: the ack timeout reconnected.
        assert subscriber.wait_for(lambda s: len(s.unique_event_keys()) == 10, timeout=15)
        assert subscriber.unique_event_keys() == keys(0, 10)
        assert wait_until(lambda: outbox.depth() == 0, 5)
        assert link.reconnects >= 1
        assert subscriber.wait_for(lambda s: s.on("/availability")[-1].payload == b"online")
    finally:
        link.stop()
        proxy.stop()


def test_network_cut_while_idle_is_noticed_by_keepalive(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    proxy = Blackhole(broker.port).start()
    link, outbox = make_link(tmp_path, proxy.port, keepalive_s=5, ack_timeout_s=3)
    link.start()
    try:
        assert link.connected.wait(10)
        proxy.cut()
        # No alert in flight, so only keepalive can tell: a PINGREQ after 5 s, no answer.
        assert wait_until(lambda: not link.connected.is_set(), 15)
        assert "lost the MQTT broker" in caplog.text
        outbox.put(alerts(0, 3))  # queued on disk while the network is down
        link.wake()
        proxy.heal()
        assert subscriber.wait_for(lambda s: s.unique_event_keys() == keys(0, 3), timeout=20)
        assert wait_until(lambda: outbox.depth() == 0, 5)
    finally:
        link.stop()
        proxy.stop()


def test_broker_dies_during_a_backlog_drain(
    tmp_path: Path, persistent_broker: Mosquitto, phone: Subscriber
) -> None:
    total = 600
    link, outbox = make_link(tmp_path, persistent_broker.port, max_inflight=20)
    outbox.put(alerts(0, total))
    link.start()
    try:
        # Stop the broker mid-drain, with messages handed to paho and not yet acknowledged.
        assert wait_until(lambda: link.acked >= 100, 20)
        persistent_broker.stop()
        in_flight_at_stop = total - outbox.depth() - link.acked
        assert outbox.depth() > 0, "the drain finished before the broker stopped"
        persistent_broker.start()
        assert phone.wait_for(lambda s: len(s.unique_event_keys()) == total, timeout=30)
        assert wait_until(lambda: outbox.depth() == 0, 10)
    finally:
        link.stop()
    assert phone.unique_event_keys() == keys(0, total)  # nothing lost, first arrivals in order
    duplicates = len(phone.event_keys()) - total
    assert duplicates <= 20 + max(in_flight_at_stop, 0), duplicates  # only messages in flight


def test_alerts_queued_while_the_connection_drops(
    tmp_path: Path, persistent_broker: Mosquitto, phone: Subscriber
) -> None:
    link, outbox = make_link(tmp_path, persistent_broker.port)
    link.start()
    try:
        assert link.connected.wait(10)
        stopper = threading.Thread(target=persistent_broker.stop)
        stopper.start()
        for i in range(60):  # some are published into the dying connection, some after
            outbox.put(alerts(i, 1))
            link.wake()
        stopper.join()
        assert outbox.depth() > 0
        persistent_broker.start()
        assert phone.wait_for(lambda s: len(s.unique_event_keys()) == 60, timeout=30)
        assert phone.unique_event_keys() == keys(0, 60)
        assert wait_until(lambda: outbox.depth() == 0, 10)
    finally:
        link.stop()


def test_a_failing_handler_does_not_stop_delivery(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber, caplog: pytest.LogCaptureFixture
) -> None:
    link, outbox = make_link(tmp_path, broker.port)
    calls: list[bytes] = []

    def broken(payload: bytes) -> None:
        calls.append(payload)
        raise RuntimeError("handler bug")

    link.subscribe("homeassistant/status", broken)
    link.start()
    try:
        assert link.connected.wait(10)
        poke = Subscriber(broker.host, broker.port, topic="nothing").start()
        poke.client.publish("homeassistant/status", b"online", qos=1)
        assert wait_until(lambda: calls == [b"online"], 5)
        poke.stop()
        outbox.put(alerts(0, 3))
        link.wake()
        assert subscriber.wait_for(lambda s: s.unique_event_keys() == keys(0, 3))
        assert "handler for MQTT topic homeassistant/status failed" in caplog.text
    finally:
        link.stop()


def test_on_off_of_an_event_during_an_outage_both_arrive(
    tmp_path: Path, persistent_broker: Mosquitto, phone: Subscriber
) -> None:
    link, outbox = make_link(tmp_path, persistent_broker.port)
    sink = MqttAlertSink(link, outbox, TOPICS)
    link.start()
    try:
        assert link.connected.wait(10)
        assert phone.wait_for(lambda s: [m.payload for m in s.on("/person")] == [b"OFF"])
        persistent_broker.stop()
        assert wait_until(lambda: not link.connected.is_set(), 5)
        sink.emit(update("short"), b"jpeg")  # a person came and went while the broker was down
        sink.emit(update("short", kind="end"), None)
        persistent_broker.start()
        # An automation waiting for person ON must fire, late rather than never.
        # (Live messages only: a re-subscription also replays the retained value.)
        assert phone.wait_for(
            lambda s: (
                [m.payload for m in s.on("/person") if not m.retain] == [b"OFF", b"ON", b"OFF"]
            ),
            timeout=20,
        )
        assert phone.wait_for(lambda s: [e["type"] for e in s.events()] == ["start", "end"])
    finally:
        link.stop()
