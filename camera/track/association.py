"""Which detection continues which track: prediction first, then re-attachment, then new tracks.

Three passes per frame, each greedy by cost (cheapest pair first), as Norfair does: with a
handful of objects a global optimum (Hungarian, as in SORT and ByteTrack) buys nothing, and
greedy never trades a sure pair for two doubtful ones.

1. **Predicted** (tracks seen within ``PREDICT_S``): the distance of a detection's centre from
   where the track's Kalman filter expects it, in standard deviations (the filter's variance
   grows with the object's size and the time since it was seen), or from where it was last
   seen, whichever is nearer, so a dog that stops dead or turns back is still itself.  Gated at
   ``GATE`` sigmas and by size; the cost adds size change, colour difference and a penalty
   for a label switch (a crouching person read as a dog stays the same track, but a real cat at
   their feet is smaller and goes elsewhere).  A held track (a still thing) takes only a box on
   its own spot (``HELD_IOU``), however long it was unseen (a still thing stays put, so its spot
   is its prediction at any age; otherwise a hidden passer-by's track re-attaches to it once the
   detector looks there again after ``PREDICT_S``).  Confirmed tracks choose before tentative ones,
   so a flicker track never steals a known person's detection.
2. **Re-attached** (confirmed tracks hidden for a moment, also longer than ``PREDICT_S``): a
   detection of the same label that the object could have reached from where it was last seen
   (``REACH_SPEED`` object sizes per second), *and* that looks like it (colour histogram
   similarity at least ``REATTACH_SIMILARITY``), is that object coming out from behind a car or
   a pillar.  A track that left through the picture's edge is never re-attached: someone
   walking in there later is somebody else; nor is a held one (a still thing stays put).
3. **New**: what is left starts a tentative track, unless its score is below the label's alert
   threshold (ByteTrack's rule: weak boxes may continue a track, never start one) or it lies
   mostly inside a box matched this frame to a track of its label (a second box on the same
   person in a crowd, a head box under a body box).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from camera.track.appearance import similarity
from camera.track.state import Sighting, TrackState

GATE = 4.0
"""Largest distance from the prediction, in standard deviations, that may continue a track."""
PREDICT_S = 1.0
"""Tracks unseen for longer are matched only by re-attachment: past a second, a prediction's
spread is several body sizes, and position alone would hand a hidden object's track to anyone
passing by."""
SAME_LABEL_AREA_RATIO = 5.0
"""Box area may change by this factor between two sightings (an object walking in from the
edge, half hidden, or turning)."""
CROSS_LABEL_AREA_RATIO = 2.5
"""A label switch needs a box of about the same size (the same object, differently read)."""
CROSS_LABEL_COST = 4.0
"""Cost of a label switch, in squared sigmas: a same-label detection nearby wins."""
APPEARANCE_COST = 4.0
"""Cost of a colour difference, times (1 - histogram similarity)."""
REACH_SPEED = 3.0
"""Fastest plausible speed of a hidden object, in its own sizes per second (a person walking is
about one height per second, a trotting dog a few lengths)."""
REATTACH_SIMILARITY = 0.75
"""Colour histogram similarity (Bhattacharyya coefficient) needed to re-attach.  On the indoor
clip the same person scored 0.83-1.0 (5th percentile 0.88) against themselves up to 10 s apart,
and different people a median 0.71 (but two alike dressed 0.97): colour can refuse a stranger,
never prove identity, so it only ever confirms what position and time already allow."""
HELD_IOU = 0.6
"""A held track (a still thing that never moved on its own, see ``camera.track.own_motion``)
continues only with a box on its own spot (this IoU with its box, a centre shift of at most a
quarter of its size): otherwise it would take over a visitor walking past it, move with them
and look like an object that moved."""
DUPLICATE_INSIDE = 0.7
"""Share of a new box lying inside a matched box of its label that makes it a duplicate."""


@dataclass(slots=True)
class Assignment:
    """The outcome of one frame's association."""

    matched: list[tuple[TrackState, Sighting]] = field(default_factory=list)
    reattached: list[tuple[TrackState, Sighting]] = field(default_factory=list)
    new: list[Sighting] = field(default_factory=list)
    duplicates: int = 0


