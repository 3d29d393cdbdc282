"""The broker link: one thread that owns the paho client, connects with backoff, drains the
outbox and keeps retained state current.

The parts, each with its own rules (read their docstrings):

* ``camera.mqtt.sender``: what is sent over an open connection: the outbox rows, handed to
  paho in order and deleted when acknowledged (refused rows tried again or buried as dead
  letters), and the retained state;
* ``camera.mqtt.transport``: the select() loop over paho's external-loop API, with a wake
  socket, and the backoff between connection attempts;
* ``camera.mqtt.window``: the in-flight window (rows in ``seq`` order, never twice) and the
  batched acknowledgements;
* ``camera.mqtt.retained``: latest-value state and ON/OFF transitions, re-sent on connect;
* ``camera.mqtt.subscriptions``: what we listen to, re-subscribed on connect;
* ``camera.mqtt.refusals``: messages the broker refused, tried again a bounded number of times;
* ``camera.mqtt.packet_size`` and ``fitter``: messages that fit the broker's Maximum Packet Size
  (thumbnails shrunk or left out, the event JSON always sent);
* ``camera.mqtt.login`` and ``wording``: one clear line per connection problem, logged once.

What this class adds is the order of things on the link thread, and the rules that need more
than one part:

* A message leaves the outbox only when a PUBACK without a failure reason code arrives.  A
  publish that paho cannot take *now* (its queue is full, a message id is still taken) is not
  recorded and the row stays pending; only publishes paho accepted, sent or queued for the next
  connection, are waited for.
* The outbox never blocks on one message: a row the client refuses for good (a topic with a
  wildcard, too long) or cannot read (a corrupt row) goes to the dead letters at once, one the
  broker refused goes there after ``refused_attempts`` tries; the rows behind it are delivered
  meanwhile.  Rows another process put back (``ronda outbox retry``) are picked up within a
  second.
* With alerts in flight, ``ack_timeout_s`` without any PUBACK closes the connection and
  reconnects (paho then re-sends them), so alerts are not stuck behind a dead socket (a network
  cut without a TCP reset leaves it "open" for up to two keepalives).  A broker that accepts TCP
  but never answers the CONNECT gets the same timeout.
* A broker that hangs up during the login (a TLS alert for a missing client certificate) is
  reported like a refused login, once, with the likely fix.
* An exception in a callback (a state handler, the database) is logged and the thread carries
  on; a dead network thread would silently stop every alert.  A broker that is down or refuses
  us never stops the camera: the link retries forever, with backoff.
* ``wait_drained`` also waits for the PUBACKs of state messages and for SUBACKs, so a stop does
  not cut off the final OFF.  When it begins, a link asleep in its backoff tries again at once
  (a replay that ends while the link sleeps a long backoff would otherwise spend its whole drain
  timeout asleep while the broker is back); ``cancel_drain`` ends it at once (a second SIGTERM),
  and the outbox keeps what is left.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from camera.mqtt.client import connect, make_client
from camera.mqtt.config import MqttConfig
from camera.mqtt.login import Login
from camera.mqtt.packet_size import BrokerLimits
from camera.mqtt.sender import Sender
from camera.mqtt.subscriptions import Handler, Subscriptions
from camera.mqtt.transport import ReconnectTimer, Transport
from camera.store import Outbox

log = logging.getLogger(__name__)

_IDLE_TIMEOUT_S = 0.25  # select() wakes at once for traffic or a new alert; this is the idle tick


def wait_published(
    info: paho.MQTTMessageInfo, timeout: float, still_connected: Callable[[], bool]
) -> bool:
    """Wait until paho has the broker's acknowledgement of ``info``; False after ``timeout``,
    once the connection is gone, or when paho could not even send it.  paho's own
    ``is_published()`` raises for the last case (the connection dropped between our check and
    the publish), which at shutdown would be a traceback for a message the Last Will covers."""
    deadline = time.monotonic() + timeout
    while info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN):
        if info.is_published():
            return True
        if time.monotonic() >= deadline or not still_connected():
            return False
        time.sleep(0.01)
    return False


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
        self.on_connect_hooks: list[Callable[[], None]] = []
        self.reconnects = 0
        self.resent = 0
        """Rows in flight when a connection was re-established: paho publishes them again, so
        they are the only duplicates this process can cause (a crash adds the acknowledged rows
        not yet deleted, see ``window.unflushed``)."""
        self.subscriptions = Subscriptions()
        self.login = Login(config, self.broker)
        self._stop = threading.Event()
        self._drain_cancelled = threading.Event()
        self._wake = threading.Event()
        self._client = make_client(config, client_id, will_topic if availability else None)
        self.sender = Sender(config, outbox, self._client, self.broker)
        self.state = self.sender.state
        self.window = self.sender.window
        self._install_callbacks(self._client)
        self._transport = Transport(self._client)
        self._timer = ReconnectTimer(config.reconnect_min_s, config.reconnect_max_s)
        self._thread = threading.Thread(target=self._run, name="mqtt", daemon=True)

    # -- public API --------------------------------------------------------------------------
    @property
    def broker(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    @property
    def last_error(self) -> str | None:
        """The connection problem still standing (``None`` once connected)."""
        return self.login.problem

    def undelivered_reason(self) -> str | None:
        """Why alerts may still be queued: the connection problem standing, else the last
        refusal by the broker (they are tried again, then kept as dead letters)."""
        return self.last_error or self.sender.refused_reason()

    @property
    def message_hooks(self) -> dict[str, Handler]:
        return self.subscriptions.handlers

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """New rows in the outbox (or state): publish them now, not at the next idle tick."""
        self._wake.set()
        self._transport.wake()

    def put_state(
        self, topic: str, payload: bytes | str, *, retain: bool = True, transitions: bool = False
    ) -> None:
        """Publish a latest-value message now (if connected) and again after every reconnect;
        with ``transitions`` every value is sent in order (see ``camera.mqtt.retained``)."""
        data = payload.encode() if isinstance(payload, str) else payload
        self.state.put(topic, data, retain=retain, transitions=transitions)
        self.wake()

    def resend_state(self) -> None:
        """Publish every latest value again (after a connect, or when a consumer asks)."""
        self.state.resend_all()
        self.wake()

    def subscribe(self, topic: str, handler: Handler, *, retained: bool = True) -> None:
        """Call ``handler(payload)`` for messages on ``topic`` (re-subscribed on reconnect);
        ``retained`` False: a retained message there is ignored (a command, see
        ``camera.mqtt.subscriptions``)."""
        self.subscriptions.add(topic, handler, retained=retained)
        self.wake()

    def in_flight(self) -> int:
        """Outbox messages handed to paho and not yet acknowledged."""
        return len(self.window)

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
        if not self.connected.is_set():
            self._timer.retry_now()  # not at the end of a backoff sleep: the drain is now
        deadline = time.monotonic() + timeout
        while True:
            if not (self.sender.busy() or self.subscriptions.busy()):
                return True
            if time.monotonic() >= deadline:
                return False
            if self._drain_cancelled.wait(0.02):
                log.info("drain cancelled: %d alert message(s) stay queued", self.outbox.depth())
                return False

    def cancel_drain(self) -> None:
        """End ``wait_drained`` now, and any later one at once (a second SIGTERM or Ctrl-C:
        the owner wants the process gone; the outbox keeps what is undelivered)."""
        self._drain_cancelled.set()

    def stop(self, *, publish_offline: bool = True) -> None:
        """Say ``offline`` (the clean counterpart of the Last Will) and disconnect."""
        if publish_offline and self.availability and self.connected.is_set():
            info = self._client.publish(self.will_topic, b"offline", qos=1, retain=True)
            if not wait_published(info, 2.0, self.connected.is_set):
                log.debug("could not say offline before disconnecting; the Last Will says it")
        self._stop.set()
        self._timer.stop()
        self.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.sender.flush_acks(force=True)
        self._transport.close()

    # -- network thread ----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                session_ok = self._connect_once() and self._serve()
            except Exception:
                # Never let the thread die: every later alert would silently stay on disk.
                log.exception("MQTT link error; reconnecting")
                self._drop_connection()
                session_ok = False
            self.sender.flush_acks(force=True)
            if session_ok:
                self._timer.reset()
            if not self._stop.is_set():
                self._timer.wait()

    def _connect_once(self) -> bool:
        self.login.attempt()
        try:
            connect(self._client, self.config)
            return True
        except OSError as error:
            self.login.cannot_connect(error)
        return False

    def _serve(self) -> bool:
        """Run the paho loop until the connection drops; True if it was ever accepted."""
        accepted = False
        started = time.monotonic()
        while not self._stop.is_set():
            rc = self._transport.loop_once(_IDLE_TIMEOUT_S)
            self.sender.flush_acks(force=False)
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                if not accepted:
                    self.login.closed(rc)
                break
            if not accepted and not self.connected.is_set():
                if time.monotonic() - started > self.config.ack_timeout_s:
                    self.login.unanswered()
                    self._drop_connection()
                    break
            elif self.connected.is_set():
                accepted = True
                if self.sender.overdue():
                    self._drop_connection()
                    break
                self._serve_turn()
        self.connected.clear()
        return accepted

    def _serve_turn(self) -> None:
        """One connected turn: subscriptions, state, then the next outbox rows."""
        for topic in self.subscriptions.take_due():
            rc, mid = self._client.subscribe(topic, qos=1)
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
                self.subscriptions.sent(mid)
        woken = self._wake.is_set()
        self._wake.clear()
        self.sender.publish_state()
        if self.sender.due(woken, time.monotonic()):
            self.sender.drain()

    def _drop_connection(self) -> None:
        self.connected.clear()
        self._transport.drop()

    # -- paho callbacks (network thread; they must never raise into paho) ---------------------
    def _install_callbacks(self, client: paho.Client) -> None:
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_log = self._on_log
        client.on_subscribe = self._on_subscribe

    def _on_connect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self.login.refused(reason_code)
            return
        if self.login.accepted(queued=self.outbox.depth()):
            self.reconnects += 1
            self.resent += len(self.window)
        self.window.restart_clock(time.monotonic())
        self._adopt_broker_limits(properties)
        if self.availability:
            client.publish(self.will_topic, b"online", qos=1, retain=True)
        self.resend_state()
        self.subscriptions.reconnected()
        for hook in self.on_connect_hooks:
            try:
                hook()
            except Exception:
                log.exception("on-connect hook %r failed", hook)
        self.connected.set()

    def _adopt_broker_limits(self, properties: Properties | None) -> None:
        limits = BrokerLimits.from_connack(properties, self.config)
        self.sender.adopt(limits)
        if limits.announced:
            log.info("MQTT broker %s %s", self.broker, limits.describe())

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
        if self.sender.published(mid, reason_code, time.monotonic()):
            return
        self.state.acknowledged(mid)  # a state message's
        if reason_code.is_failure and self.sender.refusals.first_time(f"state:{reason_code}"):
            log.warning("MQTT broker %s refused a state message: %s", self.broker, reason_code)

    def _on_subscribe(
        self,
        client: paho.Client,
        userdata: object,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        self.subscriptions.acknowledged(mid)

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        self.window.last_ack_at = time.monotonic()  # the connection is alive
        self.subscriptions.dispatch(
            message.topic, bytes(message.payload), retained=bool(message.retain)
        )

    def _on_log(self, client: paho.Client, userdata: object, level: int, text: str) -> None:
        self.login.paho_log(level, text)
