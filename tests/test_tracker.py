"""Tracker: confirmation, median score, updates, ends, stationary objects, motion-only."""

from __future__ import annotations

from camera.track import Tracker, TrackerConfig
from camera.types import Box, Detection

FRAME = (640, 480)


def person(x: float, score: float = 0.8, label: str = "person") -> Detection:
    """A person-shaped box at ``x`` (or, with ``label="pet"``, a cat-shaped one)."""
    if label == "person":
        return Detection(label=label, subclass="person", score=score, box=Box(x, 100, x + 60, 260))
    return Detection(label=label, subclass="cat", score=score, box=Box(x, 200, x + 80, 260))


def run(tracker: Tracker, frames: list[list[Detection]], fps: float = 10.0, t0: float = 0.0):
    events = []
    for i, detections in enumerate(frames):
        events += tracker.update(detections, t0 + i / fps)
    return events


def test_start_needs_confirming_frames_and_end_after_timeout() -> None:
    tracker = Tracker(TrackerConfig(confirm_frames=3, end_after_s=2.0), FRAME)
    events = run(tracker, [[person(100 + 5 * i)] for i in range(10)])
    assert [e.kind for e in events] == ["start"]
    assert events[0].frame_time == 0.2  # the third detection confirms
    assert events[0].snapshot
    # gone: nothing for 1.9 s, then the end at 2 s after the last sighting (t=0.9)
    assert tracker.update([], 2.8) == []
    ended = tracker.update([], 2.9)
    assert [e.kind for e in ended] == ["end"]
    assert ended[0].end_time == 0.9
    assert ended[0].frame_time == 2.9  # decided now, last seen then
    assert ended[0].track_id == events[0].track_id


def test_one_frame_false_positive_never_alerts() -> None:
    tracker = Tracker(TrackerConfig(confirm_frames=3), FRAME)
    frames = [[person(100)], [], [], [person(400)], [], []] + [[] for _ in range(60)]
    assert run(tracker, frames) == []


def test_low_median_score_does_not_start() -> None:
    tracker = Tracker(TrackerConfig(), FRAME)
    events = run(tracker, [[person(100, score=0.35)] for _ in range(20)])
    assert events == []


def test_score_is_the_median_over_the_track() -> None:
    tracker = Tracker(TrackerConfig(confirm_frames=3), FRAME)
    scores = [0.9, 0.6, 0.7]
    events = run(tracker, [[person(100, s)] for s in scores])
    assert events[0].score == 0.7


def test_better_snapshot_and_label_change_give_updates() -> None:
    config = TrackerConfig(confirm_frames=3, update_min_gain=0.1, update_min_interval_s=1.0)
    tracker = Tracker(config, FRAME)
    frames = [[person(100, 0.6)] for _ in range(3)]
    frames += [[person(100, 0.65)]] * 10  # not clearly better
    frames += [[person(100, 0.95)]]  # clearly better, 1.3 s later
    events = run(tracker, frames)
    assert [e.kind for e in events] == ["start", "update"]
    assert events[1].snapshot


def test_min_area_filters_specks() -> None:
    tracker = Tracker(TrackerConfig(), FRAME)
    tiny = Detection("person", "person", 0.9, Box(10, 10, 14, 14))
    assert run(tracker, [[tiny]] * 10) == []


def test_two_objects_get_two_events() -> None:
    tracker = Tracker(TrackerConfig(), FRAME)
    events = run(tracker, [[person(50), person(400, label="pet")] for _ in range(5)])
    assert sorted(e.label for e in events) == ["person", "pet"]
    assert len({e.track_id for e in events}) == 2


def test_stationary_object_does_not_realert() -> None:
    config = TrackerConfig(end_after_s=1.0, stationary_memory_s=60)
    tracker = Tracker(config, FRAME)
    cat = [[person(300, label="pet")] for _ in range(5)]
    first = run(tracker, cat, t0=0.0)
    first += tracker.update([], 5.0)
    assert [e.kind for e in first] == ["start", "end"]
    # the same cat, same place, seen again a little later: no new alert
    again = run(tracker, cat, t0=10.0) + tracker.update([], 20.0)
    assert again == []
    # after the memory has passed, it is news again
    later = run(tracker, cat, t0=100.0)
    assert [e.kind for e in later] == ["start"]


def test_motion_blobs_never_join_a_person_track() -> None:
    tracker = Tracker(TrackerConfig(), FRAME)
    events = run(tracker, [[person(100)] for _ in range(4)])
    blob = Detection("motion", "motion", 1.0, Box(100, 100, 160, 260))
    events += run(tracker, [[blob] for _ in range(4)], t0=0.5)
    labels = {(e.kind, e.label) for e in events}
    assert ("start", "person") in labels and ("start", "motion") in labels
    assert not any(e.kind == "update" for e in events)


def test_finish_ends_open_events() -> None:
    tracker = Tracker(TrackerConfig(), FRAME)
    run(tracker, [[person(100)] for _ in range(5)])
    ended = tracker.finish()
    assert [e.kind for e in ended] == ["end"]
    assert tracker.open_events() == 0


def test_new_arrival_where_another_object_left_is_a_new_event() -> None:
    tracker = Tracker(TrackerConfig(end_after_s=4.0), FRAME)
    leaving = [[person(500 + 10 * i)] for i in range(8)]  # walks out at the right edge
    cat_at_edge = [[person(540 - 10 * i, score=0.7, label="pet")] for i in range(8)]
    events = run(tracker, leaving) + run(tracker, cat_at_edge, t0=2.5)
    assert [(e.kind, e.label) for e in events if e.kind == "start"] == [
        ("start", "person"),
        ("start", "pet"),
    ]
