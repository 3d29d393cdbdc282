"""The broker link: one thread that owns the paho client, connects with backoff, drains the
outbox and keeps retained state current.

Why not paho's ``loop_start`` with its automatic reconnect: it hides *why* a connection failed
(an untrusted certificate, a refused password and a broker that is down all look the same), and
the owner needs one clear line for each.  So this thread connects itself, classifies the error,
logs it once (repeats go to debug), waits with exponential backoff and tries again, forever: a
broker that is down or refuses us never stops the camera.

Delivery rule: a message leaves the outbox only when its PUBACK arrives.  paho re-sends its
unacknowledged QoS 1 messages after a reconnect, so the same ``mid`` is acknowledged later; after
a process restart the outbox rows are simply published again.  Retained state (ON/OFF, snapshot,
stats, discovery) is "latest value wins" and is re-published on every connect.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from camera.mqtt.config import MqttConfig
from camera.sources.backoff import Backoff
from camera.store import Outbox

log = logging.getLogger(__name__)

_LOOP_TIMEOUT_S = 0.05


@dataclass(frozen=True, slots=True)
class RetainedMessage:
    payload: bytes
    qos: int = 1
    retain: bool = True


class MqttLink:
    """See the module docstring.  Thread-safe: any thread may call ``put_state`` and ``wake``."""

    def __init__(
        self,
        config: MqttConfig,
        outbox: Outbox,
        *,
        client_id: str,
        will_topic: str,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.client_id = client_id
        self.will_topic = will_topic
        self.connected = threading.Event()
        self.last_error: str | None = None
        self.on_connect_hooks: list[Callable[[], None]] = []
        self.message_hooks: dict[str, Callable[[bytes], None]] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._state_lock = threading.Lock()
        self._state: dict[str, RetainedMessage] = {}
        self._dirty_state: set[str] = set()
        self._inflight: dict[int, int] = {}  # paho mid -> outbox seq
        self._inflight_lock = threading.Lock()
        self._last_sent_seq = 0
        self._client = self._make_client()
        self._thread = threading.Thread(target=self._run, name="mqtt", daemon=True)
        self.acked = 0

    # -- public API --------------------------------------------------------------------------
    @property
    def broker(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """New rows in the outbox: publish them now rather than at the next poll."""
        self._wake.set()

    def put_state(self, topic: str, payload: bytes | str, *, retain: bool = True) -> None:
        """Publish a latest-value message now (if connected) and again after every reconnect."""
        data = payload.encode() if isinstance(payload, str) else payload
        with self._state_lock:
            self._state[topic] = RetainedMessage(data, retain=retain)
            self._dirty_state.add(topic)
        self._wake.set()

    def subscribe(self, topic: str, handler: Callable[[bytes], None]) -> None:
        """Call ``handler(payload)`` for messages on ``topic`` (re-subscribed on reconnect)."""
        self.message_hooks[topic] = handler

    def wait_drained(self, timeout: float) -> bool:
        """Wait until the outbox is empty and acknowledged; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.outbox.depth() == 0 and not self._dirty_state:
                return True
            self._wake.set()
            time.sleep(0.02)
        return self.outbox.depth() == 0

    def stop(self, *, publish_offline: bool = True) -> None:
        """Say ``offline`` (the clean counterpart of the Last Will) and disconnect."""
        if publish_offline and self.connected.is_set():
            info = self._client.publish(self.will_topic, b"offline", qos=1, retain=True)
            deadline = time.monotonic() + 2.0
            while (
                not info.is_published() and time.monotonic() < deadline and self.connected.is_set()
            ):
                time.sleep(0.01)
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        with contextlib.suppress(OSError, ValueError):
            self._client.disconnect()

    # -- client set-up -----------------------------------------------------------------------
    def _make_client(self) -> paho.Client:
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=True,
            protocol=paho.MQTTv311,
        )
        password, _ = self.config.resolve_password()
        if self.config.username or password:
            client.username_pw_set(self.config.username, password)
        tls = self.config.tls
        if tls.enabled:
            client.tls_set(
                ca_certs=str(tls.ca_file) if tls.ca_file else None,
                certfile=str(tls.cert_file) if tls.cert_file else None,
                keyfile=str(tls.key_file) if tls.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
            client.tls_insecure_set(tls.insecure)
        client.will_set(self.will_topic, b"offline", qos=1, retain=True)
        client.max_inflight_messages_set(self.config.max_inflight)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    # -- network thread ----------------------------------------------------------------------
    def _run(self) -> None:
        backoff = Backoff(self.config.reconnect_min_s, self.config.reconnect_max_s, self._stop)
        while not self._stop.is_set():
            if not self._connect_once():
                backoff.wait()
                continue
            session_ok = self._serve()
            if session_ok:
                backoff.reset()
            if not self._stop.is_set():
                backoff.wait()

    def _connect_once(self) -> bool:
        try:
            self._client.connect(self.config.host, self.config.port, self.config.keepalive_s)
            return True
        except ssl.SSLCertVerificationError as error:
            self._report(
                f"TLS: the certificate of broker {self.broker} is not trusted "
                f"({error.verify_message}); check mqtt.tls.ca_file"
            )
        except ssl.SSLError as error:
            self._report(f"TLS handshake with broker {self.broker} failed: {error.reason or error}")
        except socket.gaierror:
            self._report(f"MQTT broker host {self.config.host!r} cannot be resolved")
        except ConnectionRefusedError:
            self._report(f"MQTT broker {self.broker} refused the connection (is it running?)")
        except TimeoutError:
            self._report(f"MQTT broker {self.broker} did not answer (timeout)")
        except OSError as error:
            self._report(f"MQTT broker {self.broker} is unreachable: {error.strerror or error}")
        return False

    def _serve(self) -> bool:
        """Run the paho loop until the connection drops; True if it was ever accepted."""
        accepted = False
        while not self._stop.is_set():
            rc = self._client.loop(timeout=_LOOP_TIMEOUT_S)
            if rc != paho.MQTT_ERR_SUCCESS:
                break
            if self.connected.is_set():
                accepted = True
                self._flush_state()
                self._drain()
            self._wake.clear()
        if self.connected.is_set():
            self.connected.clear()
            log.warning("lost the MQTT broker %s; alerts queue on disk meanwhile", self.broker)
        return accepted

    def _drain(self) -> None:
        with self._inflight_lock:
            room = self.config.max_inflight - len(self._inflight)
        if room <= 0:
            return
        for message in self.outbox.pending(after_seq=self._last_sent_seq, limit=room):
            info = self._client.publish(
                message.topic, message.payload, qos=message.qos, retain=message.retain
            )
            with self._inflight_lock:
                self._inflight[info.mid] = message.seq
            self._last_sent_seq = message.seq
            if message.qos == 0:
                self._complete(info.mid)

    def _flush_state(self) -> None:
        with self._state_lock:
            dirty = [(t, self._state[t]) for t in self._dirty_state]
            self._dirty_state.clear()
        for topic, message in dirty:
            self._client.publish(topic, message.payload, qos=message.qos, retain=message.retain)

    def _complete(self, mid: int) -> None:
        with self._inflight_lock:
            seq = self._inflight.pop(mid, None)
        if seq is not None:
            self.outbox.ack(seq)
            self.acked += 1

    # -- paho callbacks (network thread) -----------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            _, source = self.config.resolve_password()
            user = self.config.username or "(none)"
            self._report(
                f"MQTT broker {self.broker} refused the login: {reason_code} "
                f"(user {user}, password from {source})"
            )
            return
        first = self.last_error is not None
        self.last_error = None
        depth = self.outbox.depth()
        log.info(
            "%s MQTT broker %s%s",
            "reconnected to" if first else "connected to",
            self.broker,
            f"; delivering {depth} queued message(s)" if depth else "",
        )
        # A fresh session: paho re-sends what it still holds; everything else comes from disk.
        with self._inflight_lock:
            self._last_sent_seq = max(self._inflight.values(), default=0)
        client.publish(self.will_topic, b"online", qos=1, retain=True)
        with self._state_lock:
            self._dirty_state = set(self._state)
        for topic in self.message_hooks:
            client.subscribe(topic, qos=1)
        for hook in self.on_connect_hooks:
            hook()
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._complete(mid)

    def _on_message(self, client, userdata, message) -> None:
        handler = self.message_hooks.get(message.topic)
        if handler is not None:
            handler(bytes(message.payload))

    def _report(self, message: str) -> None:
        """Log a connection problem once; identical repeats during the outage go to debug."""
        if message != self.last_error:
            log.error("%s; retrying with backoff", message)
        else:
            log.debug("%s (still)", message)
        self.last_error = message
