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
   walking in there later is somebody else (unless it comes back at that very spot within
   ``EDGE_RETURN_S``, judged when the newcomer is about to confirm: ``reattachable``); nor is a
   held one (a still thing stays put).
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
from camera.track.state import Sighting, TrackState, borders_touched
from camera.types import Box

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
PART_SPAN = 0.6
"""A part cut across one axis keeps at least this share of the whole's extent on the other."""
PART_EDGE = 0.15
"""...and ends where the whole ends on the cut axis, at one end at least, within this share of
the whole's extent there (the head at the top of the body, the feet at its bottom): a smaller
person walking behind another, boxed inside them, ends nowhere near their edges."""
PART_BORDER_SPAN = 1 / 3
"""The first stride in through the top or bottom border spans at least this share of the whole
along it (the legs of someone walking in from the top, narrower than their shoulders)."""
EDGE_RETURN_S = 2.5
"""An object that walked out through the edge and a new one of its label that comes in at the
very spot (within one of its sizes) this soon after are the same visit: someone who stepped
out of view for a moment (a sliver at the edge the detector does not see) and back.  Later, or
elsewhere, the newcomer is another visit."""
DUPLICATE_INSIDE = 0.7
"""Share of a new box lying inside a matched box of its label that makes it a duplicate."""
PART_INSIDE = 0.8
"""Share of one box inside another of the same label that makes it a view of part of the same
object (the legs below a carried parcel, a head above a hedge, the first stride in from the
frame's edge): it continues the track whatever the distance of their centres."""


@dataclass(slots=True)
class Assignment:
    """The outcome of one frame's association.  ``jumped``: tracks whose box changed from a
    part of the object to more of it or the reverse (matched by ``PART_INSIDE``): their motion
    state starts again from the new box, which is not a step of the old one."""

    matched: list[tuple[TrackState, Sighting]] = field(default_factory=list)
    reattached: list[tuple[TrackState, Sighting]] = field(default_factory=list)
    new: list[Sighting] = field(default_factory=list)
    duplicates: int = 0
    jumped: list[TrackState] = field(default_factory=list)


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
        parts: set[tuple[int, int]] = set()
        pairs = _predicted_pairs(group, sightings, free, now, parts, frame_size)
        for track, index in _greedy(pairs):
            result.matched.append((track, sightings[index]))
            free.remove(index)
            if (id(track), index) in parts:
                result.jumped.append(track)
    _prefer_whole(result, sightings, free, frame_size)
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


def _prefer_whole(
    result: Assignment,
    sightings: Sequence[Sighting],
    free: list[int],
    frame_size: tuple[int, int],
) -> None:
    """A free box of a label that holds the box a track of that label was just matched to (the
    whole person around the upper body seen above a parcel, or around the first stride in from
    the edge) takes that track over: it is the better view of the same object, and the part is
    a duplicate.  Not when it holds the boxes of two tracks (a group read as one box)."""
    for index in list(free):
        whole = sightings[index].detection
        holders = [
            (position, track)
            for position, (track, part) in enumerate(result.matched)
            if not track.held
            and part.detection.label == whole.label
            and part.box.area < whole.box.area
            and part_of(part.box, whole.box, frame_size)
        ]
        if len(holders) != 1:
            continue
        position, track = holders[0]
        result.matched[position] = (track, sightings[index])
        free.remove(index)
        result.duplicates += 1
        if track not in result.jumped:
            result.jumped.append(track)


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
    tracks: Sequence[TrackState],
    sightings: Sequence[Sighting],
    free: list[int],
    now: float,
    parts: set[tuple[int, int]],
    frame_size: tuple[int, int],
) -> list[tuple[float, int, TrackState, int]]:
    """Candidate pairs within the gate, and same-label pairs where one box holds the other
    (``PART_INSIDE``; noted in ``parts``), which pass whatever their distance and size ratio at
    the cost of the gate's edge: a near detection of the right size still wins."""
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
        held = track.held
        # Prefilter: nothing farther than the gate on either axis can pass.
        reach_x = GATE * math.sqrt(var_x)
        reach_y = GATE * math.sqrt(var_y)
        track_area = max(prediction.width * prediction.height, 1.0)
        around = prediction.box.union(track.box)
        for point in points:
            if (point.label == "motion") != motion_track:
                continue  # motion-only blobs never join a detected object, nor the reverse
            box = point.sighting.detection.box
            if held and track.box.iou(box) < HELD_IOU:
                continue
            ratio = point.area / track_area
            switch = bool(label) and point.label != label
            cx, cy = point.cx, point.cy
            near_prediction = abs(cx - px) <= reach_x and abs(cy - py) <= reach_y
            near_last = abs(cx - last_x) <= reach_x and abs(cy - last_y) <= reach_y
            distance2 = math.inf
            if near_prediction or near_last:
                distance2 = min(
                    (cx - px) ** 2 / var_x + (cy - py) ** 2 / var_y,
                    (cx - last_x) ** 2 / var_x + (cy - last_y) ** 2 / var_y,
                )
            limit = CROSS_LABEL_AREA_RATIO if switch else SAME_LABEL_AREA_RATIO
            if distance2 <= gate2 and 1.0 / limit <= ratio <= limit:
                cost = distance2 + log(ratio) ** 2
                if switch:
                    cost += CROSS_LABEL_COST
                pairs.append((cost, order, track, point.index))
            elif not switch and not held and _part_of(box, around, track.box, frame_size):
                parts.add((id(track), point.index))
                pairs.append((gate2 + abs(log(ratio)), order, track, point.index))
    return _with_appearance(pairs, sightings)


