"""Region planning: which square crops the detector looks at this frame.

Why squares near the model's input size: the detector resizes every crop to its input (416x416);
a crop of about that size shows a small, distant person at full detail, where the whole 16:9
frame squeezed into 416x416 would shrink them 3x.  A big object gets a bigger square, so it is
never cut.  Why merge: every crop costs one inference (~17 ms int8), so two objects that fit in
one square no bigger than both crops together share it.  Why track refresh: a person who stops
moving stops producing motion, but the tracker must keep seeing them (or it would end the event
and re-alert when they move again), so every tracked box gets a crop every few frames.  Why motion
inside a tracked box waits for that refresh: a person standing at a table and gesturing moves all
the time; looking at them every frame costs an inference per frame to learn nothing new, while
motion anywhere else (or a tracked person walking out of their box) is still looked at at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from camera.motion.config import RegionConfig
from camera.types import Box, MotionResult, Region

Reason = Literal["motion", "track"]


@dataclass(frozen=True, slots=True)
class _Candidate:
    """What must be covered (``content``), how much it matters, and why."""

    content: Box
    weight: float
    reason: Reason
    zoom: bool = False  # may be looked at enlarged (see ZOOM_TARGET)


ZOOM_TARGET = 128.0
"""A small object's crop is tightened until the object (with its margin) would span this many
pixels of the model input, a quarter of NanoDet's 416: objects that size are found as reliably
as big ones, smaller ones much less (a 48 px person at 720p: 1 of 6 in a model-size crop, 5 of
6 enlarged, see docs/tracking.md).  Objects already that big keep the model-size crop.

Motion cannot tell a small object from a small *part* of a big one (a hand waving, a head over a
hedge): until the detector has seen what it is, a small motion blob is looked at enlarged on
even frames and at model size on odd ones, so neither a distant person nor the whole of a near
one goes unseen.  Once tracked, the detector's box tells (see ``RegionPlanner._may_zoom``)."""


