"""Associate detections over frames and turn a flicker of detections into one event.

A track is *tentative* until it has been detected ``confirm_frames`` times with a median score at
or above its label's threshold; only then does it emit ``start``.  This is what keeps one-frame
false positives (a coat read as a person, a shadow read as a cat) from ever alerting.  A confirmed
track emits ``update`` when a clearly better snapshot arrives or its label changes, and ``end`` once
it has not been seen for ``end_after_s``.  Everything is driven by frame timestamps, never by the
wall clock, so a replay is deterministic.
"""

from __future__ import annotations

import itertools
import logging
import statistics
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from camera.track.config import TrackerConfig
from camera.types import Box, Detection

log = logging.getLogger(__name__)

EventKind = Literal["start", "update", "end"]
_SCORE_HISTORY = 50
# A track whose centre stayed within this share of its own size never moved: a sleeping cat,
# a coat on a chair.  Such objects are remembered so that they do not alert again and again.
_STATIONARY_SHARE = 0.5
# Matching by proximity (no overlap) is for fast movers between consecutive detections only.
_PROXIMITY_GAP_S = 1.0


def event_ids(run_id: str | None = None) -> Callable[[], str]:
    """Event ids ``<run>-<serial>``: unique across restarts (random run part), readable, and
    sortable within a run.  Share one factory between trackers of one run."""
    run = run_id or uuid.uuid4().hex[:8]
    serial = itertools.count(1)
    return lambda: f"{run}-{next(serial):04d}"


@dataclass(frozen=True, slots=True)
class TrackEvent:
    """A change in an object's life that becomes an event update.

    ``snapshot`` is True when the current frame shows the object at its best so far: the caller
    renders the thumbnail from that frame.
    """

    kind: EventKind
    track_id: str
    label: str
    subclass: str
    score: float
    box: Box
    frame_time: float
    start_time: float
    end_time: float | None
    snapshot: bool


@dataclass(slots=True)
class _Track:
    id: str
    box: Box
    first_seen: float
    last_seen: float
    start_center: tuple[float, float]
    scores: deque[float] = field(default_factory=lambda: deque(maxlen=_SCORE_HISTORY))
    label_votes: dict[str, float] = field(default_factory=dict)
    subclass_votes: dict[str, float] = field(default_factory=dict)
    hits: int = 0
    confirmed: bool = False
    silent: bool = False
    published_label: str = ""
    snapshot_score: float = 0.0
    last_update: float = 0.0
    max_drift: float = 0.0

    @property
    def label(self) -> str:
        return max(self.label_votes, key=self.label_votes.__getitem__)

    @property
    def subclass(self) -> str:
        return max(self.subclass_votes, key=self.subclass_votes.__getitem__)

    @property
    def median_score(self) -> float:
        return float(statistics.median(self.scores)) if self.scores else 0.0

    @property
    def stationary(self) -> bool:
        size = max(self.box.width, self.box.height, 1.0)
        return self.max_drift <= _STATIONARY_SHARE * size

    def observe(self, detection: Detection, now: float) -> None:
        self.box = detection.box
        self.last_seen = now
        self.hits += 1
        self.scores.append(detection.score)
        self.label_votes[detection.label] = (
            self.label_votes.get(detection.label, 0.0) + detection.score
        )
        self.subclass_votes[detection.subclass] = (
            self.subclass_votes.get(detection.subclass, 0.0) + detection.score
        )
        cx, cy = detection.box.center
        drift = ((cx - self.start_center[0]) ** 2 + (cy - self.start_center[1]) ** 2) ** 0.5
        self.max_drift = max(self.max_drift, drift)


@dataclass(frozen=True, slots=True)
class _Resting:
    """A stationary object whose event ended; see ``stationary_memory_s``."""

    label: str
    box: Box
    until: float


def _compatible(track: _Track, detection: Detection, now: float) -> bool:
    """Whether ``detection`` may continue ``track``.

    Person and pet may swap within a track seen moments ago (a crouching person read as a dog
    for a frame), but a track gone quiet only continues with its own label: a cat walking in
    where a person just left is a new object.  Motion-only blobs never merge into a detected
    object's track, or its label would flip to "motion".
    """
    if (detection.label == "motion") != ("motion" in track.label_votes):
        return False
    return detection.label == track.label or now - track.last_seen <= _PROXIMITY_GAP_S


