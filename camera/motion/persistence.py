"""Persistence: a blob must be seen in about the same place for a few frames before it counts.

A rain drop, an insect crossing the lens, a compression glitch or a single noisy frame makes a blob
that is gone (or somewhere unrelated) in the next frame; a person, pet or car makes a blob that
overlaps the previous frame's blob.  Counting consecutive overlapping sightings per blob is a
few comparisons per frame and removes one-frame sparkles without delaying real motion by more than
``persistence_frames - 1`` frames.

Matching is by overlap after growing the previous box by a margin proportional to its size, so
fast objects (a car crossing in a second) still chain from frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass

# Previous boxes are grown by this fraction of their larger side (plus MIN_GROW px) on each side
# before testing overlap: enough for a car crossing a 178x100 motion frame in one second at 10 fps
# (18 px per frame against a ~30 px long blob), small enough that unrelated one-frame sparkles
# rarely chain (for a 6 px sparkle: ~2.5 % chance to touch the previous frame's, so about 1 in
# 1600 frames for a chain of three).
GROW = 0.25
MIN_GROW = 1


@dataclass(frozen=True, slots=True)
class Blob:
    """A connected changed area at motion size: ``x, y, w, h`` in motion-frame pixels."""

    x: int
    y: int
    w: int
    h: int
    area: int


@dataclass(slots=True)
class _Seen:
    x1: float
    y1: float
    x2: float
    y2: float
    hits: int


class Persistence:
    """Counts, per blob, how many consecutive frames a matching blob was present."""

    def __init__(self, frames: int) -> None:
        self._frames = frames
        self._seen: list[_Seen] = []

    def reset(self) -> None:
        self._seen = []

    def update(self, blobs: list[Blob]) -> list[Blob]:
        """Record this frame's blobs; return those seen for at least ``frames`` frames."""
        previous = self._seen
        current: list[_Seen] = []
        confirmed: list[Blob] = []
        for b in blobs:
            hits = 1 + max(
                (
                    p.hits
                    for p in previous
                    if b.x < p.x2 and p.x1 < b.x + b.w and b.y < p.y2 and p.y1 < b.y + b.h
                ),
                default=0,
            )
            grow = GROW * max(b.w, b.h) + MIN_GROW
            current.append(_Seen(b.x - grow, b.y - grow, b.x + b.w + grow, b.y + b.h + grow, hits))
            if hits >= self._frames:
                confirmed.append(b)
        self._seen = current
        return confirmed
