"""Turn detections over frames into objects, and objects into events: one visit, one event.

Per frame (``update``): detections too small for their label are dropped, the rest get a colour
histogram and a plausibility verdict (``camera.track.labels``), association assigns them to
tracks (``camera.track.association``: prediction, re-attachment, new), and each track's life
moves on (``camera.track.lifecycle``: tentative, confirmed, alerted, ended; held and silent as
the reasons a confirmed object has no event).  The tracker owns what the lifecycle asks about:

* **confirmation**: ``confirm_frames`` detections of its label with a median score at or above
  the label's threshold, within ``confirm_window_s``.  One-frame false positives (a coat read as
  a person, a shadow read as a cat) never get further.  A tentative track about to confirm that
  continues a confirmed track hidden a moment ago (same label, reachable, same colours) is
  merged into it instead: no second alert for one visit;
* **alert zones**: with ``alert_zones`` for its label, an event is stored from the start but
  announced only once the object enters one of those zones;
* **resting objects**: a stationary object that ended and re-appears where it rested within
  ``stationary_memory_s`` (a sleeping cat flickering in and out) stays silent;
* **still things** (``camera.track.own_motion``): a confirmed track whose object never moved on
  its own (no displacement, no motion blob on it, only motion next to it) is held until it moves
  on its own, or until its median score reaches the label's ``still_threshold`` (a cushion beside
  a playing kitten, a stone beside a footpath; a visitor who walked up and stopped had moved).
  Needs the frame's motion blobs (``observe_motion``); a tracker never given them (motion-less
  callers, detector paused) holds nothing.

Confirmed tracks coast while unseen (the region planner keeps looking where they should be)
and end after ``end_after_s``.  Everything runs on frame timestamps, never the wall clock, so
a replay is deterministic.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from camera.track.appearance import similarity
from camera.track.association import HELD_IOU, REATTACH_SIMILARITY, associate, reattachable
from camera.track.config import TrackerConfig
from camera.track.kinematics import Kinematics
from camera.track.labels import pet_plausible
from camera.track.lifecycle import EndReason, TrackEvent, advance
from camera.track.own_motion import MOTION_MEMORY_S, arriving, on_object, owners
from camera.track.state import Sighting, TrackState
from camera.track.zones import Zone, ZoneMap, ZonePresence
from camera.types import Box, Detection

log = logging.getLogger(__name__)

OCCUPANCY_LABELS = ("person", "pet")
LOOK_FOR_S = 2.0
"""How long the region planner keeps looking for a track that is no longer detected: three
refresh crops at 10 fps (a still person whose score flickers is found again well within it)."""
CONFIRM_LOOK_S = 0.5
"""A tentative track is looked at on every frame while seen within this (a one-frame false
positive costs at most this many frames' crops)."""
BORDER_LOOK_S = 0.3
"""...but one cut by a border only this long after it was last seen (see ``urgent_boxes``)."""
HELD_LOOK_S = 1.5
"""A held track is looked at on every frame for this long after it was confirmed."""
CONFIRM_WINDOW_S = 2.0
"""...and a tentative one for at most this long after it was first seen (one whose median
score stays below its label's threshold is not looked at on every frame for ever)."""
JUDGE_STILL_S = 1.0
"""A track not seen moving on its own is confirmed (and held as a still thing) only once seen
for this long.  Looked at on every frame, a walker far away has 3 detections in 0.2 s, before
drifting the quarter of their size that shows them moving (0.3-1 s on the real footpath):
held, they would lose their track as they walk on (a held track keeps only boxes on its own
spot) and never alert.  1.0 s is about the old confirmation time (a refresh every 6 frames)."""


def event_ids(run_id: str | None = None) -> Callable[[], str]:
    """Event ids ``<run>-<serial>``: unique across restarts (random run part), readable, and
    sortable within a run.  Share one factory between trackers of one run."""
    run = run_id or uuid.uuid4().hex[:8]
    serial = itertools.count(1)
    return lambda: f"{run}-{next(serial):04d}"


Occupancy = dict[tuple[str, str], int]
"""``(zone, label) -> objects in it now``, for every zone and every label in
``OCCUPANCY_LABELS`` (zero included, so a consumer sees a zone empty out)."""


@dataclass(frozen=True, slots=True)
class _Resting:
    """A stationary object whose event ended; see ``stationary_memory_s``."""

    label: str
    box: Box
    histogram: np.ndarray | None
    until: float

    def explains(self, track: TrackState, now: float) -> bool:
        """Whether ``track`` is this object seen again: same label, first seen where it rested
        (a visitor who walked in was first seen on the way, even when the detector only caught
        them once they stood on the same spot), still there, and not unlike it in colour (a
        sleeping cat keeps its fur; the next person at the same table wears other clothes)."""
        if self.label != track.label or self.until <= now:
            return False
        x, y = track.start_center
        if not (self.box.x1 <= x <= self.box.x2 and self.box.y1 <= y <= self.box.y2):
            return False
        if self.box.iou(track.box) < 0.5:
            return False
        looks = similarity(self.histogram, track.histogram)
        return looks is None or looks >= REATTACH_SIMILARITY


class Tracker:
    """See the module docstring.  ``frame_size`` is ``(width, height)``."""

    def __init__(
        self,
        config: TrackerConfig,
        frame_size: tuple[int, int],
        new_id: Callable[[], str] | None = None,
        zones: dict[str, Zone] | None = None,
    ) -> None:
        self.config = config
        self.frame_size = frame_size
        self.frame_area = float(frame_size[0] * frame_size[1])
        self.zone_map = ZoneMap(zones or {}, frame_size)
        self._new_id = new_id or event_ids()
        self._tracks: list[TrackState] = []
        self._resting: list[_Resting] = []
        self._motion: deque[tuple[float, tuple[Box, ...]]] = deque()
        self._motion_known = False
        self._new_track_score = {
            label: rule.threshold for label, rule in config.labels.by_label().items()
        }

    def reconfigure(self, config: TrackerConfig, zones: dict[str, Zone]) -> None:
        """New rules or zones (the web editor), applied between two frames: tracks and their
        events go on; an object's presence in a zone that no longer exists is forgotten, the
        zones it entered stay in its event's history."""
        self.config = config
        self.zone_map = ZoneMap(zones, self.frame_size)
        self._new_track_score = {
            label: rule.threshold for label, rule in config.labels.by_label().items()
        }
        for track in self._tracks:
            track.zones.inertia = config.zone_inertia
            track.zones.inside &= set(zones)

    # -- queries -----------------------------------------------------------------------------
    def active_boxes(self, now: float | None = None) -> list[Box]:
        """Where the region planner should keep looking: each track's predicted box (the last
        box without ``now``).

        Not for a track that ran out of the picture, nor one unseen for ``LOOK_FOR_S``
        despite being looked at: its event stays open until ``end_after_s`` (it may be hidden,
        and re-attaches when it moves again, which motion sees), but a crop where it was would
        only find whoever walks in next and hand them its event, or keep the detector running
        in an empty corner for seconds.
        """
        if now is None:
            return [t.box for t in self._tracks]
        return [
            self._expected_box(t, now)
            for t in self._tracks
            if now - t.last_seen <= LOOK_FOR_S and not t.ran_out(self.frame_size)
        ]

    def urgent_boxes(self, now: float) -> list[Box]:
        """Objects to look at on every frame, not every few: a tentative one seen a moment ago
        (``CONFIRM_LOOK_S``: its confirming detections come at once instead of a refresh
        apart, 0.2 s instead of 1.2 s at 10 fps; ``BORDER_LOOK_S`` apart while a border cuts
        it), and a still thing just held (``HELD_LOOK_S``:
        the looks that tell a person standing in view from a statue, see
        ``camera.track.own_motion.ContentShift``).

        A tentative object cut by a border is still coming into view: a person's head and
        shoulders rising from the bottom edge read as a dog on a few frames in a row, and three
        looks 0.1 s apart then confirmed a pet (a person alerted as a pet on the one-by-one clip
        with PP-PicoDet-S).  Looked at 0.3 s apart, its label is judged over more of its entry; at a
        hot, low frame rate that is still every frame, so no visitor waits for a refresh."""
        return [
            self._expected_box(t, now)
            for t in self._tracks
            if (
                not t.confirmed
                and now - t.last_seen <= CONFIRM_LOOK_S
                and (now - t.last_seen >= BORDER_LOOK_S or not t.cut_by_border(self.frame_size))
                and now - t.first_seen <= CONFIRM_WINDOW_S
            )
            or (t.held and now - t.life.confirmed_at <= HELD_LOOK_S)
        ]

    def open_events(self) -> int:
        return sum(1 for t in self._tracks if t.life.event_open)

    def occupancy(self) -> Occupancy:
        """Objects per zone and label now: confirmed tracks whose feet are in the zone (with
        the zone inertia), whether or not their event alerts."""
        counts: Occupancy = {
            (zone, label): 0 for zone in self.zone_map.names for label in OCCUPANCY_LABELS
        }
        for track in self._tracks:
            if not track.confirmed or track.held or track.label not in OCCUPANCY_LABELS:
                continue
            for zone in track.zones.inside:
                counts[(zone, track.label)] += 1
        return counts

    # -- main step ---------------------------------------------------------------------------
    def observe_motion(self, blobs: Sequence[Box], now: float) -> None:
        """This frame's motion blobs (full-frame boxes), before its ``update`` or ``expire``:
        the evidence that an object moves on its own (see ``camera.track.own_motion``)."""
        self._motion_known = True
        boxes = [self._expected_box(t, now) if t.confirmed else t.box for t in self._tracks]
        moved, unowned = owners(boxes, blobs)
        for index in moved:
            self._tracks[index].moved_at(now)
        self._motion.append((now, tuple(unowned)))
        while self._motion and self._motion[0][0] < now - MOTION_MEMORY_S:
            self._motion.popleft()

    def update(
        self, detections: Sequence[Detection], now: float, image: np.ndarray | None = None
    ) -> list[TrackEvent]:
        """Feed one frame's detections (empty when the detector ran and saw nothing).

        ``image`` is the frame the detections came from (BGR): it gives the colour cue for
        re-attachment.  Without it, re-attachment falls back to position alone, nearby only.
        """
        sightings = self._sightings(detections, image)
        assignment = associate(self._tracks, sightings, now, self.frame_size, self._new_track_score)
        events: list[TrackEvent] = []
        for track, _ in assignment.reattached:
            log.debug("%s re-attached after %.1f s unseen", track.id, now - track.last_seen)
        for track in assignment.jumped:
            log.debug("%s box jumped: motion state restarts", track.id)
        jumped = {id(t) for t in assignment.jumped}
        for track, sighting in assignment.matched + assignment.reattached:
            if id(track) in jumped:
                track.kinematics = Kinematics(sighting.box, now)
            track.observe(sighting, now)
            events.extend(self._seen(track, now))
        for sighting in assignment.new:
            track = self._new_track(sighting, now)
            track.observe(sighting, now)
            events.extend(self._seen(track, now))
        events.extend(self.expire(now))
        return events

    def expire(self, now: float) -> list[TrackEvent]:
        """End tracks not seen for ``end_after_s``; call it also on frames without detection."""
        events: list[TrackEvent] = []
        kept: list[TrackState] = []
        for track in self._tracks:
            gone_for = now - track.last_seen
            if track.confirmed and gone_for >= self.config.end_after_s:
                events.extend(self._end(track, now, "gone"))
            elif not track.confirmed and gone_for >= self.config.confirm_window_s:
                continue
            else:
                kept.append(track)
        self._tracks = kept
        self._resting = [r for r in self._resting if r.until > now]
        return events

    def finish(
        self, now: float | None = None, reason: EndReason = "stream_end"
    ) -> list[TrackEvent]:
        """End every open event now (end of a replay, service stop)."""
        events: list[TrackEvent] = []
        for track in self._tracks:
            if track.confirmed:
                events.extend(self._end(track, track.last_seen if now is None else now, reason))
        self._tracks = []
        return events

    # -- what the lifecycle asks (``camera.track.lifecycle.Context``) ------------------------
    def new_id(self) -> str:
        return self._new_id()

    def confirmable(self, track: TrackState) -> bool:
        evidence = track.evidence
        if not evidence.known or evidence.hits() < self.config.confirm_frames:
            return False
        if evidence.median_score() < self.config.rule(evidence.label).threshold:
            return False
        return track.last_seen - track.first_seen >= JUDGE_STILL_S or self.proven(track)

    def proven(self, track: TrackState) -> bool:
        """Whether a confirmed track may be news: see "still thing" in the module docstring."""
        if not self._motion_known or track.motion_only or track.moved_on_its_own:
            return True
        return track.evidence.median_score() >= self.config.rule(track.label).still_threshold

    def resting_here(self, track: TrackState, now: float) -> bool:
        return any(resting.explains(track, now) for resting in self._resting)

    def alert_due(self, track: TrackState) -> bool:
        zones = self.config.rule(track.label).alert_zones
        return not zones or any(zone in track.zones.entered for zone in zones)

    # -- internals ---------------------------------------------------------------------------
    def _sightings(
        self, detections: Sequence[Detection], image: np.ndarray | None
    ) -> list[Sighting]:
        usable = [d for d in detections if self._large_enough(d)]
        # A "person" on the spot of a track that never moved on its own (a cushion read as a
        # person) is no person for the pet rules: a kitten playing on it is not part of it.
        still = [t.box for t in self._tracks if t.label == "person" and not self.proven(t)]
        people = [
            d.box
            for d in usable
            if d.label == "person" and not any(d.box.iou(box) >= HELD_IOU for box in still)
        ]
        return [
            Sighting(d, d.label != "pet" or pet_plausible(d.box, people), image) for d in usable
        ]

    def _large_enough(self, detection: Detection) -> bool:
        rule = self.config.rule(detection.label)
        box = detection.box
        return (
            box.area >= rule.min_area * self.frame_area
            and max(box.width, box.height) >= rule.min_size_px
        )

    def _expected_box(self, track: TrackState, now: float) -> Box:
        """The predicted box, no farther than the last box's own size from it: the region
        planner's refresh crop must still cover an object that stopped."""
        predicted = track.kinematics.predict(now).box
        return predicted.union(track.box) if predicted.iou(track.box) < 0.5 else predicted

    def _new_track(self, sighting: Sighting, now: float) -> TrackState:
        box = sighting.box
        track = TrackState(
            id="",
            kinematics=Kinematics(box, now),
            box=box,
            first_seen=now,
            last_seen=now,
            start_center=box.center,
            zones=ZonePresence(self.config.zone_inertia),
        )
        # Motion on this spot just before it was recognised (it walked up, then stood).
        for then, blobs in self._motion:
            if any(on_object(box, blob) for blob in blobs):
                track.moved_at(then)
            track.arrived = track.arrived or any(arriving(box, blob) for blob in blobs)
        self._tracks.append(track)
        return track

    def _seen(self, track: TrackState, now: float) -> list[TrackEvent]:
        """``track`` was just seen: its zones, then its life; a tentative track about to confirm
        that is a hidden one coming back is merged into that one instead."""
        entered = track.zones.observe(self.zone_map.containing(track.box))
        if not track.confirmed and self.confirmable(track):
            hidden = self._hidden_original(track, now)
            if hidden is not None:
                log.info(
                    "%s %s is back after %.1f s hidden: same event",
                    hidden.label,
                    hidden.id,
                    track.first_seen - hidden.last_seen,
                )
                hidden.absorb(track)
                self._tracks.remove(track)
                return advance(hidden, now, self)
        return advance(track, now, self, entered=bool(entered))

    def _hidden_original(self, track: TrackState, now: float) -> TrackState | None:
        """A confirmed track, unseen since before ``track`` began, that ``track`` continues."""
        best: tuple[float, TrackState] | None = None
        for other in self._tracks:
            if other is track or not other.confirmed or other.last_seen >= track.first_seen:
                continue
            score = reattachable(other, track, self.frame_size, now)
            if score is not None and (best is None or score < best[0]):
                best = (score, other)
        return best[1] if best else None

    def _end(self, track: TrackState, now: float, reason: EndReason) -> list[TrackEvent]:
        if track.stationary and self.config.stationary_memory_s > 0:
            until = track.last_seen + self.config.stationary_memory_s
            self._resting.append(_Resting(track.label, track.box, track.histogram, until))
        return advance(track, now, self, end=reason)
