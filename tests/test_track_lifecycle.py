"""A track's life (``camera.track.lifecycle``): every transition, and the events each emits.

The lifecycle asks the tracker what it knows about the world through ``Context``; here a fake
context answers, so each transition is driven by exactly the fact that causes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from camera.track import Phase, TrackerConfig
from camera.track.kinematics import Kinematics
from camera.track.lifecycle import Quiet, advance
from camera.track.state import Sighting, TrackState
from camera.track.zones import ZonePresence
from camera.types import Box, Detection

BOX = Box(100, 100, 160, 260)


@dataclass
class World:
    """A ``Context`` whose answers the test sets."""

    confirm: bool = True
    moved: bool = True
    resting: bool = False
    due: bool = True
    config: TrackerConfig = field(default_factory=TrackerConfig)
    ids: int = 0

    def new_id(self) -> str:
        self.ids += 1
        return f"run-{self.ids:04d}"

    def confirmable(self, track: TrackState) -> bool:
        return self.confirm

    def proven(self, track: TrackState) -> bool:
        return self.moved

    def resting_here(self, track: TrackState, now: float) -> bool:
        return self.resting

    def alert_due(self, track: TrackState) -> bool:
        return self.due


def seen(track: TrackState, now: float, score: float = 0.7, label: str = "person", dx=0.0):
    box = Box(BOX.x1 + dx, BOX.y1, BOX.x2 + dx, BOX.y2)
    track.observe(Sighting(Detection(label, label, score, box), True, None), now)
    return track


def new_track() -> TrackState:
    return seen(
        TrackState("", Kinematics(BOX, 0.0), BOX, 0.0, 0.0, BOX.center, ZonePresence(2)), 0.0
    )


def kinds(events) -> list[tuple[str, bool]]:
    return [(e.kind, e.alert) for e in events]


def test_tentative_until_confirmable_then_alerted_with_a_start() -> None:
    world, track = World(confirm=False), new_track()
    assert advance(track, 0.1, world) == []
    assert track.life.phase is Phase.TENTATIVE and not track.confirmed and track.id == ""
    world.confirm = True
    events = advance(seen(track, 0.2), 0.2, world)
    assert kinds(events) == [("start", True)] and events[0].snapshot
    assert track.life.phase is Phase.ALERTED and track.id == "run-0001"
    assert track.life.event_open


def test_stored_until_its_alert_is_due_then_a_second_start_that_alerts() -> None:
    world, track = World(due=False), new_track()
    assert kinds(advance(track, 0.2, world)) == [("start", False)]
    assert track.life.phase is Phase.CONFIRMED and track.life.event_open
    assert advance(seen(track, 0.3), 0.3, world) == []
    world.due = True
    assert kinds(advance(seen(track, 0.4), 0.4, world)) == [("start", True)]
    assert track.life.phase is Phase.ALERTED


def test_held_still_thing_has_no_event_until_it_moves_on_its_own() -> None:
    world, track = World(moved=False), new_track()
    assert advance(track, 0.2, world) == []
    assert track.life.phase is Phase.CONFIRMED and track.life.quiet is Quiet.HELD
    assert track.held and track.confirmed and not track.life.event_open
    assert advance(seen(track, 1.0), 1.0, world) == []
    world.moved = True
    events = advance(seen(track, 1.1), 1.1, world)
    assert kinds(events) == [("start", True)]
    assert track.life.quiet is None and not track.held
    # a held track that never moved ends without any event
    other = new_track()
    advance(other, 0.2, World(moved=False))
    assert advance(other, 5.0, World(), end="gone") == []
    assert other.life.phase is Phase.ENDED


def test_silent_resting_object_stays_quiet_until_it_gets_up_and_moves() -> None:
    world, track = World(resting=True, due=False), new_track()
    assert advance(track, 0.2, world) == []
    assert track.life.quiet is Quiet.SILENT
    assert advance(seen(track, 0.5, dx=5), 0.5, world) == []  # still where it rested
    events = advance(seen(track, 0.8, dx=120), 0.8, world)  # up and away: news
    assert kinds(events) == [("start", False)]  # stored: its alert zone is not entered
    assert track.life.phase is Phase.CONFIRMED and track.life.quiet is None


def test_updates_for_label_change_zone_entry_and_a_clearly_better_snapshot() -> None:
    config = TrackerConfig(update_min_gain=0.1, update_min_interval_s=1.0)
    world, track = World(config=config), new_track()
    advance(track, 0.2, world)
    assert advance(seen(track, 0.3), 0.3, world, entered=True)[0].snapshot is False
    assert advance(seen(track, 0.5, score=0.95), 0.5, world) == []  # too soon after the start
    better = advance(seen(track, 1.3, score=0.95), 1.3, world)
    assert [(e.kind, e.snapshot) for e in better] == [("update", True)]
    for t in range(20):  # the votes swing to "pet"
        seen(track, 1.4 + t / 10, score=0.9, label="pet")
    relabelled = advance(track, 3.4, world)
    assert [(e.kind, e.label) for e in relabelled] == [("update", "pet")]


@pytest.mark.parametrize("due", [True, False])
def test_an_open_event_ends_once_with_its_times(due: bool) -> None:
    world, track = World(due=due), new_track()
    advance(seen(track, 0.5), 0.5, world)
    ended = advance(track, 4.5, world, end="gone")
    assert [(e.kind, e.alert, e.end_reason) for e in ended] == [("end", due, "gone")]
    assert (ended[0].end_time, ended[0].frame_time, ended[0].start_time) == (0.5, 4.5, 0.0)
    assert track.life.phase is Phase.ENDED and not track.confirmed
    assert advance(seen(track, 5.0), 5.0, world) == []
    assert advance(track, 6.0, world, end="stream_end") == []
