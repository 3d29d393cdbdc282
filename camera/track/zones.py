"""Named zones: polygons in relative 0..1 coordinates, like motion masks.

The agreed shape (issue 12 gives zones their meaning in the tracker; the web editor draws them):
a top-level ``zones:`` mapping a name, used in MQTT topics, to ``{points: [[x, y], ...]}``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from camera.section import Section

ZONE_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
ZoneName = Annotated[str, StringConstraints(pattern=ZONE_NAME_PATTERN)]
Point = tuple[float, float]


class Zone(Section):
    """One named area of the picture (a door, a path, the lawn)."""

    points: list[Point] = Field(min_length=3, max_length=64)
    """Corners in relative coordinates (0..1 of width and height), at least 3."""

    @field_validator("points")
    @classmethod
    def _inside_frame(cls, points: list[Point]) -> list[Point]:
        for x, y in points:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(f"point ({x}, {y}) is outside 0..1 (zones use relative coords)")
        return points
