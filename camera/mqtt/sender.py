"""What the broker link sends over an open connection: the outbox's rows and the retained state.

``camera.mqtt.link.MqttLink`` owns the connection and its thread; ``Sender`` is called on that
thread only, and both kinds of message go through one ``PacketFitter`` (the broker's packet
size):

* ``drain`` hands rows to paho, up to the in-flight window: refused rows whose retry is due
  first, then the next rows in ``seq`` order.  A publish paho cannot take *now* (its queue is
  full, a message id is still taken) is not recorded and the row stays pending; a row the client
  refuses for good (a topic with a wildcard, too long) or cannot read goes to the dead letters
  at once, so the rows behind it are delivered meanwhile.
* ``published`` takes a PUBACK: a row leaves the outbox only without a failure reason code;
  one the broker refused is tried again ``refused_attempts`` times (``camera.mqtt.refusals``),
  then kept as a dead letter.
* ``flush_acks`` deletes the acknowledged rows in batches (each transaction is an fsync).
* ``publish_state`` sends the latest values of ``camera.mqtt.retained`` (what paho cannot take
  now is sent at the next turn); their PUBACKs are what ``published`` does not claim.
* ``overdue`` tells when alerts have waited ``ack_timeout_s`` without any PUBACK, so the link
  reconnects rather than wait behind a dead socket.
"""

from __future__ import annotations

import logging
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from camera.mqtt import wording
from camera.mqtt.config import MqttConfig
from camera.mqtt.fitter import PacketFitter, TooLarge
from camera.mqtt.packet_size import BrokerLimits
from camera.mqtt.refusals import Refusals
from camera.mqtt.retained import RetainedState
from camera.mqtt.window import InFlightWindow
from camera.store import Outbox, QueuedMessage

log = logging.getLogger("camera.mqtt.link")  # one of the link's parts, as the owner reads it

ACCEPTED = (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)
"""paho took the publish: sent now, or queued for the next connection."""
_POLL_S = 1.0  # look for rows another process queued (``ronda outbox retry``) this often


