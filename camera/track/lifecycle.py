"""A track's life as one explicit phase, and the one function that moves it on: ``advance``.

::

    TENTATIVE ──confirmed──▶ CONFIRMED ──its alert is due──▶ ALERTED
        │                       │  quiet (HELD, SILENT): no event yet  │
        │ (forgotten, merged)   └────────── gone, stream end ──────────┴──▶ ENDED

* **tentative**: seen, not yet ``confirm_frames`` detections of its label at a median score of
  the label's threshold.  No event.  A tentative track that never confirms is forgotten by the
  tracker; one that turns out to be a hidden track coming back is merged into it (association,
  the tracker's business), and never gets an event of its own.
* **confirmed**: its event is open and stored, but not announced: the object has not entered
  one of its label's ``alert_zones`` yet.  Confirmed *quiet* is a confirmed object with no event
  at all, for one of two reasons:

  - ``HELD``: a still thing (``camera.track.own_motion``): it never moved on its own; its event
    starts as soon as it does, or once its median score reaches the label's ``still_threshold``;
  - ``SILENT``: a stationary object back where one of its label rested and ended a moment ago (a
    sleeping cat flickering in and out); its event starts if it gets up and moves.
* **alerted**: its event is open and announced (``TrackEvent.alert``).
* **ended**: its ``end`` was emitted (when it had an event): gone for ``end_after_s``, or the
  stream ended.

Every ``TrackEvent`` is made here, by ``advance``: ``start`` when an event opens (again with
``alert=True`` when a stored event becomes an alert), ``update`` for a label change, a new
zone or a clearly better snapshot, ``end``.  What the lifecycle needs to know about the world
(enough evidence, own motion, a resting object here, alert zones) it asks the tracker through
``Context``; association, kinematics and the memory of resting objects stay in the tracker, as
Norfair keeps its ``Tracker.update`` free of event rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from camera.track.life import Life, Phase, Quiet
from camera.types import Box

if TYPE_CHECKING:
    from camera.track.config import TrackerConfig
    from camera.track.state import TrackState

__all__ = ["Context", "EndReason", "Life", "Phase", "Quiet", "TrackEvent", "advance"]

log = logging.getLogger(__name__)

EventKind = Literal["start", "update", "end"]
EndReason = Literal["gone", "stream_end", "shutdown", "restart", "privacy"]
"""Why an event ended (its ``end`` update's ``end_reason``): ``gone``, not seen for
``end_after_s``; ``stream_end``, its recording or camera stream ended; ``shutdown``, Ronda was
stopped; ``restart``, a process that did not stop cleanly (a crash, a watchdog kill, a power cut)
left it open and the next start ended it (``camera.pipeline.interrupted``); ``privacy``, the owner
turned privacy mode on (docs/controls.md)."""


@dataclass(frozen=True, slots=True)
class TrackEvent:
    """A change in an object's life that becomes an event update.

    ``snapshot`` is True when the current frame shows the object at its best so far: the caller
    renders the thumbnail from that frame.  ``alert`` is False while the event is only stored
    (its object has not entered any of its label's ``alert_zones`` yet); ``zones`` are the zones
    it entered, in order.
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
    alert: bool = True
    zones: tuple[str, ...] = ()
    end_reason: EndReason | None = None
    """Set on ``end`` only."""


class Context(Protocol):
    """What ``advance`` asks of the tracker about one track (the world outside its life)."""

    @property
    def config(self) -> TrackerConfig: ...

    def new_id(self) -> str:
        """The id of a newly confirmed track's event."""
        ...

    def confirmable(self, track: TrackState) -> bool:
        """Enough detections of its label, at a median score of the label's threshold."""
        ...

    def proven(self, track: TrackState) -> bool:
        """It may be news: it moved on its own, or it scores like a sure thing."""
        ...

    def resting_here(self, track: TrackState, now: float) -> bool:
        """It is a stationary object of its label that ended here a moment ago."""
        ...

    def alert_due(self, track: TrackState) -> bool:
        """Its label alerts anywhere, or it entered one of its label's alert zones."""
        ...


def advance(
    track: TrackState,
    now: float,
    context: Context,
    *,
    entered: bool = False,
    end: EndReason | None = None,
) -> list[TrackEvent]:
    """Move ``track`` on after it was seen at ``now`` (``entered``: it entered a zone with this
    detection), or end it (``end``); return the events that this emits."""
    life = track.life
    if end is not None:
        return _end(track, now, end)
    if life.phase is Phase.TENTATIVE:
        return _confirm(track, now, context)
    if life.phase is Phase.ENDED:
        return []
    if life.quiet is Quiet.HELD:
        if not context.proven(track):
            return []
        log.info(
            "%s %s moved on its own (drift %.0f px, motion on it for %.1f s): now it is news",
            track.label,
            track.id,
            track.max_drift,
            track.own_motion_s,
        )
        return _open(track, now, context)
    if life.quiet is Quiet.SILENT:
        return [] if track.stationary else _open(track, now, context)
    if life.phase is Phase.CONFIRMED and context.alert_due(track):
        life.phase = Phase.ALERTED
        return [_emit("start", track, now, snapshot=True)]
    if track.label != life.published_label:
        return [_emit("update", track, now, snapshot=True)]
    if entered:
        return [_emit("update", track, now, snapshot=False)]
    config = context.config
    better = track.evidence.last_score() >= life.snapshot_score + config.update_min_gain
    if better and now - life.last_update >= config.update_min_interval_s:
        return [_emit("update", track, now, snapshot=True)]
    return []


def _confirm(track: TrackState, now: float, context: Context) -> list[TrackEvent]:
    if not context.confirmable(track):
        return []
    life = track.life
    track.id = context.new_id()
    life.phase = Phase.CONFIRMED
    life.confirmed_at = now
    if context.resting_here(track, now):
        life.quiet = Quiet.SILENT
        log.info("%s %s is back where it rested: not re-alerting", track.label, track.id)
        return []
    if not context.proven(track):
        life.quiet = Quiet.HELD
        log.info(
            "%s %s has not moved on its own (median %.2f, first seen %.1f s ago, drift %.0f"
            " px, motion on it for %.1f s): held",
            track.label,
            track.id,
            track.evidence.median_score(),
            now - track.first_seen,
            track.max_drift,
            track.own_motion_s,
        )
        return []
    return _open(track, now, context)


def _open(track: TrackState, now: float, context: Context) -> list[TrackEvent]:
    """Start the event of a confirmed track: announced at once if its alert is due."""
    life = track.life
    life.quiet = None
    life.phase = Phase.ALERTED if context.alert_due(track) else Phase.CONFIRMED
    return [_emit("start", track, now, snapshot=True)]


def _end(track: TrackState, now: float, reason: EndReason) -> list[TrackEvent]:
    """``frame_time`` is when the end was decided; ``end_time`` when it was last seen."""
    life = track.life
    had_event = life.event_open
    events = [_emit("end", track, now, snapshot=False, ended=reason)] if had_event else []
    life.phase = Phase.ENDED
    return events


def _emit(
    kind: EventKind,
    track: TrackState,
    now: float,
    *,
    snapshot: bool,
    ended: EndReason | None = None,
) -> TrackEvent:
    life = track.life
    if snapshot:
        life.snapshot_score = track.evidence.last_score()
        life.last_update = now
    life.published_label = track.label
    return TrackEvent(
        kind=kind,
        track_id=track.id,
        label=track.label,
        subclass=track.evidence.subclass,
        score=round(track.evidence.median_score(), 3),
        box=track.box,
        frame_time=now,
        start_time=track.first_seen,
        end_time=track.last_seen if ended is not None else None,
        snapshot=snapshot,
        alert=life.phase is Phase.ALERTED,
        zones=tuple(track.zones.entered),
        end_reason=ended,
    )
