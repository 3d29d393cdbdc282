"""The one place an event update is assembled, from a live track or from a stored event.

Every update a subscriber, the store and the JSON-lines file receive is made by
``EventAssembler.assemble`` from a tracker event (``TrackEvent``): the frame loop's starts,
updates and ends, and the ``restart`` end the next process publishes for an event a crash left
open (``camera.pipeline.interrupted``, which rebuilds the tracker event from the store).  So the
rules that are the same for both live here once: where the event's thumbnail is published, which
model precision a motion-only event names, how times are rounded and put on the wall clock.

``EventPublisher`` is the live side's memory: it numbers each event's updates and keeps the
per-label history behind ``label_idle_s`` (``camera.events.history``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from camera.events.clock import EventClock, local_iso
from camera.events.history import LabelFacts, LabelHistory
from camera.events.model import EventUpdate
from camera.track import TrackEvent

MOTION = "motion"
"""The label of a motion-only event (the detector paused): it names no model precision."""
NO_FACTS = LabelFacts(label_idle_s=None, previous_label=None)
"""For an update made without the live history (the end of an event a crash left open)."""


def thumbnail_topic(topic_prefix: str, event_id: str) -> str:
    """Where an event's thumbnail is published (also announced in every update)."""
    return f"{topic_prefix}/events/{event_id}/thumbnail"


@dataclass(frozen=True, slots=True)
class EventAssembler:
    """Who publishes (the camera's id, display name, topic prefix) and the payload's rules."""

    camera: str
    camera_name: str
    topic_prefix: str

    def assemble(
        self,
        change: TrackEvent,
        *,
        sequence: int,
        precision: str,
        source: str,
        wall: Callable[[float], float],
        facts: LabelFacts = NO_FACTS,
        has_thumbnail: bool = False,
        suppressed_by: str | None = None,
    ) -> EventUpdate:
        """The update for ``change``, its ``sequence``-th.  ``wall`` maps a frame time to epoch
        seconds (``EventClock.wall`` live; the store's record of when it was seen after a crash)."""
        motion_only = change.label == MOTION
        return EventUpdate(
            id=change.track_id,
            camera=self.camera,
            type=change.kind,
            label=change.label,
            subclass=change.subclass,
            score=change.score,
            box=change.box.as_list(),
            frame_time=round(change.frame_time, 3),
            start_time=round(change.start_time, 3),
            end_time=None if change.end_time is None else round(change.end_time, 3),
            thumbnail_topic=thumbnail_topic(self.topic_prefix, change.track_id),
            has_thumbnail=has_thumbnail,
            model_precision="none" if motion_only else precision,
            motion_only=motion_only,
            source=source,
            sequence=sequence,
            camera_name=self.camera_name,
            start_local=local_iso(wall(change.start_time)),
            end_local=None if change.end_time is None else local_iso(wall(change.end_time)),
            label_idle_s=facts.label_idle_s,
            previous_label=facts.previous_label,
            zones=list(change.zones),
            end_reason=change.end_reason,
            suppressed_by=suppressed_by,
            alert=change.alert,
        )


class EventPublisher:
    """The frame loop's events: numbered per event, with the label history, on its clock."""

    def __init__(self, assembler: EventAssembler) -> None:
        self.assembler = assembler
        self.clock = EventClock()
        self._sequence: dict[str, int] = {}
        self._history = LabelHistory()

    def update(
        self,
        change: TrackEvent,
        *,
        precision: str,
        source: str,
        has_thumbnail: bool,
        suppressed_by: str | None = None,
    ) -> EventUpdate:
        """The next update of ``change``'s event (call once per tracker event, in order)."""
        sequence = self._sequence.get(change.track_id, 0) + 1
        self._sequence[change.track_id] = sequence
        if change.kind == "end":
            self._sequence.pop(change.track_id, None)
        wall = self.clock.wall
        facts = self._history.observe(
            change.track_id,
            change.kind,
            change.label,
            wall(change.start_time),
            None if change.end_time is None else wall(change.end_time),
        )
        return self.assembler.assemble(
            change,
            sequence=sequence,
            precision=precision,
            source=source,
            wall=wall,
            facts=facts,
            has_thumbnail=has_thumbnail,
            suppressed_by=suppressed_by,
        )