class Sender:
    """See the module docstring.  Not thread-safe: the link's thread only."""

    def __init__(
        self, config: MqttConfig, outbox: Outbox, client: paho.Client, broker: str
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.broker = broker
        self._client = client
        self.window = InFlightWindow(config.max_inflight)
        self.refusals = Refusals(
            config.refused_attempts, config.reconnect_min_s, config.reconnect_max_s
        )
        self.fitter = PacketFitter(outbox, broker)
        self.state = RetainedState()
        self.acked = 0
        self.buried = 0
        """Messages moved to the dead letters."""
        self.last_refusal: str | None = None
        self._next_poll = 0.0

    def refused_reason(self) -> str | None:
        """Why rows wait although connected: the broker refused them (tried again, then buried)."""
        if self.last_refusal is None or not len(self.refusals):
            return None
        return f"the broker refused them ({self.last_refusal}); tried again, then dead letters"

    def busy(self) -> bool:
        """Rows queued, or state messages still to send or to be acknowledged."""
        return self.state.busy() or self.outbox.depth() > 0

    def due(self, woken: bool, now: float) -> bool:
        """Rows to look for now: room opened in the window, new rows, or the poll is due."""
        if self.window.take_room_opened() or woken or now >= self._next_poll:
            self._next_poll = now + _POLL_S
            return True
        return False

    def drain(self) -> None:
        """Hand rows to paho, up to ``max_inflight`` unacknowledged: refused rows whose retry
        is due first, then the next rows in order."""
        room = self.window.room()
        if room <= 0:
            return
        retries = [self.outbox.get(seq) for seq in self.refusals.due(time.monotonic(), room)]
        rows = [m for m in retries if m is not None]
        rows += self.outbox.pending(after_seq=self.window.last_sent_seq, limit=room - len(rows))
        for message in rows:
            if not self._publish_row(message):
                return

    def _publish_row(self, message: QueuedMessage) -> bool:
        """Hand one row to paho; False when paho cannot take more now."""
        try:
            payload = self.fitter.payload(message)
            if payload is None:  # a thumbnail left out: nothing to wait for
                self.window.skip(message.seq)
                return True
            info = self._client.publish(
                message.topic, payload, qos=message.qos, retain=message.retain
            )
        except (TooLarge, ValueError, TypeError) as error:  # never publishable as it is
            self.window.skip(message.seq)
            self._bury(message, f"refused by the MQTT client: {error}", attempts=1)
            return True
        if info.rc not in ACCEPTED:
            log.warning("paho refused to queue an alert (%s); retrying", info.rc)
            self.window.open_room()  # try again at the next turn
            return False
        self.window.sent(info.mid, message.seq, time.monotonic())
        if message.qos == 0:
            self.window.acknowledged(info.mid, time.monotonic())
        return True

    def published(self, mid: int, reason_code: ReasonCode, now: float) -> bool:
        """The broker answered publish ``mid``; False when it was not an outbox row."""
        if reason_code.is_failure:
            seq = self.window.released(mid, now)
            if seq is not None:
                self._refused(seq, f"{reason_code} (reason code 0x{reason_code.value:02X})")
            return seq is not None
        seq = self.window.acknowledged(mid, now)
        if seq is not None:
            self.refusals.forget(seq)
        return seq is not None

    def _refused(self, seq: int, reason: str) -> None:
        """The broker refused row ``seq``: try again later, or bury it after the last try."""
        attempts = self.refusals.refused(seq, time.monotonic())
        self.last_refusal = reason
        if self.refusals.first_time(reason):
            log.warning(
                "MQTT broker %s refused an alert message: %s; it is tried %d times, then kept "
                "as a dead letter (ronda outbox list); the alerts behind it are delivered",
                self.broker,
                reason,
                self.config.refused_attempts,
            )
        if attempts is not None:
            message = self.outbox.get(seq)
            if message is not None:
                self._bury(message, f"refused by the broker {attempts} times: {reason}", attempts)
        self.window.open_room()

    def _bury(self, message: QueuedMessage, reason: str, attempts: int) -> None:
        if self.outbox.bury(message.seq, reason, attempts=attempts):
            self.buried += 1
            level = logging.WARNING if self.refusals.first_time(f"bury:{reason}") else logging.DEBUG
            log.log(
                level,
                "moved an alert message on %s to the dead letters (%s); see ronda outbox list",
                message.topic[:120],
                reason,
            )

    def flush_acks(self, *, force: bool) -> None:
        """Delete acknowledged rows (each transaction is an fsync and frees the thumbnails'
        pages): in batches while draining, at once when the connection ends or the link stops."""
        seqs = self.window.take_acks(time.monotonic(), force=force)
        if seqs:
            self.outbox.ack_many(seqs)
            self.acked += len(seqs)

    def publish_state(self) -> None:
        """Send the retained state's pending values, in order, until paho takes no more."""
        pending = self.state.take()
        for index, (topic, message) in enumerate(pending):
            payload = self.fitter.state_payload(topic, message.payload, message.qos)
            if payload is None:
                continue
            info = self._client.publish(topic, payload, qos=message.qos, retain=message.retain)
            if info.rc not in ACCEPTED:
                self.state.requeue(pending[index:])
                return
            if message.qos > 0:
                self.state.sent(info.mid)

    def adopt(self, limits: BrokerLimits) -> None:
        """This connection's packet size and in-flight window (the broker's CONNACK)."""
        self.fitter.limit = limits.packet
        if limits.window != self.window.size:
            self.window.size = limits.window
            self._client.max_inflight_messages_set(limits.window)

    def overdue(self) -> bool:
        """True when alerts have waited ``ack_timeout_s`` with no PUBACK at all."""
        waited = self.window.overdue(time.monotonic(), self.config.ack_timeout_s)
        if waited is None:
            return False
        log.warning(wording.acknowledgements_stalled(self.broker, waited, len(self.window)))
        return True
