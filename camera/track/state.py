"""One tracked object: its motion, looks, label evidence, zones and its life (phase, event)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from camera.track.appearance import blend, colour_histogram
from camera.track.kinematics import Kinematics
from camera.track.labels import LabelEvidence
from camera.track.life import Life, Quiet
from camera.track.own_motion import OWN_DRIFT, OWN_MOTION_SPAN_S, ContentShift
from camera.track.zones import ZonePresence
from camera.types import Box, Detection

APPEARANCE_WEIGHT = 0.3
"""Share of a new detection's histogram in the track's running appearance."""
APPEARANCE_REFRESH_S = 0.5
"""A track's appearance is refreshed from its detections at most this often (unless a
detection's histogram was taken anyway): clothes do not change colour between two frames."""
EDGE_SHARE = 0.02
"""A box within this share of the frame's width or height from a border touches that border."""
EXIT_SPEED = 0.1
"""Speed towards a border, in the object's sizes per second, that counts as walking out."""
EXIT_LOOKAHEAD_S = 0.5
"""How far ahead a lost object's motion is followed to tell whether it ran out of the picture."""


class Borders(NamedTuple):
    """Which borders of the picture a box touches (within ``EDGE_SHARE``)."""

    left: bool
    right: bool
    top: bool
    bottom: bool


def borders_touched(box: Box, frame_size: tuple[int, int]) -> Borders:
    """The one border test of the tracker: leaving, being cut, coming in part by part."""
    width, height = frame_size
    margin_x, margin_y = EDGE_SHARE * width, EDGE_SHARE * height
    return Borders(
        left=box.x1 <= margin_x,
        right=box.x2 >= width - margin_x,
        top=box.y1 <= margin_y,
        bottom=box.y2 >= height - margin_y,
    )


class Sighting:
    """One detection prepared for the tracker: the box, whether it may vote for its label (see
    ``camera.track.labels.pet_plausible``) and, on demand, its colour histogram.

    The histogram is taken only when something asks (two tracks competing for one detection, a
    re-attachment, a track's periodic appearance refresh): most detections continue the one
    track near them and never need it, and it is the costliest thing the tracker does.
    """

    __slots__ = ("_histogram", "_image", "_taken", "detection", "plausible")

    def __init__(self, detection: Detection, plausible: bool, image: np.ndarray | None) -> None:
        self.detection = detection
        self.plausible = plausible
        self._image = image if detection.label != "motion" else None
        self._histogram: np.ndarray | None = None
        self._taken = False

    @property
    def box(self) -> Box:
        return self.detection.box

    @property
    def image(self) -> np.ndarray | None:
        """The frame the detection came from (None for motion-only blobs, or none given)."""
        return self._image

    @property
    def histogram(self) -> np.ndarray | None:
        if not self._taken:
            self._histogram = colour_histogram(self._image, self.detection.box)
            self._taken = True
        return self._histogram

    @property
    def histogram_taken(self) -> bool:
        return self._taken


