"""Persistence: a blob must be seen in about the same place for a few frames before it counts.

A rain drop, an insect crossing the lens, a compression glitch or a single noisy frame makes a blob
that is gone (or somewhere unrelated) in the next frame; a person, pet or car makes a blob that
overlaps the previous frame's blob.  Counting consecutive overlapping sightings per blob is a
few comparisons per frame and removes one-frame sparkles without delaying real motion by more than
``persistence_frames - 1`` frames.

The same frame-to-frame matching remembers whether a blob was already judged to be a light change
(``shading.py``), so the check runs about once per object, not once per frame: an object verdict
carries over to whatever the blob grows into or merges with; a light verdict only while the blob
keeps about its size and does not merge (a person stepping into their shadow's blob must be
judged again).
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
# A blob keeps its predecessor's light verdict only while its area stays within this factor.
SAME_SIZE = 1.5


@dataclass(frozen=True, slots=True)
class Blob:
    """A connected changed area at motion size: ``x, y, w, h`` in motion-frame pixels."""

    x: int
    y: int
    w: int
    h: int
    area: int


@dataclass(slots=True)
class Sighting:
    """A blob as followed from frame to frame."""

    blob: Blob
    hits: int  # consecutive frames it has been seen, this one included
    light: bool | None = None  # verdict of the light-change check; None = not judged
    judged_at: int = 0  # ``hits`` when it was last judged


class Persistence:
    """Follows blobs from frame to frame and counts their consecutive sightings."""

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self._seen: list[Sighting] = []

    def reset(self) -> None:
        self._seen = []

    def update(self, blobs: list[Blob]) -> list[Sighting]:
        """Record this frame's blobs; return a sighting for each (``hits >= frames`` means it
        has persisted long enough to be reported)."""
        sightings = [self._follow(b) for b in blobs]
        self._seen = sightings
        return sightings

    def _follow(self, b: Blob) -> Sighting:
        matches = [p for p in self._seen if _touches(p.blob, b)]
        if not matches:
            return Sighting(b, hits=1)
        best = max(matches, key=lambda p: p.hits)
        sighting = Sighting(b, hits=best.hits + 1)
        objects = [p for p in matches if p.light is False]
        if objects:
            # Part of it is a known object, so all of it is: no light change grows a person.
            sighting.light, sighting.judged_at = False, max(p.judged_at for p in objects)
        elif len(matches) == 1 and 1 / SAME_SIZE <= b.area / max(1, best.blob.area) <= SAME_SIZE:
            sighting.light, sighting.judged_at = best.light, best.judged_at
        return sighting


def _touches(previous: Blob, current: Blob) -> bool:
    """``current`` overlaps ``previous`` grown by ``GROW`` of its larger side (+ ``MIN_GROW``)."""
    grow = GROW * max(previous.w, previous.h) + MIN_GROW
    return (
        current.x < previous.x + previous.w + grow
        and previous.x - grow < current.x + current.w
        and current.y < previous.y + previous.h + grow
        and previous.y - grow < current.y + current.h
    )