class Tracker:
    """See the module docstring. ``frame_size`` is ``(width, height)`` for the area rules."""

    def __init__(
        self,
        config: TrackerConfig,
        frame_size: tuple[int, int],
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.config = config
        self.frame_area = float(frame_size[0] * frame_size[1])
        self._new_id = new_id or event_ids()
        self._tracks: list[_Track] = []
        self._resting: list[_Resting] = []

    # -- queries -----------------------------------------------------------------------------
    def active_boxes(self) -> list[Box]:
        """Boxes of every live track, for the region planner to keep looking at them."""
        return [t.box for t in self._tracks]

    def open_events(self) -> int:
        return sum(1 for t in self._tracks if t.confirmed and not t.silent)

    # -- main step ---------------------------------------------------------------------------
    def update(self, detections: list[Detection], now: float) -> list[TrackEvent]:
        """Feed one frame's detections (empty when the detector ran and saw nothing)."""
        usable = [d for d in detections if self._large_enough(d)]
        events: list[TrackEvent] = []
        for track, detection in self._associate(usable, now):
            if track is None:
                track = self._new_track(detection, now)
            track.observe(detection, now)
            events.extend(self._after_observation(track, now))
        events.extend(self.expire(now))
        return events

    def expire(self, now: float) -> list[TrackEvent]:
        """End tracks not seen for ``end_after_s``; call it also on frames without detection."""
        events: list[TrackEvent] = []
        kept: list[_Track] = []
        for track in self._tracks:
            gone_for = now - track.last_seen
            if track.confirmed and gone_for >= self.config.end_after_s:
                events.extend(self._end(track, now))
            elif not track.confirmed and gone_for >= self.config.confirm_window_s:
                continue
            else:
                kept.append(track)
        self._tracks = kept
        self._resting = [r for r in self._resting if r.until > now]
        return events

    def finish(self, now: float | None = None) -> list[TrackEvent]:
        """End every open event now (end of a replay, service stop)."""
        events: list[TrackEvent] = []
        for track in self._tracks:
            if track.confirmed:
                events.extend(self._end(track, track.last_seen if now is None else now))
        self._tracks = []
        return events

    # -- internals ---------------------------------------------------------------------------
    def _large_enough(self, detection: Detection) -> bool:
        rule = self.config.rule(detection.label)
        return detection.box.area >= rule.min_area * self.frame_area

    def _associate(
        self, detections: list[Detection], now: float
    ) -> list[tuple[_Track | None, Detection]]:
        """Greedy matching: best overlaps first, then nearest centres for fast movers."""
        pairs = sorted(
            (
                (track.box.iou(det.box), ti, di)
                for ti, track in enumerate(self._tracks)
                for di, det in enumerate(detections)
                if _compatible(track, det, now)
            ),
            reverse=True,
        )
        used_tracks: set[int] = set()
        matched: dict[int, _Track | None] = {}
        for iou, ti, di in pairs:
            if iou < self.config.match_iou or ti in used_tracks or di in matched:
                continue
            used_tracks.add(ti)
            matched[di] = self._tracks[ti]
        for di, det in enumerate(detections):
            if di in matched:
                continue
            nearest = self._nearest_free(det, used_tracks, now)
            if nearest is not None:
                used_tracks.add(nearest)
            matched[di] = self._tracks[nearest] if nearest is not None else None
        return [(matched[di], det) for di, det in enumerate(detections)]

    def _nearest_free(self, detection: Detection, used: set[int], now: float) -> int | None:
        """A free track of the same label, seen moments ago, whose centre is within one box size
        of this one: an object that moved too far between frames to overlap itself.

        Only recent tracks qualify: a track last seen seconds ago near the edge must not grab
        the next arrival at that edge (a cat entering where a person just left).
        """
        best: tuple[float, int] | None = None
        box = detection.box
        cx, cy = box.center
        for ti, track in enumerate(self._tracks):
            if ti in used or track.label != detection.label:
                continue
            if now - track.last_seen > _PROXIMITY_GAP_S:
                continue
            tx, ty = track.box.center
            distance = ((cx - tx) ** 2 + (cy - ty) ** 2) ** 0.5
            reach = max(track.box.width, track.box.height, box.width, box.height)
            if distance <= reach and (best is None or distance < best[0]):
                best = (distance, ti)
        return best[1] if best else None

    def _new_track(self, detection: Detection, now: float) -> _Track:
        track = _Track(
            id=self._new_id(),
            box=detection.box,
            first_seen=now,
            last_seen=now,
            start_center=detection.box.center,
        )
        self._tracks.append(track)
        return track

    def _after_observation(self, track: _Track, now: float) -> list[TrackEvent]:
        label = track.label
        if not track.confirmed:
            rule = self.config.rule(label)
            if track.hits < self.config.confirm_frames or track.median_score < rule.threshold:
                return []
            track.confirmed = True
            track.silent = self._was_resting_here(track, now)
            if track.silent:
                log.info("%s %s is back where it rested: not re-alerting", label, track.id)
                return []
            return [self._emit("start", track, now, snapshot=True)]
        if track.silent:
            if track.stationary:
                return []
            track.silent = False  # it got up and moved: now it is news
            return [self._emit("start", track, now, snapshot=True)]
        if label != track.published_label:
            return [self._emit("update", track, now, snapshot=True)]
        current = track.scores[-1]
        better = current >= track.snapshot_score + self.config.update_min_gain
        if better and now - track.last_update >= self.config.update_min_interval_s:
            return [self._emit("update", track, now, snapshot=True)]
        return []

    def _was_resting_here(self, track: _Track, now: float) -> bool:
        return any(
            r.label == track.label and r.until > now and r.box.iou(track.box) >= 0.5
            for r in self._resting
        )

    def _end(self, track: _Track, now: float) -> list[TrackEvent]:
        """``frame_time`` is when the end was decided; ``end_time`` when it was last seen."""
        if track.stationary and self.config.stationary_memory_s > 0:
            until = track.last_seen + self.config.stationary_memory_s
            self._resting.append(_Resting(track.label, track.box, until))
        if track.silent:
            return []
        return [self._emit("end", track, now, snapshot=False, ended=True)]

    def _emit(
        self, kind: EventKind, track: _Track, now: float, *, snapshot: bool, ended: bool = False
    ) -> TrackEvent:
        if snapshot:
            track.snapshot_score = track.scores[-1]
            track.last_update = now
        track.published_label = track.label
        return TrackEvent(
            kind=kind,
            track_id=track.id,
            label=track.label,
            subclass=track.subclass,
            score=round(track.median_score, 3),
            box=track.box,
            frame_time=now,
            start_time=track.first_seen,
            end_time=track.last_seen if ended else None,
            snapshot=snapshot,
        )
