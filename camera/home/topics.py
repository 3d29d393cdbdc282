"""Which broker topics the home page listens to, and what a received topic means.

A camera filter is a camera's topic prefix, or one with a single ``+`` level for any camera
(``ronda/+``).  Under each prefix the page reads the camera's retained state and its events;
nothing else (zones, discovery) and never video.
"""

from __future__ import annotations

from dataclasses import dataclass

STATE_SUFFIXES = ("availability", "stats", "armed", "snooze", "person/snapshot", "pet/snapshot")
EVENT_SUFFIXES = ("events", "events/+/thumbnail")
CONTROLS = ("armed", "snooze")
"""The per-camera command topics whole-home commands fan out to: ``<prefix>/<control>/set``."""
MAX_SNOOZE_MIN = 1440
"""The cameras' own snooze takes whole minutes 0..1440 (0 ends a snooze)."""


@dataclass(frozen=True, slots=True)
class Heard:
    """A received topic, split: the camera's prefix and what is under it."""

    prefix: str
    kind: str
    """``availability``, ``stats``, ``armed``, ``snooze``, ``snapshot``, ``event`` or
    ``thumbnail``."""
    detail: str = ""
    """The label of a snapshot, the event id of a thumbnail."""


def subscriptions(filters: list[str], share_group: str | None) -> list[str]:
    """Every topic filter to subscribe to.  Events go through ``$share/<group>/`` when copies
    share them; retained state never does (a shared subscription gets no retained messages, and
    every copy needs every camera's state)."""
    share = f"$share/{share_group}/" if share_group else ""
    topics = [f"{camera}/{suffix}" for camera in filters for suffix in STATE_SUFFIXES]
    topics += [f"{share}{camera}/{suffix}" for camera in filters for suffix in EVENT_SUFFIXES]
    return topics


def parse(topic: str, filters: list[str]) -> Heard | None:
    """What ``topic`` is, or None when no camera filter explains it."""
    levels = topic.split("/")
    for camera in filters:
        pattern = camera.split("/")
        head, rest = levels[: len(pattern)], levels[len(pattern) :]
        if len(head) < len(pattern):
            continue
        if not all(p in ("+", h) for p, h in zip(pattern, head, strict=True)):
            continue
        prefix = "/".join(head)
        if rest in (["availability"], ["stats"], ["armed"], ["snooze"]):
            return Heard(prefix, rest[0])
        if len(rest) == 2 and rest[1] == "snapshot" and rest[0] in ("person", "pet"):
            return Heard(prefix, "snapshot", rest[0])
        if rest == ["events"]:
            return Heard(prefix, "event")
        if len(rest) == 3 and rest[0] == "events" and rest[2] == "thumbnail":
            return Heard(prefix, "thumbnail", rest[1])
    return None


def command_topic(prefix: str, control: str) -> str:
    return f"{prefix}/{control}/set"
