"""Zones: named polygons of the picture that say where an object is, and which visits alert.

A zone is drawn like a motion mask, in relative 0..1 coordinates, so it survives a resolution
change.  An object is *in* a zone when the bottom centre of its box (where it stands on the
ground, as Frigate judges it) lies inside the polygon; the tracker adds a frame or two of inertia
so a box jittering on the zone's edge does not flicker in and out (see ``ZonePresence``).

This module holds the configuration model (``zones:`` at the top level of the file, consumed
as-is by the web editor) and the geometry; the tracker decides what membership means for events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from camera.section import Section
from camera.types import Box

ZONE_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
ZoneName = Annotated[str, StringConstraints(pattern=ZONE_NAME_PATTERN)]
"""Letters, digits, ``-`` and ``_``: a zone's name is part of MQTT topics and entity ids."""
Point = tuple[float, float]


class Zone(Section):
    """One named zone: a polygon in relative coordinates (0..1 of width and height)."""

    points: list[Point] = Field(min_length=3, max_length=64)
    """At least 3 ``[x, y]`` corners, each in 0..1 (``[0, 0]`` is the top left corner)."""

    @field_validator("points")
    @classmethod
    def _inside_the_picture(cls, points: list[Point]) -> list[Point]:
        for x, y in points:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):  # also refuses NaN
                raise ValueError(
                    f"point ({x}, {y}) is outside 0..1 (zones use relative coordinates)"
                )
        return points


Zones = dict[ZoneName, Zone]


@dataclass(frozen=True, slots=True)
class UnknownZone:
    """An ``alert_zones`` entry naming no zone: where it is (key path) and what it says."""

    location: tuple[str | int, ...]
    name: str


def unknown_alert_zones(
    alert_zones: Mapping[str, Sequence[str]], zones: Iterable[str]
) -> list[UnknownZone]:
    """Every ``alert_zones`` name (per label) that is not a defined zone."""
    known = set(zones)
    return [
        UnknownZone(("tracker", "labels", label, "alert_zones", index), name)
        for label, names in alert_zones.items()
        for index, name in enumerate(names)
        if name not in known
    ]


class ZoneMap:
    """The zones of one frame size, as pixel polygons, answering "which zones hold this box"."""

    def __init__(self, zones: Mapping[str, Zone], frame_size: tuple[int, int]) -> None:
        width, height = frame_size
        self.names: tuple[str, ...] = tuple(zones)
        self._polygons = [
            [(x * width, y * height) for x, y in zone.points] for zone in zones.values()
        ]

    def __bool__(self) -> bool:
        return bool(self.names)

    def containing(self, box: Box) -> frozenset[str]:
        """Names of the zones holding the bottom centre of ``box`` (its foot point)."""
        if not self.names:
            return frozenset()
        x = (box.x1 + box.x2) / 2.0
        y = box.y2
        return frozenset(
            name
            for name, polygon in zip(self.names, self._polygons, strict=True)
            if point_in_polygon(x, y, polygon)
        )


def point_in_polygon(x: float, y: float, polygon: Sequence[Point]) -> bool:
    """Even-odd rule (a ray to the right crosses the outline an odd number of times).

    Pure Python on purpose: a handful of zones with a few corners each costs microseconds, and
    it needs no rasterised mask per frame size.  A point exactly on the bottom or right edge of a
    zone reaching the picture's border counts as inside, so a zone drawn to the edge holds an
    object standing at the very bottom of the frame.
    """
    inside = False
    count = len(polygon)
    for i in range(count):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % count]
        if (y1 > y) != (y2 > y):
            cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < cross:
                inside = not inside
    if not inside:
        inside = any(_on_segment(x, y, polygon[i], polygon[(i + 1) % count]) for i in range(count))
    return inside


def _on_segment(x: float, y: float, a: Point, b: Point, tolerance: float = 1e-6) -> bool:
    (x1, y1), (x2, y2) = a, b
    cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
    if abs(cross) > tolerance * max(1.0, abs(x2 - x1) + abs(y2 - y1)):
        return False
    return min(x1, x2) - tolerance <= x <= max(x1, x2) + tolerance and (
        min(y1, y2) - tolerance <= y <= max(y1, y2) + tolerance
    )


class ZonePresence:
    """Which zones one object is in, with inertia, and the order it entered them.

    The state for a zone flips only after ``inertia`` observations in a row disagree with it, so
    a box jittering on a zone's edge neither enters nor leaves on one frame (Frigate counts
    frames the same way).  ``entered`` keeps every zone the object has been in, first entry first.
    """

    __slots__ = ("_streak", "entered", "inertia", "inside")

    def __init__(self, inertia: int) -> None:
        self.inertia = inertia
        self.inside: set[str] = set()
        self.entered: list[str] = []
        self._streak: dict[str, int] = {}

    def observe(self, zones_now: frozenset[str]) -> list[str]:
        """Fold one observation in; returns the zones entered for the first time by it."""
        first_entries: list[str] = []
        for zone in sorted(zones_now ^ self.inside):  # sorted: hash order varies per process
            streak = self._streak.get(zone, 0) + 1
            if streak < self.inertia:
                self._streak[zone] = streak
                continue
            self._streak.pop(zone, None)
            if zone in zones_now:
                self.inside.add(zone)
                if zone not in self.entered:
                    self.entered.append(zone)
                    first_entries.append(zone)
            else:
                self.inside.discard(zone)
        for zone in list(self._streak):
            if (zone in zones_now) == (zone in self.inside):  # agreement resets the count
                del self._streak[zone]
        return first_entries

    def merge(self, other: ZonePresence) -> None:
        """Take over what a track found to be the same object saw (it is the newer one)."""
        for zone in other.entered:
            if zone not in self.entered:
                self.entered.append(zone)
        self.inside = set(other.inside)
        self._streak = dict(other._streak)