def _part_of(box: Box, around: Box, last: Box, frame_size: tuple[int, int]) -> bool:
    """Whether ``box`` shows part of where the track is (``around``: its last and its
    predicted box), or its last box shows part of ``box`` (``part_of``).  Most pairs a frame
    offers lie apart: rejected on their corners first (``last`` lies inside ``around``), which
    keeps 30 objects' association as cheap as without this rule."""
    if box.x2 <= around.x1 or box.x1 >= around.x2 or box.y2 <= around.y1 or box.y1 >= around.y2:
        return False
    return part_of(box, around, frame_size) or part_of(last, box, frame_size)


def part_of(part: Box, whole: Box, frame_size: tuple[int, int]) -> bool:
    """Whether ``part`` can be a view of part of the object at ``whole``: mostly
    (``PART_INSIDE``) inside it, and cut from it across one axis only: as wide as it (within
    ``PART_SPAN``: the upper body above a parcel, the legs below it) or as tall (a head and
    shoulders beside a pillar), ending where the whole ends at one end of the cut axis
    (``PART_EDGE``), or, both at the top or both at the bottom border of the picture, the
    first stride in through it, at least ``PART_BORDER_SPAN`` of the whole along that border.
    A big stray box around someone (the detector boxing half a room) shares neither, and takes
    nobody over."""
    if part.intersection(whole) < PART_INSIDE * max(part.area, 1.0):
        return False
    wide = part.width / max(whole.width, 1.0)
    tall = part.height / max(whole.height, 1.0)
    if wide >= PART_SPAN and _shares_an_end(part.y1, part.y2, whole.y1, whole.y2):
        return True
    if tall >= PART_SPAN and _shares_an_end(part.x1, part.x2, whole.x1, whole.x2):
        return True
    # Through the top or the bottom border only: a person (or a pet) stepping in at a side
    # keeps most of their height (the rule above); a box half as tall at a side border is
    # another object stacked above or below (two people boxed as one on the real footpath).
    part_at, whole_at = borders_touched(part, frame_size), borders_touched(whole, frame_size)
    across = (part_at.top and whole_at.top) or (part_at.bottom and whole_at.bottom)
    return across and wide >= PART_BORDER_SPAN


def _shares_an_end(start: float, end: float, whole_start: float, whole_end: float) -> bool:
    """Whether a span ends where the whole's span does, at one end (``PART_EDGE``)."""
    slack = PART_EDGE * max(whole_end - whole_start, 1.0)
    return abs(start - whole_start) <= slack or abs(end - whole_end) <= slack


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
    if hidden.label != newer.label:
        return None
    gap = newer.first_seen - hidden.last_seen
    if gap <= 0:
        return None  # seen side by side: two objects
    size = hidden.kinematics.size
    if hidden.left_through_edge(frame_size) and not (
        gap <= EDGE_RETURN_S and _distance(newer.start_center, hidden.box.center) <= size
    ):
        return None
    reach = size * (1.0 + REACH_SPEED * gap)
    distance = _distance(newer.start_center, hidden.box.center)
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


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])