def associate(
    tracks: Sequence[TrackState],
    sightings: Sequence[Sighting],
    now: float,
    frame_size: tuple[int, int],
    new_track_score: dict[str, float],
) -> Assignment:
    """Assign this frame's sightings to tracks; see the module docstring."""
    result = Assignment()
    free = list(range(len(sightings)))
    recent = [t for t in tracks if now - t.last_seen <= PREDICT_S or t.held]
    for group in ([t for t in recent if t.confirmed], [t for t in recent if not t.confirmed]):
        pairs = _predicted_pairs(group, sightings, free, now)
        for track, index in _greedy(pairs):
            result.matched.append((track, sightings[index]))
            free.remove(index)
    taken = {id(t) for t, _ in result.matched}
    hidden = [
        t
        for t in tracks
        if t.confirmed
        and id(t) not in taken
        and now > t.last_seen
        and not t.held
        and not t.left_through_edge(frame_size)
    ]
    for track, index in _greedy(_reattach_pairs(hidden, sightings, free, now)):
        result.reattached.append((track, sightings[index]))
        free.remove(index)
    boxes = [(t.label, s.box) for t, s in result.matched + result.reattached]
    for index in free:
        sighting = sightings[index]
        detection = sighting.detection
        if detection.score < new_track_score.get(detection.label, 0.0):
            continue
        area = max(detection.box.area, 1.0)
        if any(
            label == detection.label and box.intersection(detection.box) >= DUPLICATE_INSIDE * area
            for label, box in boxes
        ):
            result.duplicates += 1
            continue
        result.new.append(sighting)
    return result


def _greedy(pairs: list[tuple[float, int, TrackState, int]]) -> list[tuple[TrackState, int]]:
    """Cheapest pairs first, each track and each sighting used once."""
    pairs.sort(key=lambda p: (p[0], p[1]))
    used_tracks: set[int] = set()
    used_sightings: set[int] = set()
    chosen: list[tuple[TrackState, int]] = []
    for _, _, track, index in pairs:
        if id(track) in used_tracks or index in used_sightings:
            continue
        used_tracks.add(id(track))
        used_sightings.add(index)
        chosen.append((track, index))
    return chosen


@dataclass(frozen=True, slots=True)
class _Point:
    """What association needs of a sighting, computed once per frame."""

    index: int
    label: str
    cx: float
    cy: float
    area: float
    sighting: Sighting


def _points(sightings: Sequence[Sighting], free: list[int]) -> list[_Point]:
    points = []
    for index in free:
        sighting = sightings[index]
        box = sighting.detection.box
        cx, cy = box.center
        points.append(_Point(index, sighting.detection.label, cx, cy, max(box.area, 1.0), sighting))
    return points


def _predicted_pairs(
    tracks: Sequence[TrackState], sightings: Sequence[Sighting], free: list[int], now: float
) -> list[tuple[float, int, TrackState, int]]:
    pairs: list[tuple[float, int, TrackState, int]] = []
    points = _points(sightings, free)
    gate2 = GATE * GATE
    log = math.log
    for order, track in enumerate(tracks):
        prediction = track.kinematics.predict(now)
        px, py, var_x, var_y = prediction.cx, prediction.cy, prediction.var_x, prediction.var_y
        last_x, last_y = track.box.center
        label = track.label
        motion_track = track.motion_only
        # Prefilter: nothing farther than the gate on either axis can pass.
        reach_x = GATE * math.sqrt(var_x)
        reach_y = GATE * math.sqrt(var_y)
        track_area = max(prediction.width * prediction.height, 1.0)
        for point in points:
            if (point.label == "motion") != motion_track:
                continue  # motion-only blobs never join a detected object, nor the reverse
            if track.held and track.box.iou(point.sighting.detection.box) < HELD_IOU:
                continue
            cx, cy = point.cx, point.cy
            near_prediction = abs(cx - px) <= reach_x and abs(cy - py) <= reach_y
            near_last = abs(cx - last_x) <= reach_x and abs(cy - last_y) <= reach_y
            if not (near_prediction or near_last):
                continue
            distance2 = min(
                (cx - px) ** 2 / var_x + (cy - py) ** 2 / var_y,
                (cx - last_x) ** 2 / var_x + (cy - last_y) ** 2 / var_y,
            )
            if distance2 > gate2:
                continue
            ratio = point.area / track_area
            switch = bool(label) and point.label != label
            limit = CROSS_LABEL_AREA_RATIO if switch else SAME_LABEL_AREA_RATIO
            if not 1.0 / limit <= ratio <= limit:
                continue
            cost = distance2 + log(ratio) ** 2
            if switch:
                cost += CROSS_LABEL_COST
            pairs.append((cost, order, track, point.index))
    return _with_appearance(pairs, sightings)


