"""The MQTT alert sink: event updates into the outbox, per-label state as retained messages."""

from __future__ import annotations

import logging

from camera.events import EventUpdate
from camera.mqtt.link import MqttLink
from camera.mqtt.topics import Topics, topic_problem
from camera.store import Outbox, OutgoingMessage

log = logging.getLogger(__name__)

STATE_LABELS = ("person", "pet", "motion")


class MqttAlertSink:
    """Queues each event update (JSON, then its thumbnail) durably and wakes the link.

    The JSON goes before its thumbnail so that a phone subscribed to the events topic is alerted
    as early as possible; the thumbnail follows on the topic the JSON names.

    Per-label ``ON``/``OFF`` and the latest snapshot are retained state, queued *before* the
    JSON: the link publishes pending state before outbox rows, so a consumer reacting to the JSON
    (the Home Assistant notification blueprint) finds the label's image entity already showing
    this event's snapshot, and the phone that fetches it gets this event's picture, not the
    previous one.  After an outage the backlog follows the latest state, so a late alert shows its
    label's newest snapshot (docs/phone-alerts.md, limits).

    Updates of events that do not alert (``alert_zones`` not entered yet) send nothing at all:
    no JSON, no thumbnail, no ``ON``; the local store keeps them.  Zone occupancy counts are
    retained state too, and count every object, alerting or not.
    """

    def __init__(self, link: MqttLink, outbox: Outbox, topics: Topics) -> None:
        self.link = link
        self.outbox = outbox
        self.topics = topics
        self._open: dict[str, str] = {}  # event id -> label currently published
        for label in STATE_LABELS:
            link.put_state(topics.label_state(label), b"OFF")

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        if not update.alert:
            return  # stored locally only: its object has not entered an alert zone (yet)
        self._update_state(update, thumbnail)  # first: see the class docstring
        messages = [
            OutgoingMessage(self.topics.events, update.to_json().encode(), event_id=update.id)
        ]
        if thumbnail and update.thumbnail_topic:
            messages.append(OutgoingMessage(update.thumbnail_topic, thumbnail, event_id=update.id))
        self._queue(messages)
        self.link.wake()

    def _queue(self, messages: list[OutgoingMessage]) -> None:
        """Into the outbox; a message whose topic MQTT forbids straight to the dead letters,
        where it is visible and retryable instead of blocking every later alert."""
        problems = [topic_problem(m.topic) for m in messages]
        good = [m for m, problem in zip(messages, problems, strict=True) if problem is None]
        if good:
            self.outbox.put(good)
        for message, problem in zip(messages, problems, strict=True):
            if problem is not None:
                reason = f"invalid MQTT topic: {problem}"
                self.outbox.put_dead([message], reason)
                log.warning("alert message on %r kept as a dead letter: %s", message.topic, reason)

    def _update_state(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        before = set(self._open.values())
        if update.type == "end":
            self._open.pop(update.id, None)
        else:
            self._open[update.id] = update.label
        after = set(self._open.values())
        for label in before ^ after:
            state = b"ON" if label in after else b"OFF"
            self.link.put_state(self.topics.label_state(label), state, transitions=True)
        if thumbnail:
            self.link.put_state(self.topics.label_snapshot(update.label), thumbnail)

    def occupancy(self, changed: dict[tuple[str, str], int]) -> None:
        """Retained ``<prefix>/zones/<zone>/<label>`` counts, for those that changed."""
        for (zone, label), count in changed.items():
            self.link.put_state(self.topics.zone_occupancy(zone, label), str(count))

    def close(self) -> None:
        """Everything open is over: the labels go ``OFF``."""
        for label in set(self._open.values()):
            self.link.put_state(self.topics.label_state(label), b"OFF", transitions=True)
        self._open.clear()
