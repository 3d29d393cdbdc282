"""The home page's broker connection: a persistent session that writes what it hears into the
home's store, and publishes whole-home commands.

Why a persistent session (MQTT 5 ``clean_start=False`` with a session expiry, or 3.1.1
``clean_session=False``) and QoS 1: while the page is down the broker queues the cameras' events
for it, and they arrive when it returns.  paho acknowledges a message only after
``on_message`` returned, and the store commits before that, so a crash between the two
makes the broker send the message again, and the store (one row per event) keeps it once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from camera.home.discovery import announce
from camera.home.settings import HomeFile
from camera.home.store import EventFacts, HomeStore
from camera.home.topics import CONTROLS, MAX_SNOOZE_MIN, command_topic, parse, subscriptions
from camera.mqtt.credentials import tls_context

log = logging.getLogger(__name__)

ONLINE, OFFLINE = b"online", b"offline"


class CommandError(ValueError):
    """A whole-home command that cannot be sent (one line for the page or the log)."""


def make_session_client(config: HomeFile) -> paho.Client:
    """A paho client for a persistent session, with the home's Last Will."""
    mqtt = config.mqtt
    home = config.home
    if mqtt.protocol == "5":
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=home.client_id,
            protocol=paho.MQTTv5,
        )
    else:
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=home.client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
        )
    password, _ = mqtt.resolve_password()
    if mqtt.username or password:
        client.username_pw_set(mqtt.username, password)
    if mqtt.tls.enabled:
        client.tls_set_context(tls_context(mqtt.tls))
        client.tls_insecure_set(mqtt.tls.insecure)
    client.will_set(f"{home.topic_prefix}/availability", OFFLINE, qos=1, retain=True)
    client.reconnect_delay_set(round(mqtt.reconnect_min_s) or 1, round(mqtt.reconnect_max_s))
    return client