class RegionPlanner:
    """Turns motion boxes and tracked boxes into at most ``max_regions`` square crops."""

    def __init__(self, config: RegionConfig, frame_size: tuple[int, int], model_input_size: int):
        self._config = config
        self._width, self._height = frame_size
        self._model_side = model_side(config, frame_size, model_input_size)
        self._input_size = float(model_input_size)
        self._last_refresh: int | None = None

    def plan(
        self,
        motion: MotionResult,
        tracked: Sequence[Box],
        frame_index: int,
        urgent: Sequence[Box] = (),
    ) -> list[Region]:
        """Crops for this frame, most important first; ``[]`` when nothing moves or is due.

        Motion crops come first (largest motion first); on a refresh frame every tracked box not
        already inside a motion crop gets its own crop (``reason="track"``), and ``urgent`` boxes
        (objects the tracker needs to see again at once: one about to be confirmed) get one on
        every frame.  With ``tracked_motion_at_refresh``, motion lying inside a tracked box (a
        person who stands and gestures) waits for the next refresh frame: the tracker already
        knows what is there.
        """
        refresh = bool(tracked) and self._refresh_due(frame_index)
        boxes: Sequence[Box] = motion.boxes
        if tracked and not refresh and self._config.tracked_motion_at_refresh:
            zones = [self._grow(t) for t in tracked]
            boxes = [b for b in boxes if not any(self._covers(z, b) for z in zones)]
        known = [self._grow(t) for t in tracked]
        candidates = [
            replace(c, zoom=self._may_zoom(c.content, known, frame_index))
            for c in self._group([self._grow(b) for b in boxes], "motion")
        ]
        candidates.sort(key=lambda c: c.weight, reverse=True)
        looked_at = tracked if refresh else urgent
        if looked_at:
            squares = [self.square(c.content, c.zoom) for c in candidates]
            for box in looked_at:
                if not any(self._covers(sq, box) for sq in squares):
                    candidates.append(_Candidate(self._grow(box), 0.0, "track", zoom=True))
        candidates = self._merge_cheap(candidates)
        candidates = self._cap(candidates)
        return [Region(self.square(c.content, c.zoom), c.reason) for c in candidates]

    def square(self, box: Box, zoom: bool = True) -> Box:
        """The square crop covering ``box``: centred on the box, shifted (not shrunk) to lie
        inside the frame; clipped only when bigger than the frame.  See ``_side``."""
        side = self._side(box, zoom)
        cx, cy = box.center
        x1 = _place(cx - side / 2.0, side, self._width)
        y1 = _place(cy - side / 2.0, side, self._height)
        return Box(x1, y1, x1 + side, y1 + side).clip(self._width, self._height)

    def _may_zoom(self, motion: Box, known: Sequence[Box], frame_index: int) -> bool:
        """Whether a motion candidate may be looked at enlarged (see ``ZOOM_TARGET``).

        Motion on a tracked object that is big is part of it (never enlarged: the crop must hold
        the whole object); motion on a small tracked object is that object (always enlarged);
        motion on nothing known may be either, so it alternates, enlarged on even frames.
        """
        touched = [k for k in known if k.intersection(motion) > 0]
        if any(max(k.width, k.height) >= ZOOM_TARGET for k in touched):
            return False
        return bool(touched) or frame_index % 2 == 0

    def _refresh_due(self, frame_index: int) -> bool:
        last = self._last_refresh
        if (
            last is None
            or frame_index < last
            or frame_index - last >= self._config.track_refresh_frames
        ):
            self._last_refresh = frame_index
            return True
        return False

    def _grow(self, box: Box) -> Box:
        pad = self._config.margin * max(box.width, box.height)
        return Box(box.x1 - pad, box.y1 - pad, box.x2 + pad, box.y2 + pad).clip(
            self._width, self._height
        )

    def _covers(self, square: Box, box: Box) -> bool:
        return box.area > 0 and square.intersection(box) >= self._config.cover_fraction * box.area

    def _side(self, box: Box, zoom: bool = True) -> float:
        """Side of the square crop for ``box`` (already grown by the margin).

        Usually the model's input size (or more, for a big object).  A small object, one that
        would span less than ``ZOOM_TARGET`` pixels of the model input, gets a tighter square,
        enlarging it by up to ``max_zoom``, so the detector sees a distant person at a size it
        knows instead of as a few pixels (NanoDet's finest grid cell is 8 input pixels).  Same
        number of crops, so the same detector cost.
        """
        size = max(box.width, box.height)
        if not zoom:
            return max(self._model_side, size)
        factor = min(max(ZOOM_TARGET / max(size, 1.0), 1.0), self._config.max_zoom)
        return max(min(self._model_side, self._input_size / factor), size)

    @staticmethod
    def _group(boxes: list[Box], reason: Reason) -> list[_Candidate]:
        """Union overlapping (already grown) boxes, so one object's fragments become one; repeated
        until no two groups overlap, since a union can reach a group it did not touch before."""
        groups = [_Candidate(b, b.area, reason) for b in boxes]
        pair = _overlapping_pair(groups)
        while pair is not None:
            i, j = pair
            groups = _replace(groups, i, j, _join(groups[i], groups[j]))
            pair = _overlapping_pair(groups)
        return groups

    def _merge_cheap(self, candidates: list[_Candidate]) -> list[_Candidate]:
        """Merge pairs whose shared square is no larger than their two squares together (one
        inference instead of two at no loss of pixels), or no larger than a model-size square:
        zooming never costs more inferences than crops at model size would."""
        merged = True
        while merged and len(candidates) > 1:
            merged = False
            for i in range(len(candidates)):
                for j in range(i + 1, len(candidates)):
                    a, b = candidates[i], candidates[j]
                    zoom = a.zoom and b.zoom
                    shared = self._side(a.content.union(b.content), zoom)
                    if shared <= self._model_side or shared**2 <= (
                        self._side(a.content, a.zoom) ** 2 + self._side(b.content, b.zoom) ** 2
                    ):
                        candidates = _replace(candidates, i, j, _join(a, b))
                        merged = True
                        break
                if merged:
                    break
        return candidates

    def _cap(self, candidates: list[_Candidate]) -> list[_Candidate]:
        """Over ``max_regions``: merge the pair whose shared square is smallest, again and again.

        Merging rather than dropping keeps every object in some crop (at lower detail), so a
        busy scene never silently loses a tracked person.
        """
        while len(candidates) > self._config.max_regions:
            pairs = (
                (
                    self._side(
                        candidates[i].content.union(candidates[j].content),
                        candidates[i].zoom and candidates[j].zoom,
                    ),
                    i,
                    j,
                )
                for i in range(len(candidates))
                for j in range(i + 1, len(candidates))
            )
            _, i, j = min(pairs)
            candidates = _replace(candidates, i, j, _join(candidates[i], candidates[j]))
        return candidates


def model_side(config: RegionConfig, frame_size: tuple[int, int], model_input_size: int) -> float:
    """The usual crop's side: the model's input size (full detail), or the frame's short side."""
    width, height = frame_size
    return min(model_input_size * config.min_size, float(width), float(height))


def _place(start: float, side: float, limit: int) -> float:
    """Shift a 1-D span of ``side`` starting at ``start`` to lie within ``[0, limit]``; centre
    it when it cannot fit."""
    if side >= limit:
        return (limit - side) / 2.0
    return min(max(start, 0.0), limit - side)


def _overlapping_pair(groups: list[_Candidate]) -> tuple[int, int] | None:
    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            if groups[i].content.intersection(groups[j].content) > 0:
                return i, j
    return None


def _join(a: _Candidate, b: _Candidate) -> _Candidate:
    reason: Reason = "motion" if "motion" in (a.reason, b.reason) else "track"
    return _Candidate(a.content.union(b.content), a.weight + b.weight, reason, a.zoom and b.zoom)


def _replace(items: list[_Candidate], i: int, j: int, joined: _Candidate) -> list[_Candidate]:
    """``items`` without ``i`` and ``j``, with ``joined`` at ``i``'s position (keeps order)."""
    out = [c for k, c in enumerate(items) if k != j]
    out[i] = joined
    return out
