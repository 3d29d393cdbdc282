"""Did an object move on its own, or did something move next to it?

The detector runs where motion is, so a still thing beside a moving one is looked at again and
again: a cushion beside a playing kitten, a stone at the edge of a footpath while people walk
past.  A detector that is unsure about it (scores 0.33-0.66 in the two cases that made this
module) then builds a track with a passing median, and the still thing becomes an alert.  What a
real visitor has that those things lack is motion *of its own*:

* **displacement**: its box moved by ``OWN_DRIFT`` of its size or more since it was first seen
  (a visitor who walked up and stopped); a still thing's box only jitters (a few per cent of its
  size: the detector's box on the same pixels varies little);
* **motion on it**: a motion blob lying mostly (``ON_OBJECT``) inside its box and not much bigger
  than it (``MAX_BLOB_AREA``): a person standing at a door shifts weight, turns the head, moves an
  arm; a cat at rest breathes and twitches.  A passer-by's blob is mostly outside the stone's box
  (the stone is small beside them); the kitten's blob lies mostly beside the cushion, not on it.

Motion is counted over the track's whole life and the ``MOTION_MEMORY_S`` before it began (a
person who walked up and was only recognised once standing was moving on that spot a moment
ago: remembered blobs on its box but off its centre are it arriving), but only motion that no
other tracked object explains: a blob on two objects at once (a
passer-by in front of a statue) counts for neither, and a blob touching a tracked object is not
remembered for objects found later (the statue first detected while someone walks past it).
Motion on the object must come back over ``OWN_MOTION_SPAN_S`` at least: a person standing at
a door shifts and turns again and again, while a passer-by who is not tracked yet (too small,
too dark for the detector) sweeps over a statue of their size in under a second.

These are geometric statements with wide margins, not thresholds fitted to clips: a blob
covering the object is the object moving, a blob beside it is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from camera.types import Box

OWN_DRIFT = 0.25
"""Displacement of the box centre, in the box's larger side, that counts as having moved.  The
``stationary`` rule (resting objects) uses twice this: moving a quarter of its size is a visitor
shifting, a detector's jitter on a still object stays well below (a still stone: < 5 %)."""
ON_OBJECT = 0.5
"""Share of a motion blob's area that must lie inside the object's box for it to count."""
MAX_BLOB_AREA = 2.0
"""A blob larger than this many times the object's box is something bigger passing over it."""
SHARED = 0.2
"""Share of a blob reaching into another object's box that makes it ambiguous."""
OWN_MOTION_SPAN_S = 1.5
"""Motion on the object, first to last, must span this long before it counts as its own: longer
than a walker takes to pass in front of something their size (0.5-1 s at a walking pace of 1-2
body heights per second), shorter than anyone stands at a door without moving."""
MOTION_MEMORY_S = 2.0
"""How far back motion is remembered for an object first detected now."""


def on_object(box: Box, blob: Box) -> bool:
    """Whether motion ``blob`` is (part of) the object at ``box``: mostly inside it, and not
    something much bigger passing over it."""
    if blob.area > MAX_BLOB_AREA * max(box.area, 1.0):
        return False
    return box.intersection(blob) >= ON_OBJECT * max(blob.area, 1.0)


def arriving(box: Box, blob: Box) -> bool:
    """Whether a remembered motion ``blob`` on the object was it on its way to where it is now:
    on it, and off-centre by ``OWN_DRIFT`` of its width or height (a person who walked up to the
    door, recognised only once standing)."""
    if not on_object(box, blob):
        return False
    (bx, by), (cx, cy) = blob.center, box.center
    return abs(bx - cx) >= OWN_DRIFT * box.width or abs(by - cy) >= OWN_DRIFT * box.height


def owners(boxes: Sequence[Box], blobs: Iterable[Box]) -> tuple[list[int], list[Box]]:
    """Which of the objects at ``boxes`` moved on their own this frame (indices, each once), and
    the blobs on none of them (motion of something not tracked yet).

    A blob on one object that also reaches into another by ``SHARED`` of its area (a visitor
    walking in front of a statue, a kitten playing on a cushion, a step ahead of its last box)
    is nobody's: it cannot tell which of them moved, and the mover has its own evidence on
    other frames.
    """
    moved: set[int] = set()
    unowned: list[Box] = []
    for blob in blobs:
        on = [i for i, box in enumerate(boxes) if on_object(box, blob)]
        touching = [i for i, box in enumerate(boxes) if box.intersection(blob) > SHARED * blob.area]
        if len(on) == 1 and touching == on:
            moved.add(on[0])
        elif not on and not any(box.intersection(blob) > 0 for box in boxes):
            unowned.append(blob)
    return sorted(moved), unowned