class HomeListener:
    """Connects, subscribes to every camera filter, and keeps the store current."""

    def __init__(self, config: HomeFile, store: HomeStore) -> None:
        self.config = config
        self.home = config.home
        self.store = store
        self.client = make_session_client(config)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        """Set once the broker acknowledged the subscriptions: from then on nothing a camera
        publishes is missed (a new session hears only what comes after it)."""
        self.on_armed_change: list[Callable[[], None]] = []
        self.received = 0
        self.event_updates = 0
        """Event updates this copy was given (with a share group, its part of them)."""

    # -- life -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background (paho retries with backoff while the broker is away)."""
        mqtt = self.config.mqtt
        if mqtt.protocol == "5":
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = round(self.home.session_expiry_h * 3600)
            self.client.connect_async(
                mqtt.host,
                mqtt.port,
                mqtt.keepalive_s,
                clean_start=False,
                properties=properties,
            )
        else:
            self.client.connect_async(mqtt.host, mqtt.port, mqtt.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        """Say offline, then leave the session on the broker (it keeps queueing events)."""
        if self.connected.is_set():
            info = self.client.publish(self._own("availability"), OFFLINE, qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):  # gone: the Last Will says it
                info.wait_for_publish(timeout=3)
        self.client.disconnect()
        self.client.loop_stop()

    def _own(self, suffix: str) -> str:
        return f"{self.home.topic_prefix}/{suffix}"

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        if reason_code.is_failure:
            log.warning("home: the broker refused the connection: %s", reason_code)
            return
        present = getattr(flags, "session_present", False)
        log.info(
            "home: connected to %s:%s (%s)",
            self.config.mqtt.host,
            self.config.mqtt.port,
            "session resumed" if present else "new session",
        )
        topics = subscriptions(self.home.cameras, self.home.share_group)
        topics += [self._own(f"{control}/set") for control in CONTROLS]
        client.subscribe([(topic, 1) for topic in topics])
        client.publish(self._own("availability"), ONLINE, qos=1, retain=True)
        if self.home.discovery and self.config.mqtt.discovery.enabled:
            announce(client, self.config)
        self.connected.set()

    def _on_subscribe(self, *_: object) -> None:
        self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        self.connected.clear()
        if reason_code.is_failure:
            log.warning("home: lost the broker (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message: paho.MQTTMessage) -> None:  # type: ignore[no-untyped-def]
        self.received += 1
        try:
            self._handle(message.topic, bytes(message.payload))
        except Exception:  # one bad message must not stop the page hearing the others
            log.exception("home: cannot use the message on %s", message.topic)

    # -- what a message means ---------------------------------------------------------------------
    def _handle(self, topic: str, payload: bytes) -> None:
        if topic.startswith(self.home.topic_prefix + "/"):
            self._command(topic.removeprefix(self.home.topic_prefix + "/"), payload)
            return
        heard = parse(topic, self.home.cameras)
        if heard is None:
            return
        if heard.kind == "availability":
            self.store.availability(heard.prefix, payload == ONLINE)
        elif heard.kind == "stats":
            stats = _json(payload)
            self.store.stats(
                heard.prefix,
                _text(stats.get("camera")),
                _text(stats.get("governor_level")),
                _link(stats.get("page")),
            )
        elif heard.kind in ("armed", "snooze"):
            state = payload.decode("utf-8", "replace")[:16] or None
            self.store.control(heard.prefix, heard.kind, state)
            if heard.kind == "armed":
                self._publish_armed()
        elif heard.kind == "snapshot" and payload:
            self.store.snapshot(heard.prefix, heard.detail, payload)
        elif heard.kind == "event":
            event = _json(payload)
            facts = _facts(event)
            if facts is not None:
                self.event_updates += 1
                self.store.event(heard.prefix, _text(event.get("camera")), facts)
        elif heard.kind == "thumbnail" and payload:
            self.store.thumbnail(heard.prefix, heard.detail, payload)

    def _command(self, suffix: str, payload: bytes) -> None:
        """The whole-home entity in Home Assistant (or any client) sent a command."""
        text = payload.decode("utf-8", "replace").strip()
        try:
            if suffix == "armed/set":
                self.arm_all(text.upper() == "ON") if text.upper() in ("ON", "OFF") else None
            elif suffix == "snooze/set":
                self.snooze_all(parse_minutes(text))
        except CommandError as error:
            log.warning("home: %s ignored: %s", suffix, error)

    # -- whole-home commands -------------------------------------------------------------------
    def arm_all(self, armed: bool) -> int:
        """``ON``/``OFF`` to every known camera's ``armed/set``; the number of cameras."""
        return self._fan_out("armed", b"ON" if armed else b"OFF")

    def snooze_all(self, minutes: int) -> int:
        return self._fan_out("snooze", str(minutes).encode())

    def _fan_out(self, control: str, payload: bytes) -> int:
        if not self.connected.is_set():
            raise CommandError("not connected to the broker; nothing sent")
        cameras = self.store.cameras()
        for camera in cameras:
            self.client.publish(command_topic(camera.prefix, control), payload, qos=1)
        log.info("home: %s %s sent to %d camera(s)", control, payload.decode(), len(cameras))
        return len(cameras)

    def _publish_armed(self) -> None:
        """The whole-home state: ON when every camera that reports one is armed."""
        states = [c.armed for c in self.store.cameras() if c.armed is not None]
        if states:
            whole = b"ON" if all(state == "ON" for state in states) else b"OFF"
            self.client.publish(self._own("armed"), whole, qos=1, retain=True)
        for listener in self.on_armed_change:
            listener()


def parse_minutes(text: str) -> int:
    try:
        minutes = int(float(text))
    except ValueError:
        raise CommandError(
            f"snooze wants whole minutes 0..{MAX_SNOOZE_MIN}, not {text[:20]!r}"
        ) from None
    if not 0 <= minutes <= MAX_SNOOZE_MIN:
        raise CommandError(f"snooze wants whole minutes 0..{MAX_SNOOZE_MIN}, not {minutes}")
    return minutes


def _json(payload: bytes) -> dict[str, object]:
    try:
        data = json.loads(payload)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _text(value: object) -> str | None:
    return value[:64] if isinstance(value, str) and value else None


def _link(value: object) -> str | None:
    """A camera's page address, only http(s): the home page puts it in an ``href``."""
    if isinstance(value, str) and value.startswith(("http://", "https://")) and len(value) < 2048:
        return value
    return None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _facts(event: dict[str, object]) -> EventFacts | None:
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 128:
        return None
    sequence = event.get("sequence")
    return EventFacts(
        event_id=event_id,
        label=_text(event.get("label")) or "unknown",
        score=_number(event.get("score")),
        sequence=sequence if isinstance(sequence, int) else 0,
        kind=_text(event.get("type")) or "",
        start_time=_number(event.get("start_time")),
        end_time=_number(event.get("end_time")),
        start_local=_text(event.get("start_local")),
    )
