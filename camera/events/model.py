"""The event update: one JSON document per start/update/end, identical on MQTT, disk and JSONL.

``version`` changes only when a field changes meaning or disappears.  Fields are added within a
version (consumers ignore keys they do not know), so a version-1 consumer keeps working.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class ClipRef:
    """Where an event's video is: published as the event's ``clip`` (docs/clips.md).

    ``file`` is relative to the state directory; ``offset_s`` is the event's first confirming
    frame within the file (the file starts ``clips.pre_s`` earlier, or at the recording's start).
    ``duration_s`` and ``size_bytes`` describe the whole file, which overlapping events share:
    null while it is still being recorded, ``duration_s`` as planned in the ``end`` update, both
    final in the store once the file is closed.  ``url`` is null unless the web page serves it.
    """

    file: str
    offset_s: float
    duration_s: float | None = None
    size_bytes: int | None = None
    url: str | None = None


def clip_url(public_url: str | None, event_id: str) -> str | None:
    """The address a phone opens to play an event's clip, or None without a web address."""
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/events/{event_id}/clip"


@dataclass(frozen=True, slots=True)
class EventUpdate:
    """What a subscriber receives.  Times are seconds since the epoch live, or seconds into the
    recording during a replay (``source`` tells which); ``start_local``/``end_local`` are the
    same instants on the wall clock (see ``EventClock``), so a consumer can build
    "Person at porch, 21:04" from ``label``, ``camera_name`` and ``start_local`` alone."""

    id: str
    camera: str
    type: str
    label: str
    subclass: str
    score: float
    box: list[int]
    frame_time: float
    start_time: float
    end_time: float | None
    thumbnail_topic: str | None
    has_thumbnail: bool
    model_precision: str
    motion_only: bool
    source: str
    sequence: int
    camera_name: str
    start_local: str
    end_local: str | None
    label_idle_s: float | None
    previous_label: str | None
    clip: ClipRef | None = None
    zones: list[str] = field(default_factory=list)
    """The zones the object entered so far, first entry first."""
    end_reason: str | None = None
    """On ``end`` only: ``gone``, ``stream_end``, ``shutdown`` or ``restart`` (see
    ``camera.track.tracker.EndReason``); null on ``start`` and ``update``."""
    version: int = SCHEMA_VERSION
    suppressed_by: str | None = None
    """Why this update was published without alerting: ``disarmed`` or ``snoozed`` (the owner's
    controls, docs/controls.md); null when it alerts.  Consumers that push to phones skip
    updates whose ``alerted`` is false; automations may still use them."""
    alert: bool = field(default=True, compare=False)
    """False while the event is only stored (it has not entered its label's ``alert_zones``):
    MQTT and the JSON-lines file skip it, the local store keeps it.  Not part of the JSON."""

    @property
    def alerted(self) -> bool:
        """Published as an alert: in its alert zones, and the camera armed and not snoozed."""
        return self.alert and self.suppressed_by is None

    def describe(self) -> str:
        """One line for the log: ``start <id> person (person) score 0.81 box [...] zones ...``."""
        zones = f" zones {','.join(self.zones)}" if self.zones else ""
        held = "" if self.alerted else f" (stored, no alert: {self.suppressed_by or 'zones'})"
        return (
            f"{self.type} {self.id} {self.label} ({self.subclass}) score {self.score:.2f} "
            f"box {self.box}{zones}{held}"
        )

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"), sort_keys=True)

    def as_dict(self) -> dict[str, object]:
        """The published fields (everything but ``alert``, plus ``alerted``)."""
        data = asdict(self)
        del data["alert"]
        data["alerted"] = self.alerted
        return data
