"""The broker link: one thread that owns the paho client, connects with backoff, drains the
outbox and keeps retained state current.

Why not paho's ``loop_start`` with its automatic reconnect: it hides *why* a connection failed
(an untrusted certificate, a refused password and a broker that is down all look the same), and
the owner needs one clear line for each.  So this thread connects itself, classifies the error,
logs it once (repeats go to debug), waits with exponential backoff and tries again, forever: a
broker that is down or refuses us never stops the camera.

Delivery rules, and the holes each one closes:

* A message leaves the outbox only when its PUBACK arrives.  Acknowledgements are written in
  batches (at most every quarter second, or 200 acks), so draining a backlog costs a few fsyncs
  a second, not one per message; a crash before a batch is written re-sends those messages
  (duplicates with the same event id and sequence, never losses).
* Rows are handed to paho strictly in ``seq`` order and never twice in one process: paho keeps
  every unacknowledged QoS 1 message across reconnects and re-sends it (DUP) before anything
  newer, so the outbox continues after the highest row paho already holds.  Re-reading rows
  from disk after a reconnect would publish them twice, and out of order.
* A publish that paho refuses (its queue is full, a message id is still taken) is not recorded
  and the row stays pending; only publishes paho accepted, sent or queued for the next
  connection, are waited for.
* A network cut without a TCP reset leaves the socket "open" for up to two keepalives.  While
  alerts are in flight, ``ack_timeout_s`` without any PUBACK closes the connection and reconnects
  (paho then re-sends them), so alerts are not stuck behind a dead socket.  A broker that accepts
  TCP but never answers the CONNECT gets the same timeout (paho alone would wait a keepalive).
* A broker that hangs up during the login (a TLS alert for a missing client certificate) is
  reported like a refused login, once, with the likely fix; it used to be retried in silence.
* An exception in a callback (a state handler, the database) is logged and the thread carries on;
  a dead network thread would silently stop every alert.
* A new alert interrupts the thread's select() (a wake socket beside paho's), so it is published
  within a millisecond or two of being queued, not at the next poll.

Retained state (snapshot, stats, discovery) is "latest value wins" and re-published on every
connect; ON/OFF are transitions, kept in order, so a short event still reaches Home Assistant as
ON then OFF.  ``wait_drained`` also waits for their PUBACKs and for SUBACKs, so a stop does not
cut off the final OFF.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from camera.mqtt.config import MqttConfig
from camera.sources.backoff import Backoff
from camera.store import Outbox

log = logging.getLogger(__name__)

_IDLE_TIMEOUT_S = 0.25  # select() wakes at once for traffic or a new alert; this is the idle tick
_ACCEPTED = (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)
_MAX_PENDING_STATE = 1000
_ACK_FLUSH_S = 0.25
_ACK_FLUSH_COUNT = 200


@dataclass(frozen=True, slots=True)
class RetainedMessage:
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass(slots=True)
class _InFlight:
    seq: int
    sent_at: float


class MqttLink:
    """See the module docstring.  Thread-safe: any thread may call ``put_state``, ``wake``,
    ``subscribe`` and ``wait_drained``; only the link's own thread touches the socket."""

    def __init__(
        self,
        config: MqttConfig,
        outbox: Outbox,
        *,
        client_id: str,
        will_topic: str,
        availability: bool = True,
    ) -> None:
        """``availability`` False: a helper process (``ronda flush``) that must not announce
        the camera online or offline, and sets no Last Will."""
        self.config = config
        self.availability = availability
        self.outbox = outbox
        self.client_id = client_id
        self.will_topic = will_topic
        self.connected = threading.Event()
        self.last_error: str | None = None
        self.on_connect_hooks: list[Callable[[], None]] = []
        self.message_hooks: dict[str, Callable[[bytes], None]] = {}
        self.acked = 0
        self.reconnects = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        # A new alert must not wait for select()'s timeout: wake() writes a byte here.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._room_opened = False
        self._state_lock = threading.Lock()
        self._state: dict[str, RetainedMessage] = {}
        self._pending_state: list[tuple[str, RetainedMessage]] = []  # in put order
        self._state_mids: set[int] = set()
        self._subscription_mids: set[int] = set()  # SUBACKs awaited (paho never re-sends them)
        self._inflight: dict[int, _InFlight] = {}  # paho mid -> outbox row
        self._inflight_lock = threading.Lock()
        self._acked_seqs: list[int] = []
        self._first_unflushed_ack = 0.0
        self._last_sent_seq = 0
        self._last_ack_at = 0.0
        self._ever_connected = False
        self._subscribe_now = threading.Event()
        self._paho_error: str | None = None
        self._client = self._make_client()
        self._thread = threading.Thread(target=self._run, name="mqtt", daemon=True)

    # -- public API --------------------------------------------------------------------------
    @property
    def broker(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """New rows in the outbox (or state): publish them now, not at the next idle tick."""
        self._wake.set()
        with contextlib.suppress(OSError):  # full (already woken) or closed (stopped)
            self._wake_w.send(b"!")

    def put_state(
        self, topic: str, payload: bytes | str, *, retain: bool = True, transitions: bool = False
    ) -> None:
        """Publish a latest-value message now (if connected) and again after every reconnect.

        A newer value replaces one not yet published, except with ``transitions``: ``ON`` then
        ``OFF`` of a short event (or of one during an outage) must both reach Home Assistant, or
        an automation waiting for ``ON`` never fires.  Up to ``_MAX_PENDING_STATE`` are kept.
        """
        data = payload.encode() if isinstance(payload, str) else payload
        message = RetainedMessage(data, retain=retain)
        with self._state_lock:
            self._state[topic] = message
            if not transitions:
                self._pending_state = [p for p in self._pending_state if p[0] != topic]
            self._pending_state.append((topic, message))
            if len(self._pending_state) > _MAX_PENDING_STATE:
                self._pending_state = list(self._state.items())
        self.wake()

    def resend_state(self) -> None:
        """Publish every latest value again (after a connect, or when a consumer asks): the
        transitions still pending first, then the latest value of every other topic."""
        with self._state_lock:
            pending = {topic for topic, _ in self._pending_state}
            self._pending_state += [(t, m) for t, m in self._state.items() if t not in pending]
        self.wake()

    def subscribe(self, topic: str, handler: Callable[[bytes], None]) -> None:
        """Call ``handler(payload)`` for messages on ``topic`` (re-subscribed on reconnect)."""
        self.message_hooks[topic] = handler
        self._subscribe_now.set()
        self.wake()

    def in_flight(self) -> int:
        """Outbox messages handed to paho and not yet acknowledged."""
        with self._inflight_lock:
            return len(self._inflight)

    def wait_drained(self, timeout: float) -> bool:
        """Wait until the outbox is empty and every state message and subscription is
        acknowledged; False on timeout.  Logs what it waits for, since a stop can take long."""
        depth = self.outbox.depth()
        if depth:
            log.info(
                "waiting up to %.0f s for the broker to acknowledge %d queued alert message(s)",
                timeout,
                depth,
            )
        deadline = time.monotonic() + timeout
        while True:
            with self._state_lock:
                state_busy = bool(
                    self._pending_state or self._state_mids or self._subscription_mids
                )
            if not state_busy and self.outbox.depth() == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def stop(self, *, publish_offline: bool = True) -> None:
        """Say ``offline`` (the clean counterpart of the Last Will) and disconnect."""
        if publish_offline and self.availability and self.connected.is_set():
            info = self._client.publish(self.will_topic, b"offline", qos=1, retain=True)
            deadline = time.monotonic() + 2.0
            while (
                not info.is_published() and time.monotonic() < deadline and self.connected.is_set()
            ):
                time.sleep(0.01)
        self._stop.set()
        self.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._flush_acks()
        self._wake_r.close()
        self._wake_w.close()
        try:
            self._client.disconnect()
        except (OSError, ValueError) as error:
            log.debug("disconnect: %s", error)

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
        if self.availability:
            client.will_set(self.will_topic, b"offline", qos=1, retain=True)
        client.max_inflight_messages_set(self.config.max_inflight)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_log = self._on_log
        client.on_subscribe = self._on_subscribe
        return client

    # -- network thread ----------------------------------------------------------------------
    def _run(self) -> None:
        backoff = Backoff(self.config.reconnect_min_s, self.config.reconnect_max_s, self._stop)
        while not self._stop.is_set():
            try:
                session_ok = self._connect_once() and self._serve()
            except Exception:
                # Never let the thread die: every later alert would silently stay on disk.
                log.exception("MQTT link error; reconnecting")
                self._drop_connection()
                session_ok = False
            self._flush_acks()
            if session_ok:
                backoff.reset()
            if not self._stop.is_set():
                backoff.wait()

    def _connect_once(self) -> bool:
        self._paho_error = None
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
        started = time.monotonic()
        while not self._stop.is_set():
            rc = self._loop_once(_IDLE_TIMEOUT_S)
            self._flush_acks(force=False)
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                if not accepted and rc != MQTTErrorCode.MQTT_ERR_CONN_REFUSED:
                    self._report_closed_during_login(rc)
                break
            if not accepted and not self.connected.is_set():
                if time.monotonic() - started > self.config.ack_timeout_s:
                    self._report(
                        f"MQTT broker {self.broker} accepted the connection but did not answer "
                        f"the login within {self.config.ack_timeout_s:.0f} s"
                    )
                    self._drop_connection()
                    break
            elif self.connected.is_set():
                accepted = True
                if self._ack_overdue():
                    self._drop_connection()
                    break
                if self._subscribe_now.is_set():
                    self._subscribe_all()
                woken = self._wake.is_set()
                self._wake.clear()
                self._flush_state()
                if woken or self._room_opened:
                    self._room_opened = False
                    self._drain()
        self.connected.clear()
        return accepted

    def _loop_once(self, timeout: float) -> MQTTErrorCode:
        """paho's documented external-loop API (``loop_read``/``loop_write``/``loop_misc``)
        around our own select(), which also watches the wake socket: ``paho.loop()`` would
        sleep through a new alert until its timeout."""
        sock = self._client.socket()
        if sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0  # TLS-buffered bytes
        writers = [sock] if self._client.want_write() else []
        try:
            readable, writable, _ = select.select(
                [sock, self._wake_r], writers, [], 0.0 if pending else timeout
            )
        except (OSError, ValueError, TypeError):  # the socket was closed under us
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if self._wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                self._wake_r.recv(4096)
        if sock in readable or pending:
            rc = self._client.loop_read()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return rc
            if self._client.socket() is None:
                return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if sock in writable or self._client.want_write():
            rc = self._client.loop_write()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return rc
        return self._client.loop_misc()

    def _drain(self) -> None:
        """Hand the next rows to paho, in order, up to ``max_inflight`` unacknowledged."""
        with self._inflight_lock:
            room = self.config.max_inflight - len(self._inflight)
        if room <= 0:
            return
        for message in self.outbox.pending(after_seq=self._last_sent_seq, limit=room):
            info = self._client.publish(
                message.topic, message.payload, qos=message.qos, retain=message.retain
            )
            if info.rc not in _ACCEPTED:
                log.warning("paho refused to queue an alert (%s); retrying", info.rc)
                self._room_opened = True  # try again at the next turn
                return
            with self._inflight_lock:
                self._inflight[info.mid] = _InFlight(message.seq, time.monotonic())
            self._last_sent_seq = message.seq
            if message.qos == 0:
                self._complete(info.mid)

    def _flush_state(self) -> None:
        with self._state_lock:
            pending, self._pending_state = self._pending_state, []
        for index, (topic, message) in enumerate(pending):
            info = self._client.publish(
                topic, message.payload, qos=message.qos, retain=message.retain
            )
            with self._state_lock:
                if info.rc not in _ACCEPTED:
                    self._pending_state[:0] = pending[index:]
                    return
                if message.qos > 0:
                    self._state_mids.add(info.mid)

    def _subscribe_all(self) -> None:
        self._subscribe_now.clear()
        for topic in list(self.message_hooks):
            rc, mid = self._client.subscribe(topic, qos=1)
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
                with self._state_lock:
                    self._subscription_mids.add(mid)

    def _ack_overdue(self) -> bool:
        """True when alerts have waited ``ack_timeout_s`` with no PUBACK at all."""
        with self._inflight_lock:
            if not self._inflight:
                return False
            oldest = min(item.sent_at for item in self._inflight.values())
        waited = time.monotonic() - max(oldest, self._last_ack_at)
        if waited < self.config.ack_timeout_s:
            return False
        log.warning(
            "no acknowledgement from MQTT broker %s for %.0f s with %d alert message(s) in "
            "flight: the connection is dead; reconnecting",
            self.broker,
            waited,
            self.in_flight(),
        )
        return True

    def _drop_connection(self) -> None:
        """Close the socket without a DISCONNECT (so the broker publishes the Last Will, as it
        would for a real failure); paho keeps the unacknowledged messages for the next connect."""
        self.connected.clear()
        sock = self._client.socket()
        if sock is not None:
            try:
                sock.close()
            except OSError as error:
                log.debug("closing the MQTT socket: %s", error)

    def _complete(self, mid: int) -> None:
        with self._inflight_lock:
            item = self._inflight.pop(mid, None)
            if item is not None:
                if not self._acked_seqs:
                    self._first_unflushed_ack = time.monotonic()
                self._acked_seqs.append(item.seq)
                self._room_opened = True  # the window has room: send the next rows
        if item is None:
            with self._state_lock:
                self._state_mids.discard(mid)

    def _flush_acks(self, *, force: bool = True) -> None:
        """Delete acknowledged rows: every ``_ACK_FLUSH_S`` or ``_ACK_FLUSH_COUNT`` acks while
        draining (each transaction is an fsync and frees the thumbnails' pages), at once when
        the connection ends or the link stops."""
        with self._inflight_lock:
            if not self._acked_seqs:
                return
            due = (
                force
                or len(self._acked_seqs) >= _ACK_FLUSH_COUNT
                or time.monotonic() - self._first_unflushed_ack >= _ACK_FLUSH_S
            )
            if not due:
                return
            seqs, self._acked_seqs = self._acked_seqs, []
        self.outbox.ack_many(seqs)
        self.acked += len(seqs)

    # -- paho callbacks (network thread; they must never raise into paho) ---------------------
    def _on_connect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            _, source = self.config.resolve_password()
            user = self.config.username or "(none)"
            self._report(
                f"MQTT broker {self.broker} refused the login: {reason_code} "
                f"(user {user}, password from {source})"
            )
            return
        if self._ever_connected:
            self.reconnects += 1
        again = self._ever_connected or self.last_error is not None
        self._ever_connected = True
        self.last_error = None
        depth = self.outbox.depth()
        log.info(
            "%s MQTT broker %s%s",
            "reconnected to" if again else "connected to",
            self.broker,
            f"; delivering {depth} queued message(s)" if depth else "",
        )
        now = time.monotonic()
        self._last_ack_at = now
        with self._inflight_lock:
            for item in self._inflight.values():
                item.sent_at = now  # paho re-sends them right after this callback
        if self.availability:
            client.publish(self.will_topic, b"online", qos=1, retain=True)
        self.resend_state()
        with self._state_lock:
            self._subscription_mids.clear()  # lost with the old connection; subscribe again
        self._subscribe_now.set()
        for hook in self.on_connect_hooks:
            try:
                hook()
            except Exception:
                log.exception("on-connect hook %r failed", hook)
        self.connected.set()

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if self.connected.is_set():
            log.warning(
                "lost the MQTT broker %s (%s); alerts queue on disk meanwhile",
                self.broker,
                reason_code,
            )
        self.connected.clear()

    def _on_publish(
        self,
        client: paho.Client,
        userdata: object,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._last_ack_at = time.monotonic()
        self._complete(mid)

    def _on_subscribe(
        self,
        client: paho.Client,
        userdata: object,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        with self._state_lock:
            self._subscription_mids.discard(mid)

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        self._last_ack_at = time.monotonic()
        handler = self.message_hooks.get(message.topic)
        if handler is None:
            return
        try:
            handler(bytes(message.payload))
        except Exception:
            log.exception("handler for MQTT topic %s failed", message.topic)

    def _on_log(self, client: paho.Client, userdata: object, level: int, text: str) -> None:
        """Keep paho's last error (e.g. the TLS alert behind a dropped connection) for
        ``_report``; paho's own messages never contain the password."""
        if level == paho.MQTT_LOG_ERR:
            self._paho_error = text

    def _report_closed_during_login(self, rc: MQTTErrorCode) -> None:
        """The socket opened but the broker hung up before answering the login: say why."""
        detail = self._paho_error or paho.error_string(rc)
        hint = ""
        if "CERTIFICATE_REQUIRED" in detail.upper().replace(" ", "_"):
            hint = "; the broker requires a client certificate: set mqtt.tls.cert_file and key_file"
        elif self.config.tls.enabled and self.config.tls.cert_file is None:
            # TLS 1.3 reports a missing client certificate after the handshake, often as a bare
            # EOF: the likeliest cause with TLS and no certificate configured.
            hint = (
                "; if the broker requires a client certificate, set mqtt.tls.cert_file and key_file"
            )
        self._report(
            f"MQTT broker {self.broker} closed the connection during the login ({detail}){hint}"
        )

    def _report(self, message: str) -> None:
        """Log a connection problem once; identical repeats during the outage go to debug."""
        if message != self.last_error:
            log.error("%s; retrying with backoff", message)
        else:
            log.debug("%s (still)", message)
        self.last_error = message
