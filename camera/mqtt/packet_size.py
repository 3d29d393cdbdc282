"""Messages that fit the broker's Maximum Packet Size.

A broker with ``max_packet_size`` drops the connection of a client that sends a larger packet;
paho does not check, so one thumbnail larger than the limit would end every connection, again
and again, and nothing would get through.  An MQTT 5 broker says its limit in the CONNACK; for
an MQTT 3.1.1 broker ``mqtt.max_packet_bytes`` says it (3.1.1 has no way to tell us).

The rules, applied to each outbox row just before it is published:

* An event JSON (always a few hundred bytes) is always sent.  If the thumbnail queued behind it
  does not fit, the thumbnail is re-encoded smaller (scaled down, lower JPEG quality) until it
  fits; if even a tiny one would not, the JSON goes out with ``has_thumbnail: false`` and
  ``thumbnail_omitted`` saying why, and the thumbnail is left out (counted as
  ``thumbnails_omitted``; the local event history keeps it).
* A retained snapshot is shrunk the same way, or not published.
* Anything else that does not fit is refused by the client: a dead letter.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import cv2
import numpy as np
from paho.mqtt.properties import Properties

from camera.mqtt.config import MqttConfig

log = logging.getLogger("camera.mqtt.link")

_SCALES = (1.0, 0.75, 0.5, 0.35, 0.25, 0.18, 0.12)
_QUALITIES = (70, 50, 35)
_MIN_SIDE = 32  # smaller is no picture at all


def packet_size(topic: str, payload_size: int, qos: int, *, v5: bool) -> int:
    """Bytes of the PUBLISH packet for this message (fixed header, topic, packet id, the MQTT 5
    property length of an empty property set, payload)."""
    remaining = 2 + len(topic.encode("utf-8")) + (2 if qos else 0) + (1 if v5 else 0)
    remaining += payload_size
    length_bytes = 1
    while remaining >= 128**length_bytes:
        length_bytes += 1
    return 1 + length_bytes + remaining


def shrink_jpeg(jpeg: bytes, max_bytes: int) -> bytes | None:
    """A smaller JPEG of the same picture of at most ``max_bytes``, or ``None`` when even a
    tiny one would not fit (or ``jpeg`` is no picture)."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    height, width = image.shape[:2]
    for scale in _SCALES:
        if min(height, width) * scale < _MIN_SIDE:
            break
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        resized = image if scale == 1.0 else cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        for quality in _QUALITIES:
            ok, buffer = cv2.imencode(".jpg", resized, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok and buffer.size <= max_bytes:
                return bytes(buffer.tobytes())
    return None


def without_thumbnail(event_json: bytes, reason: str) -> bytes:
    """The event JSON saying that its thumbnail was left out, and why."""
    event = json.loads(event_json)
    event["has_thumbnail"] = False
    event["thumbnail_omitted"] = reason
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


def announced_thumbnail(payload: bytes) -> str | None:
    """The thumbnail topic an event JSON announces (``None`` for anything else)."""
    if not payload.startswith(b"{"):
        return None
    try:
        event = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(event, dict) or not event.get("has_thumbnail"):
        return None
    topic = event.get("thumbnail_topic")
    return topic if isinstance(topic, str) else None


@dataclass(frozen=True, slots=True)
class PacketLimit:
    """The largest packet the broker takes, and whether we speak MQTT 5 to it."""

    max_bytes: int
    v5: bool

    def fits(self, topic: str, payload_size: int, qos: int) -> bool:
        return packet_size(topic, payload_size, qos, v5=self.v5) <= self.max_bytes

    def payload_budget(self, topic: str, qos: int) -> int:
        """The largest payload that fits on ``topic``."""
        return self.max_bytes - packet_size(topic, 0, qos, v5=self.v5) - 3  # length may grow

    def too_large(self, size: int) -> str:
        return f"larger than the broker's maximum packet size ({self.max_bytes} bytes, was {size})"


@dataclass(frozen=True, slots=True)
class BrokerLimits:
    """What bounds sending on one connection: the packet size and the in-flight window."""

    packet: PacketLimit | None
    window: int
    announced: bool
    """The broker announced a limit of its own (MQTT 5 CONNACK)."""

    @classmethod
    def from_connack(cls, properties: Properties | None, config: MqttConfig) -> BrokerLimits:
        """MQTT 5: the broker's Maximum Packet Size and Receive Maximum (how many QoS 1
        messages it takes unacknowledged), combined with ours; 3.1.1 announces neither."""
        broker_max = getattr(properties, "MaximumPacketSize", None)
        sizes = [size for size in (broker_max, config.max_packet_bytes) if size]
        v5 = config.protocol == "5"
        packet = PacketLimit(min(sizes), v5=v5) if sizes else None
        receive_maximum = getattr(properties, "ReceiveMaximum", None) or config.max_inflight
        window = min(config.max_inflight, receive_maximum)
        announced = bool(broker_max) or receive_maximum < config.max_inflight
        return cls(packet, window, announced)

    def describe(self) -> str:
        size = "any size" if self.packet is None else f"up to {self.packet.max_bytes} bytes"
        return f"takes packets {size}, {self.window} unacknowledged message(s)"
