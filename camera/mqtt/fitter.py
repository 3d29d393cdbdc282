"""Per link: the payload each outbox row and state message is published with, within the
broker's Maximum Packet Size (the rules are in ``camera.mqtt.packet_size``).

An event JSON is looked at before it goes out: if the thumbnail queued right behind it will not
fit, the thumbnail is shrunk now (and that smaller JPEG published when its row comes), or the
JSON says it was left out (and its row is then removed, counted).  Each kind of decision is logged
once per link: it repeats for every event.  Link thread only.
"""

from __future__ import annotations

import logging

from camera.mqtt.packet_size import PacketLimit, announced_thumbnail, shrink_jpeg, without_thumbnail
from camera.store import Outbox, QueuedMessage

log = logging.getLogger("camera.mqtt.link")


class TooLarge(Exception):
    """A message that cannot be made to fit: the client refuses it (a dead letter)."""


class PacketFitter:
    """See the module docstring."""

    def __init__(self, outbox: Outbox, broker: str) -> None:
        self.outbox = outbox
        self.broker = broker
        self.limit: PacketLimit | None = None
        """The largest packet this connection takes (``None``: no limit known)."""
        self._shrunk: dict[int, bytes] = {}  # thumbnail row -> smaller JPEG that fits
        self._left_out: set[int] = set()  # thumbnail rows whose event JSON said "omitted"
        self._logged: set[str] = set()

    def payload(self, message: QueuedMessage) -> bytes | None:
        """What to publish for this row; ``None`` when it is left out (a thumbnail that cannot
        fit; removed and counted).  Raises ``TooLarge`` for anything else that cannot fit."""
        limit = self.limit
        if limit is None:
            return message.payload
        if message.seq in self._left_out:
            self._left_out.discard(message.seq)
            self.outbox.discard(message.seq)
            return None
        payload = self._shrunk.pop(message.seq, message.payload)
        thumbnail_topic = announced_thumbnail(payload)
        if thumbnail_topic is not None:
            payload = self._fit_thumbnail_of(message, payload, thumbnail_topic, limit)
        if limit.fits(message.topic, len(payload), message.qos):
            return payload
        if payload.startswith(b"\xff\xd8"):  # a JPEG whose event JSON went out earlier
            smaller = shrink_jpeg(payload, limit.payload_budget(message.topic, message.qos))
            if smaller is not None:
                return smaller
            self._notice("thumbnail", f"left out a thumbnail: {limit.too_large(len(payload))}")
            self.outbox.discard(message.seq)
            return None
        raise TooLarge(limit.too_large(len(payload)))

    def state_payload(self, topic: str, payload: bytes, qos: int) -> bytes | None:
        """A retained state message (a snapshot) shrunk to fit; ``None``: not published."""
        limit = self.limit
        if limit is None or limit.fits(topic, len(payload), qos):
            return payload
        smaller = shrink_jpeg(payload, limit.payload_budget(topic, qos))
        if smaller is None:
            self._notice(
                "state",
                f"a state message on {topic} is not published: {limit.too_large(len(payload))}",
            )
        return smaller

    def _fit_thumbnail_of(
        self, event: QueuedMessage, payload: bytes, topic: str, limit: PacketLimit
    ) -> bytes:
        """Before an event JSON goes out, make sure its thumbnail (the next row) will fit:
        shrink it now, or say in the JSON that it was left out."""
        following = self.outbox.pending(after_seq=event.seq, limit=1)
        thumbnail = following[0] if following and following[0].topic == topic else None
        if thumbnail is None or limit.fits(topic, len(thumbnail.payload), thumbnail.qos):
            return payload
        smaller = shrink_jpeg(thumbnail.payload, limit.payload_budget(topic, thumbnail.qos))
        if smaller is not None:
            self._shrunk[thumbnail.seq] = smaller
            self._notice("shrunk", f"thumbnails re-encoded smaller to fit {limit.max_bytes} bytes")
            return payload
        reason = limit.too_large(len(thumbnail.payload))
        self._left_out.add(thumbnail.seq)
        self._notice("omitted", f"thumbnails left out ({reason}), counted as thumbnails_omitted")
        return without_thumbnail(payload, reason)

    def _notice(self, kind: str, text: str) -> None:
        if kind not in self._logged:
            self._logged.add(kind)
            log.warning("MQTT broker %s: %s", self.broker, text)