@dataclass(slots=True)
class TrackState:
    """See the module docstring.  ``box`` is the last detected box; ``kinematics`` predicts."""

    id: str
    kinematics: Kinematics
    box: Box
    first_seen: float
    last_seen: float
    start_center: tuple[float, float]
    zones: ZonePresence
    evidence: LabelEvidence = field(default_factory=LabelEvidence)
    histogram: np.ndarray | None = None
    appearance_time: float = -1e9
    sightings: int = 0
    life: Life = field(default_factory=Life)
    """Its phase and what its event published (``camera.track.lifecycle``)."""
    max_drift: float = 0.0
    arrived: bool = False
    """Motion remembered from before it was first detected shows it coming to this spot."""
    own_motion: tuple[float, float] | None = None
    """First and last time a motion blob was on the object itself (``camera.track.own_motion``)."""
    content: ContentShift | None = None
    """The picture at its first box, to tell whether it shifts later (``ContentShift``)."""

    @property
    def label(self) -> str:
        return self.evidence.label

    @property
    def confirmed(self) -> bool:
        """Confirmed and not ended (with an event or quiet)."""
        return self.life.confirmed

    @property
    def held(self) -> bool:
        """Confirmed but kept quiet until it moves on its own or scores like a sure thing."""
        return self.life.quiet is Quiet.HELD

    @property
    def own_motion_s(self) -> float:
        """How long motion has been seen on the object itself, first to last."""
        return 0.0 if self.own_motion is None else self.own_motion[1] - self.own_motion[0]

    @property
    def motion_only(self) -> bool:
        return "motion" in self.evidence.votes

    @property
    def stationary(self) -> bool:
        """Never moved by more than half its own size: a sleeping cat, a coat on a chair."""
        size = max(self.box.width, self.box.height, 1.0)
        return self.max_drift <= 0.5 * size

    @property
    def moved_on_its_own(self) -> bool:
        """Displaced by ``OWN_DRIFT`` of its size, or motion seen on it itself: not a still
        thing that something next to it woke the detector for (``camera.track.own_motion``)."""
        size = max(self.box.width, self.box.height, 1.0)
        if self.arrived or self.max_drift >= OWN_DRIFT * size:
            return True
        if self.content is not None and self.content.moved:
            return True
        return self.own_motion_s >= OWN_MOTION_SPAN_S

    def moved_at(self, time: float) -> None:
        """Motion was seen on the object at ``time``."""
        first = time if self.own_motion is None else min(self.own_motion[0], time)
        last = time if self.own_motion is None else max(self.own_motion[1], time)
        self.own_motion = (first, last)

    def observe(self, sighting: Sighting, now: float) -> None:
        box = sighting.box
        self.kinematics.observe(box, now)
        self.box = box
        self.last_seen = max(self.last_seen, now)
        self.sightings += 1
        self.evidence.add(sighting.detection, sighting.plausible)
        if (
            sighting.histogram_taken
            or self.histogram is None
            or now - self.appearance_time >= APPEARANCE_REFRESH_S
        ):
            self.histogram = blend(self.histogram, sighting.histogram, APPEARANCE_WEIGHT)
            self.appearance_time = now
        cx, cy = box.center
        drift = ((cx - self.start_center[0]) ** 2 + (cy - self.start_center[1]) ** 2) ** 0.5
        self.max_drift = max(self.max_drift, drift)
        image = sighting.image
        if image is not None and not self.moved_on_its_own:
            if self.content is None:
                self.content = ContentShift(image, box)
            else:
                self.content.observe(image, now)

    def absorb(self, newer: TrackState) -> None:
        """``newer`` (a track started while this one was hidden) is this object: take it over."""
        self.kinematics = newer.kinematics
        self.box = newer.box
        self.last_seen = max(self.last_seen, newer.last_seen)
        self.sightings += newer.sightings
        self.arrived = self.arrived or newer.arrived
        if newer.content is not None and newer.content.moved:
            self.content = newer.content
        if newer.own_motion is not None:
            self.moved_at(newer.own_motion[0])
            self.moved_at(newer.own_motion[1])
        self.evidence.merge(newer.evidence)
        self.histogram = blend(self.histogram, newer.histogram, 0.5)
        self.zones.merge(newer.zones)
        cx, cy = newer.box.center
        drift = ((cx - self.start_center[0]) ** 2 + (cy - self.start_center[1]) ** 2) ** 0.5
        self.max_drift = max(self.max_drift, drift, newer.max_drift)

    def left_through_edge(self, frame_size: tuple[int, int]) -> bool:
        """It walked out of the picture: last seen touching a border and moving outwards (at
        ``EXIT_SPEED`` or more), or moving fast enough that ``EXIT_LOOKAHEAD_S`` later its centre
        would be outside (a dog running out is last detected a stride before the edge).  A new
        arrival there is then another visit, never this object coming back from behind
        something.  One touching a border without moving out (coming in from it, its box
        growing as more of it comes into view; standing at it) has not left: lost for a moment,
        it is still looked for."""
        touched = borders_touched(self.box, frame_size)
        vx, vy = self.kinematics.velocity
        out = EXIT_SPEED * self.kinematics.size
        if (
            (touched.left and vx <= -out)
            or (touched.right and vx >= out)
            or (touched.top and vy <= -out)
            or (touched.bottom and vy >= out)
        ):
            return True
        return self.ran_out(frame_size)

    def cut_by_border(self, frame_size: tuple[int, int]) -> bool:
        """Its last box touches a border of the picture: only part of it may be in view."""
        return any(borders_touched(self.box, frame_size))

    def ran_out(self, frame_size: tuple[int, int]) -> bool:
        """Moving so that ``EXIT_LOOKAHEAD_S`` after it was last seen its centre is outside the
        picture (a person standing still at the edge has not)."""
        width, height = frame_size
        cx, cy = self.kinematics.predict(self.last_seen + EXIT_LOOKAHEAD_S).box.center
        return not (0.0 <= cx <= width and 0.0 <= cy <= height)
