"""Configuration of the home page (``home:``), read by ``ronda home`` only.

The home page runs from the same kind of file as a camera: ``mqtt:`` says how to reach the
broker, ``web:`` where the page listens and its login rules, ``store:`` where it keeps its own
SQLite file and password; the camera sections are ignored by it.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from camera.mqtt.topics import check_topic_prefix
from camera.section import Section

SHARE_GROUP_PATTERN = r"^[A-Za-z0-9_-]{1,48}$"


def check_camera_filter(pattern: str) -> str:
    """A camera prefix, or one with a single ``+`` level standing for any camera's name."""
    if pattern.count("+") > 1 or "#" in pattern:
        raise ValueError("may hold one '+' level (any camera) and no '#'")
    levels = pattern.split("/")
    if "+" in pattern and "+" not in levels:
        raise ValueError("'+' must be a whole topic level (ronda/+)")
    check_topic_prefix(pattern.replace("+", "camera"))
    return pattern


class HomeConfig(Section):
    """One page for every camera in the house: ``ronda home``."""

    cameras: list[str] = Field(default_factory=lambda: ["ronda/+"], min_length=1, max_length=32)
    """Topic prefixes of the cameras to show; ``+`` stands for any one camera's name, so the
    default finds every camera left at its default ``mqtt.topic_prefix`` (``ronda/<name>``)."""
    topic_prefix: str = "ronda-home"
    """Where the home's own retained state and whole-home commands live
    (``<prefix>/armed/set``, ``<prefix>/snooze/set``); outside ``ronda/`` so that no camera
    filter ever takes the home for a camera."""
    client_id: str = Field("ronda-home", min_length=1, max_length=200)
    """The MQTT client id, which names the broker's persistent session: events published while
    the page is down wait there.  Two copies side by side need different ids."""
    share_group: str | None = Field(None, pattern=SHARE_GROUP_PATTERN)
    """Receive events through the shared subscription ``$share/<group>/...``: copies in the
    same group (one ``store.path``) get each event once between them (docs/home.md)."""
    session_expiry_h: float = Field(168.0, gt=0, le=8760)
    """How long the broker keeps the session (and queues events) while the page is down."""
    keep_events: int = Field(5000, ge=10, le=1_000_000)
    """Events kept in the home's own store (oldest deleted first, with their thumbnails)."""
    timeline: int = Field(60, ge=5, le=500)
    """Events shown on the page, newest first."""
    discovery: bool = True
    """Announce the whole-home switch and snooze to Home Assistant (``mqtt.discovery.prefix``)."""

    @field_validator("cameras")
    @classmethod
    def _filters(cls, patterns: list[str]) -> list[str]:
        return [check_camera_filter(pattern) for pattern in patterns]

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, prefix: str) -> str:
        return check_topic_prefix(prefix)
