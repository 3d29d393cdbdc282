"""What a consumer cannot know from one event alone: how long the label had been away.

A notifier's cooldown ("no second push for a person at the porch within 5 minutes") needs memory,
and the simplest consumers have none: a Home Assistant blueprint cannot keep state per camera and
label without helpers the owner would have to create, and an MQTT phone app keeps none at all.
So every event carries ``label_idle_s``: the seconds between the last sighting of *another* object
with the same label on this camera and this event's start; 0 when such an object was still in
view; ``null`` when none was seen since Ronda started.  A cooldown is then one comparison
(``label_idle_s >= cooldown``), the same for the start and every later update of the event, and
it survives a restart of the consumer.

The value is fixed when the event is first published with its label and repeated on its later
updates; an update that changes the label (a "pet" that turns out to be a person) gets the value of
its new label, and ``previous_label`` says what it was announced as.  Times are wall-clock
(``EventClock``), so events of consecutive replayed files compare like live ones.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LabelFacts:
    """The history-dependent fields of one event update."""

    label_idle_s: float | None
    previous_label: str | None


@dataclass(slots=True)
class _Announced:
    label: str
    idle_s: float | None


class LabelHistory:
    """Remembers, per label, the open events and when the last ended one was last seen."""

    def __init__(self) -> None:
        self._open: dict[str, _Announced] = {}
        self._last_seen: dict[str, float] = {}  # label -> wall time of the last ended sighting

    def observe(
        self, event_id: str, kind: str, label: str, start_wall: float, end_wall: float | None
    ) -> LabelFacts:
        """Facts for this update, then remember it (call once per update, in order)."""
        known = self._open.get(event_id)
        previous = known.label if known is not None and known.label != label else None
        if known is None or previous is not None:
            known = _Announced(label, self._idle_before(event_id, label, start_wall))
            self._open[event_id] = known
        facts = LabelFacts(label_idle_s=known.idle_s, previous_label=previous)
        if kind == "end":
            del self._open[event_id]
            seen = start_wall if end_wall is None else end_wall
            self._last_seen[label] = max(seen, self._last_seen.get(label, seen))
        return facts

    def _idle_before(self, event_id: str, label: str, start_wall: float) -> float | None:
        if any(other != event_id and a.label == label for other, a in self._open.items()):
            return 0.0
        last = self._last_seen.get(label)
        return None if last is None else round(max(0.0, start_wall - last), 1)
