"""At start: end the events an earlier process left open (a crash, a watchdog kill, a power cut).

A clean stop ends every open event (``end_reason: "shutdown"``).  A process that dies without
one leaves its open events in the store with no ``end``, and every subscriber with a ``start``
that never finishes: a phone waiting for the visit to end, a Home Assistant automation waiting
for ``OFF``.  So the next start publishes each one's ``end`` with ``"end_reason": "restart"``
through the same sinks as any other update (the durable outbox first, then the store), before
the first frame.

What the store knows is all there is: the event's ``end_time`` is the last time it was stored
as seen (its last update), not the moment of the crash, which nobody recorded.  The clip the
recorder salvaged from the dead process's ``.part.ts`` (``camera.record.recovery``, which runs
first) is the event's clip, with its final duration and size.  The retained per-label ``OFF``
and the zone counts are reset by the alert sink and the runtime whatever was open.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from camera.events import EventAssembler, EventUpdate, clip_url
from camera.pipeline.sinks import EventSink
from camera.store import EventStore, StoredEvent
from camera.track import EndReason, TrackEvent
from camera.types import Box

log = logging.getLogger(__name__)

RESTART: EndReason = "restart"


def end_interrupted(
    store: EventStore,
    sinks: Iterable[EventSink],
    *,
    topic_prefix: str,
    camera_name: str,
    precision: str,
    public_url: str | None = None,
) -> list[EventUpdate]:
    """Publish an ``end`` for every event left open; returns the updates sent."""
    ended = [
        _end_update(event, store, topic_prefix, camera_name, precision, public_url)
        for event in store.open_events()
    ]
    targets = list(sinks)
    for update in ended:
        for sink in targets:
            sink.emit(update, None)
    if ended:
        log.warning(
            "ended %d event(s) left open by the last run, which did not stop cleanly "
            "(crash, watchdog or power cut): %s",
            len(ended),
            ", ".join(f"{u.id} ({u.label})" for u in ended),
        )
    return ended


def _end_update(
    event: StoredEvent,
    store: EventStore,
    topic_prefix: str,
    camera_name: str,
    precision: str,
    public_url: str | None,
) -> EventUpdate:
    """The ``restart`` end, assembled like any other update from the tracker event it would
    have been: the last stored update's time and sequence, the store's clip."""
    updates = store.updates(event.id)
    last_time = updates[-1].frame_time if updates else event.start_time
    # Wall-clock time of the last stored update: frame times are epoch seconds live and seconds
    # into the recording in a replay; the moment each update was stored maps both to the wall.
    stored_at = updates[-1].recorded_at if updates else event.recorded_at
    to_wall = stored_at - last_time
    ended = TrackEvent(
        kind="end",
        track_id=event.id,
        label=event.label,
        subclass=event.subclass,
        score=event.score,
        box=Box(*event.box),
        frame_time=last_time,
        start_time=event.start_time,
        end_time=last_time,
        snapshot=False,
        alert=event.alerted,
        zones=tuple(event.zones),
        end_reason=RESTART,
    )
    assembler = EventAssembler(event.camera, camera_name, topic_prefix)
    update = assembler.assemble(
        ended,
        sequence=(updates[-1].sequence if updates else 0) + 1,
        precision=precision,
        source=event.source,
        wall=lambda frame_time: frame_time + to_wall,
    )
    clip = store.clips.for_event(event.id)
    if clip is None:
        return update
    return replace(update, clip=replace(clip, url=clip_url(public_url, event.id)))
