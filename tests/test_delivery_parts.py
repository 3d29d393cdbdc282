"""The parts of the broker link, each alone, without a broker: the in-flight window and its
batched acknowledgements, retained state and transitions, subscriptions, the error wording and
the reconnect timer.  (Together, against a real mosquitto: tests/test_delivery_link.py.)"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
import time

import cv2
import numpy as np
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from camera.mqtt import wording
from camera.mqtt.config import MqttConfig
from camera.mqtt.link import wait_published
from camera.mqtt.packet_size import (
    BrokerLimits,
    PacketLimit,
    announced_thumbnail,
    packet_size,
    shrink_jpeg,
    without_thumbnail,
)
from camera.mqtt.refusals import Refusals
from camera.mqtt.retained import RetainedState
from camera.mqtt.subscriptions import Subscriptions
from camera.mqtt.topics import TopicError, Topics, check_topic, topic_problem
from camera.mqtt.transport import ReconnectTimer, Transport
from camera.mqtt.window import InFlightWindow


# -- in-flight window --------------------------------------------------------------------------
def test_window_keeps_room_order_and_the_cursor() -> None:
    window = InFlightWindow(3)
    for mid, seq in ((1, 10), (2, 11), (3, 12)):
        window.sent(mid, seq, now=0.0)
    assert window.room() == 0 and len(window) == 3
    assert window.last_sent_seq == 12  # the next rows come after it, never again before
    assert window.acknowledged(2, now=1.0) == 11
    assert window.acknowledged(99, now=1.0) is None  # not an outbox row (state, availability)
    assert window.room() == 1
    assert window.take_room_opened() and not window.take_room_opened()


def test_window_batches_acknowledgements_until_due() -> None:
    window = InFlightWindow(500, flush_s=0.25, flush_count=3)
    window.sent(1, 1, now=0.0)
    window.sent(2, 2, now=0.0)
    window.acknowledged(1, now=10.0)
    assert window.take_acks(now=10.1, force=False) == []  # neither old nor many enough
    assert window.unflushed() == 1
    assert window.take_acks(now=10.3, force=False) == [1]  # a quarter second later
    window.acknowledged(2, now=11.0)
    assert window.take_acks(now=11.0, force=True) == [2]  # the connection ended
    for mid in range(10, 13):
        window.sent(mid, mid, now=12.0)
        window.acknowledged(mid, now=12.0)
    assert window.take_acks(now=12.0, force=False) == [10, 11, 12]  # count reached


def test_window_overdue_measures_silence_not_age() -> None:
    window = InFlightWindow(10)
    assert window.overdue(now=100.0, timeout_s=15) is None  # nothing in flight
    window.sent(1, 1, now=0.0)
    window.sent(2, 2, now=0.0)
    assert window.overdue(now=14.0, timeout_s=15) is None
    window.acknowledged(1, now=14.0)  # the broker is alive: the clock restarts
    assert window.overdue(now=20.0, timeout_s=15) is None
    assert window.overdue(now=29.5, timeout_s=15) == pytest.approx(15.5)
    window.restart_clock(now=30.0)  # reconnected: paho re-sends the rest now
    assert window.overdue(now=31.0, timeout_s=15) is None


def test_window_release_frees_room_without_acknowledging() -> None:
    window = InFlightWindow(2)
    window.sent(7, 70, now=0.0)
    assert window.released(7, now=1.0) == 70
    assert window.room() == 2
    assert window.take_acks(now=5.0, force=True) == []  # a refusal deletes nothing


# -- retained state ----------------------------------------------------------------------------
def test_latest_value_wins_but_transitions_keep_their_order() -> None:
    state = RetainedState()
    state.put("stats", b"1", retain=True, transitions=False)
    state.put("stats", b"2", retain=True, transitions=False)
    state.put("person", b"ON", retain=True, transitions=True)
    state.put("person", b"OFF", retain=True, transitions=True)
    taken = [(topic, m.payload) for topic, m in state.take()]
    assert taken == [("stats", b"2"), ("person", b"ON"), ("person", b"OFF")]
    assert state.take() == []


def test_resend_all_puts_pending_transitions_first_and_requeue_keeps_order() -> None:
    state = RetainedState()
    state.put("a", b"1", retain=True, transitions=False)
    state.put("person", b"ON", retain=True, transitions=True)
    state.take()
    state.put("person", b"OFF", retain=True, transitions=True)
    state.resend_all()
    items = state.take()
    assert [(t, m.payload) for t, m in items] == [("person", b"OFF"), ("a", b"1")]
    state.requeue(items[1:])  # paho took the first only
    assert [t for t, _ in state.take()] == ["a"]


def test_state_is_busy_until_acknowledged_and_bounded() -> None:
    state = RetainedState(limit=5)
    assert not state.busy()
    for i in range(20):
        state.put("person", b"ON" if i % 2 else b"OFF", retain=True, transitions=True)
    assert 1 <= len(state.take()) <= 5  # bounded: beyond the limit only latest values are kept
    state.sent(4)
    assert state.busy()
    state.acknowledged(4)
    assert not state.busy()


def test_pending_transitions_collapse_to_latest_values_beyond_the_limit() -> None:
    state = RetainedState(limit=3)
    for i in range(4):
        state.put("person", str(i).encode(), retain=True, transitions=True)
    assert [(t, m.payload) for t, m in state.take()] == [("person", b"3")]


# -- subscriptions -----------------------------------------------------------------------------
def test_subscriptions_are_due_once_and_again_after_a_reconnect(
    caplog: pytest.LogCaptureFixture,
) -> None:
    subscriptions = Subscriptions()
    got: list[bytes] = []
    subscriptions.add("a", got.append)
    subscriptions.add("b", lambda payload: 1 / 0)  # type: ignore[func-returns-value]
    assert subscriptions.take_due() == ["a", "b"]
    assert subscriptions.take_due() == []
    subscriptions.sent(5)
    assert subscriptions.busy()
    subscriptions.reconnected()  # SUBACKs of the old connection will never come
    assert not subscriptions.busy()
    assert subscriptions.take_due() == ["a", "b"]
    subscriptions.dispatch("a", b"x")
    subscriptions.dispatch("b", b"y")  # raises inside: logged, not propagated
    subscriptions.dispatch("c", b"z")  # nobody listens
    assert got == [b"x"]
    assert "handler for MQTT topic b failed" in caplog.text


# -- wording -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionRefusedError(), "MQTT broker h:1 refused the connection (is it running?)"),
        (socket.gaierror(-2, "Name or service not known"), "host 'h' cannot be resolved"),
        (TimeoutError(), "MQTT broker h:1 did not answer (timeout)"),
        (OSError(113, "No route to host"), "MQTT broker h:1 is unreachable: No route to host"),
        (ssl.SSLError(1, "WRONG_VERSION_NUMBER"), "TLS handshake with broker h:1 failed"),
    ],
)
def test_each_connection_failure_has_its_line(error: OSError, expected: str) -> None:
    assert expected in wording.connect_failure(error, "h:1", "h")


def test_untrusted_certificate_names_the_option() -> None:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "self-signed certificate"
    line = wording.connect_failure(error, "h:8883", "h")
    assert line.startswith("TLS: the certificate of broker h:8883 is not trusted")
    assert line.endswith("check mqtt.tls.ca_file")


def test_login_lines_name_the_source_of_the_password_not_the_password() -> None:
    line = wording.login_refused("h:1", "Not authorized", None, "file /etc/ronda/pw")
    assert line == (
        "MQTT broker h:1 refused the login: Not authorized (user (none), password from file "
        "/etc/ronda/pw)"
    )
    missing = wording.closed_during_login(
        "h:1", "tlsv13 alert certificate required", tls=True, client_certificate=False
    )
    assert "the broker requires a client certificate" in missing
    guess = wording.closed_during_login("h:1", "EOF", tls=True, client_certificate=False)
    assert "if the broker requires a client certificate" in guess
    plain = wording.closed_during_login("h:1", "EOF", tls=False, client_certificate=False)
    assert plain == "MQTT broker h:1 closed the connection during the login (EOF)"


def test_reporter_logs_a_problem_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    reporter = wording.Reporter()
    for _ in range(3):
        reporter.report("broker down")
    reporter.report("broker refused")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["broker down; retrying with backoff", "broker refused; retrying with backoff"]
    reporter.clear()
    assert reporter.last is None


# -- transport and timer -----------------------------------------------------------------------
def test_reconnect_timer_retry_now_ends_a_long_sleep() -> None:
    timer = ReconnectTimer(30.0, 60.0)
    done = threading.Event()

    def sleep() -> None:
        timer.wait()
        done.set()

    sleeper = threading.Thread(target=sleep)
    started = time.monotonic()
    sleeper.start()
    timer.retry_now()
    assert done.wait(5), "retry_now did not end the backoff sleep"
    assert time.monotonic() - started < 5
    sleeper.join()
    timer.stop()
    timer.wait()  # stopped: returns at once, however long the delay


def test_transport_without_a_connection_says_so() -> None:
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    transport = Transport(client)
    transport.wake()
    transport.wake()  # twice, before any select(): harmless
    assert transport.loop_once(0.01) == MQTTErrorCode.MQTT_ERR_NO_CONN
    transport.drop()  # nothing to close
    transport.close()
    transport.wake()  # closed: ignored, not an error


# -- refusals and topics -----------------------------------------------------------------------
def test_waiting_for_a_publish_the_connection_lost_is_an_answer_not_a_traceback() -> None:
    """The connection can drop between ``stop()`` seeing it up and its ``offline`` publish:
    paho then hands back an info whose ``is_published()`` raises (seen once in 12 full runs
    on a loaded 2-core machine).  Saying offline is best effort: the Last Will covers it."""
    lost = paho.MQTTMessageInfo(1)
    lost.rc = MQTTErrorCode.MQTT_ERR_NO_CONN
    with pytest.raises(RuntimeError):
        lost.is_published()  # what stop() used to call
    assert wait_published(lost, 5.0, lambda: True) is False

    pending = paho.MQTTMessageInfo(2)
    started = time.monotonic()
    assert wait_published(pending, 0.05, lambda: True) is False
    assert time.monotonic() - started < 2  # gave up at its timeout
    assert wait_published(pending, 5.0, lambda: False) is False  # connection gone: no wait

    acknowledged = paho.MQTTMessageInfo(3)
    acknowledged._set_as_published()
    assert wait_published(acknowledged, 5.0, lambda: True) is True


def test_refusals_are_retried_with_growing_pauses_then_buried() -> None:
    refusals = Refusals(max_attempts=3, min_delay_s=1.0, max_delay_s=60.0)
    assert refusals.refused(7, now=0.0) is None
    assert refusals.due(now=0.5, limit=10) == []
    assert refusals.due(now=1.0, limit=10) == [7]
    assert refusals.due(now=99.0, limit=10) == []  # in flight again: not due twice
    assert refusals.refused(7, now=2.0) is None  # second refusal: 2 s pause
    assert refusals.due(now=3.9, limit=10) == []
    assert refusals.due(now=4.0, limit=10) == [7]
    assert refusals.refused(7, now=5.0) == 3  # the last try: bury it
    assert len(refusals) == 0
    refusals.refused(8, now=0.0)
    refusals.forget(8)  # delivered after all
    assert refusals.attempts(8) == 0
    assert refusals.first_time("0x87") and not refusals.first_time("0x87")


@pytest.mark.parametrize(
    ("topic", "problem"),
    [
        ("ronda/a+b/events", "it contains '+'"),
        ("ronda/#", "it contains '#'"),
        ("ronda/\0", "it contains a NUL character"),
        ("", "it is empty"),
        ("é" * 40_000, "it is 80000 bytes long (MQTT allows 65535)"),
        ("ronda/\udcff", "it is not valid UTF-8 text"),
    ],
)
def test_topics_mqtt_would_refuse_are_named(topic: str, problem: str) -> None:
    assert str(topic_problem(topic)).startswith(problem)
    with pytest.raises(TopicError, match="cannot be used"):
        Topics(topic)


def test_a_good_prefix_makes_good_topics() -> None:
    topics = Topics("ronda/front door")  # spaces and UTF-8 are fine in MQTT
    assert topic_problem(topics.thumbnail("abc")) is None
    assert check_topic(topics.events) == "ronda/front door/events"
    with pytest.raises(TopicError):
        Topics("x" * 65_400)  # fits MQTT alone, but not with /events/<id>/thumbnail after it


# -- packet size -------------------------------------------------------------------------------
def test_packet_size_counts_header_topic_id_properties_and_payload() -> None:
    # fixed header 1 + length 1 + topic length 2 + "a" + packet id 2 + properties 1 (MQTT 5)
    assert packet_size("a", 0, 1, v5=True) == 8
    assert packet_size("a", 0, 1, v5=False) == 7
    assert packet_size("a", 0, 0, v5=False) == 5
    assert packet_size("a", 121, 1, v5=True) == 2 + 127  # remaining length 127: one byte
    assert packet_size("a", 122, 1, v5=True) == 3 + 128  # 128: two bytes
    limit = PacketLimit(4096, v5=True)
    budget = limit.payload_budget("ronda/x/events/e1/thumbnail", 1)
    assert limit.fits("ronda/x/events/e1/thumbnail", budget, 1)
    assert not limit.fits("ronda/x/events/e1/thumbnail", 4096, 1)


def test_shrink_jpeg_fits_the_budget_or_says_it_cannot() -> None:
    rng = np.random.default_rng(1)
    noisy = rng.integers(0, 255, (480, 480, 3), dtype=np.uint8)  # the worst case for JPEG
    jpeg = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
    smaller = shrink_jpeg(jpeg, 4000)
    assert smaller is not None and len(smaller) <= 4000
    picture = cv2.imdecode(np.frombuffer(smaller, np.uint8), cv2.IMREAD_COLOR)
    assert 32 <= picture.shape[0] < 480 and picture.shape[0] == picture.shape[1]  # same aspect
    assert shrink_jpeg(jpeg, 100) is None  # not even 32 px fits
    assert shrink_jpeg(b"\xff\xd8 not a picture", 4000) is None


def test_an_event_json_says_its_thumbnail_was_left_out() -> None:
    event = b'{"has_thumbnail":true,"id":"e1","thumbnail_topic":"r/events/e1/thumbnail"}'
    assert announced_thumbnail(event) == "r/events/e1/thumbnail"
    changed = json.loads(without_thumbnail(event, "larger than the broker's maximum"))
    assert changed == {
        "has_thumbnail": False,
        "id": "e1",
        "thumbnail_omitted": "larger than the broker's maximum",
        "thumbnail_topic": "r/events/e1/thumbnail",
    }
    assert announced_thumbnail(without_thumbnail(event, "x")) is None
    assert announced_thumbnail(b"\xff\xd8jpeg") is None
    assert announced_thumbnail(b"{not json") is None


def test_broker_limits_combine_the_connack_with_the_config() -> None:
    connack = Properties(PacketTypes.CONNACK)
    connack.MaximumPacketSize = 4096
    connack.ReceiveMaximum = 10
    limits = BrokerLimits.from_connack(connack, MqttConfig(max_inflight=20))
    assert (limits.packet, limits.window, limits.announced) == (PacketLimit(4096, True), 10, True)
    assert limits.describe() == "takes packets up to 4096 bytes, 10 unacknowledged message(s)"
    ours = BrokerLimits.from_connack(None, MqttConfig(protocol="3.1.1", max_packet_bytes=2048))
    assert (ours.packet, ours.window, ours.announced) == (PacketLimit(2048, False), 20, False)
    assert BrokerLimits.from_connack(None, MqttConfig()).packet is None  # no limit known


def test_protocol_5_may_be_written_as_a_number_in_yaml() -> None:
    assert MqttConfig.model_validate({"protocol": 5}).protocol == "5"
    assert MqttConfig.model_validate({"protocol": "3.1.1"}).protocol == "3.1.1"
    with pytest.raises(ValueError, match="protocol"):
        MqttConfig.model_validate({"protocol": "3.1"})
