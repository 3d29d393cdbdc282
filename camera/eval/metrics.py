"""Score one replay against its labelled visits: what an owner would have been told, and when.

Only *alerts* count (events that reached MQTT; with ``alert_zones``, an event stored without an
alert is what the owner asked for, not a miss).  An alert *matches* a visit of its own label
when its event's time span overlaps the visit's, widened by ``tolerance_s`` on each side
(labelled boundaries are approximate: a head at the edge of the picture, a tail).  Each alert
goes to the visit it overlaps most among those not alerted yet (several people in view at once
are several visits), else to the one it overlaps most.  Then, per clip:

* **precision**: share of alerts that match a visit (the rest are false alarms or confusions);
* **recall**: share of visits with at least one matching alert;
* **alerts per visit**: matching alerts per visit that has any (1.0 is "one visit, one alert";
  more is fragmentation);
* **confusions**: alerts that overlap only visits of *another* label (a person alerted as a
  pet), and **false alarms**: alerts that overlap no visit at all;
* **time to alert**: from a visit's first labelled frame to its first matching alert;
* **still things alerted**: alerts whose box (where the object was when it alerted) lies on a
  labelled still thing (``STILL_IOU``): a statue alerted while someone walked past is a false
  alarm, not that walker's visit.  Counted in false alarms too.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

STILL_IOU = 0.3
"""An alert box overlapping a still thing's box this much (and centred on it) is that thing:
boxes of one object from two detections differ, boxes of a walker passing it overlap little."""


@dataclass(frozen=True, slots=True)
class Span:
    """A labelled visit in seconds of the recording (``end`` exclusive)."""

    label: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class AlertedEvent:
    """One event as the replay produced it: its span and when (if ever) it alerted."""

    id: str
    label: str
    subclass: str
    start: float
    end: float
    alert_time: float | None
    zones: tuple[str, ...] = ()
    thumbnail: bytes | None = None
    box: tuple[float, float, float, float] | None = None
    """Where the object was when it alerted (frame pixels)."""

    @property
    def alerted(self) -> bool:
        return self.alert_time is not None


@dataclass
class ClipScore:
    """The numbers of one clip (and, summed, of the whole manifest)."""

    visits: int = 0
    alerts: int = 0
    stored_only: int = 0
    matched_alerts: int = 0
    visits_found: int = 0
    alerts_on_found_visits: int = 0
    false_alarms: int = 0
    still_alerts: int = 0
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    """``(labelled, alerted) -> count``, ``labelled`` being ``"nothing"`` for false alarms and
    ``"still"`` for alerts on a still thing."""
    times_to_alert: list[float] = field(default_factory=list)
    max_alerts_per_visit: int = 0

    @property
    def precision(self) -> float | None:
        return self.matched_alerts / self.alerts if self.alerts else None

    @property
    def recall(self) -> float | None:
        return self.visits_found / self.visits if self.visits else None

    @property
    def alerts_per_visit(self) -> float | None:
        return self.alerts_on_found_visits / self.visits_found if self.visits_found else None

    @property
    def median_time_to_alert(self) -> float | None:
        return statistics.median(self.times_to_alert) if self.times_to_alert else None

    @property
    def confusion_count(self) -> int:
        return sum(
            n for (truth, _), n in self.confusions.items() if truth not in ("nothing", "still")
        )

    def add(self, other: ClipScore) -> None:
        """Sum ``other`` into this one (the overall row)."""
        self.visits += other.visits
        self.alerts += other.alerts
        self.stored_only += other.stored_only
        self.matched_alerts += other.matched_alerts
        self.visits_found += other.visits_found
        self.alerts_on_found_visits += other.alerts_on_found_visits
        self.false_alarms += other.false_alarms
        self.still_alerts += other.still_alerts
        self.confusions.update(other.confusions)
        self.times_to_alert.extend(other.times_to_alert)
        self.max_alerts_per_visit = max(self.max_alerts_per_visit, other.max_alerts_per_visit)


@dataclass(frozen=True, slots=True)
class Match:
    """Which visit (index into the clip's visits) each alert went to, if any."""

    event: AlertedEvent
    visit: int | None


def _overlap(event: AlertedEvent, visit: Span, tolerance_s: float) -> float:
    start = max(event.start, visit.start - tolerance_s)
    end = min(event.end, visit.end + tolerance_s)
    if end > start:
        return end - start
    # An instant event (start == end) inside the widened visit still overlaps it.
    return 1e-9 if visit.start - tolerance_s <= event.start <= visit.end + tolerance_s else 0.0


def _on_still(event: AlertedEvent, still: Sequence[tuple[float, float, float, float]]) -> bool:
    if event.box is None:
        return False
    x1, y1, x2, y2 = event.box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    for sx1, sy1, sx2, sy2 in still:
        if not (sx1 <= cx <= sx2 and sy1 <= cy <= sy2):
            continue
        w, h = min(x2, sx2) - max(x1, sx1), min(y2, sy2) - max(y1, sy1)
        inter = w * h if w > 0 and h > 0 else 0.0
        union = (x2 - x1) * (y2 - y1) + (sx2 - sx1) * (sy2 - sy1) - inter
        if union > 0 and inter / union >= STILL_IOU:
            return True
    return False


def score_clip(
    visits: list[Span],
    events: list[AlertedEvent],
    tolerance_s: float,
    still: Sequence[tuple[float, float, float, float]] = (),
) -> tuple[ClipScore, list[Match]]:
    """The clip's score and each alert's match; see the module docstring."""
    score = ClipScore(visits=len(visits))
    matches: list[Match] = []
    per_visit: Counter[int] = Counter()
    first_alert: dict[int, float] = {}
    for event in events:
        if not event.alerted:
            score.stored_only += 1
            continue
        score.alerts += 1
        if _on_still(event, still):
            score.still_alerts += 1
            score.false_alarms += 1
            score.confusions[("still", event.label)] += 1
            matches.append(Match(event, None))
            continue
        overlaps = [(_overlap(event, v, tolerance_s), i) for i, v in enumerate(visits)]
        own = [(o, i) for o, i in overlaps if o > 0 and visits[i].label == event.label]
        if own:
            # A visit still without an alert first: two people in view at once are two visits,
            # and each of their alerts is one of them, not a second alert for the first.
            _, index = max(own, key=lambda pair: (pair[1] not in per_visit, pair[0]))
            score.matched_alerts += 1
            per_visit[index] += 1
            alert_time = event.alert_time if event.alert_time is not None else event.start
            first_alert[index] = min(first_alert.get(index, alert_time), alert_time)
            matches.append(Match(event, index))
            continue
        others = [(o, i) for o, i in overlaps if o > 0]
        if others:
            _, index = max(others)
            score.confusions[(visits[index].label, event.label)] += 1
        else:
            score.false_alarms += 1
            score.confusions[("nothing", event.label)] += 1
        matches.append(Match(event, None))
    score.visits_found = len(per_visit)
    score.alerts_on_found_visits = sum(per_visit.values())
    score.max_alerts_per_visit = max(per_visit.values(), default=0)
    score.times_to_alert = [max(0.0, first_alert[i] - visits[i].start) for i in sorted(first_alert)]
    return score, matches