def _with_appearance(
    pairs: list[tuple[float, int, TrackState, int]], sightings: Sequence[Sighting]
) -> list[tuple[float, int, TrackState, int]]:
    """Add the colour difference to the cost of pairs that compete (a track with two candidate
    detections, a detection with two candidate tracks); a pair alone has nothing to be told
    apart from, and its detection's histogram is not worth taking."""
    per_track = Counter(id(track) for _, _, track, _ in pairs)
    per_sighting = Counter(index for _, _, _, index in pairs)
    out = []
    for cost, order, track, index in pairs:
        if per_track[id(track)] > 1 or per_sighting[index] > 1:
            looks = similarity(track.histogram, sightings[index].histogram)
            if looks is not None:
                cost += APPEARANCE_COST * (1.0 - looks)
        out.append((cost, order, track, index))
    return out


def _reattach_pairs(
    tracks: Sequence[TrackState], sightings: Sequence[Sighting], free: list[int], now: float
) -> list[tuple[float, int, TrackState, int]]:
    pairs: list[tuple[float, int, TrackState, int]] = []
    for order, track in enumerate(tracks):
        size = track.kinematics.size
        gap = now - track.last_seen
        reach = size * (1.0 + REACH_SPEED * gap)
        last_x, last_y = track.box.center
        for index in free:
            sighting = sightings[index]
            detection = sighting.detection
            if detection.label != track.label:
                continue
            cx, cy = detection.box.center
            distance = math.hypot(cx - last_x, cy - last_y)
            if distance > reach:
                continue
            ratio = max(detection.box.area, 1.0) / max(track.box.area, 1.0)
            if not 1.0 / SAME_LABEL_AREA_RATIO <= ratio <= SAME_LABEL_AREA_RATIO:
                continue
            looks = similarity(track.histogram, sighting.histogram)
            if looks is None:
                # No colours to compare (no image given): only where it stood, about its size.
                if distance > size:
                    continue
                looks = REATTACH_SIMILARITY
            elif looks < REATTACH_SIMILARITY:
                continue
            pairs.append((distance / reach + (1.0 - looks), order, track, index))
    return pairs


def reattachable(
    hidden: TrackState, newer: TrackState, frame_size: tuple[int, int], now: float
) -> float | None:
    """How well a tentative track ``newer`` continues the hidden confirmed track ``hidden``
    (lower is better), or None when it cannot be the same object: the same rules as pass 2,
    judged on the whole tentative track (several sightings' colours) when it is about to
    confirm, so a hidden object that came back unrecognised on its first frame still gets its
    old track back instead of a second alert."""
    if hidden.label != newer.label or hidden.left_through_edge(frame_size):
        return None
    gap = newer.first_seen - hidden.last_seen
    if gap <= 0:
        return None  # seen side by side: two objects
    size = hidden.kinematics.size
    reach = size * (1.0 + REACH_SPEED * gap)
    start = newer.start_center
    last_x, last_y = hidden.box.center
    distance = math.hypot(start[0] - last_x, start[1] - last_y)
    if distance > reach:
        return None
    looks = similarity(hidden.histogram, newer.histogram)
    if looks is None:
        if distance > size:
            return None
        looks = REATTACH_SIMILARITY
    elif looks < REATTACH_SIMILARITY:
        return None
    return distance / reach + (1.0 - looks)
