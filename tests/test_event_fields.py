"""The event fields a consumer needs to word an alert without another lookup: the camera's
display name, local wall-clock times (live and in a replay), and the label history behind a
cooldown (``label_idle_s``, ``previous_label``)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from camera.app import RunOptions, Runtime, replay_files
from camera.config import ConfigError, default_display_name, parse_config
from camera.events import EventUpdate
from camera.events.clock import EventClock
from camera.events.history import LabelHistory
from camera.sources import FrameSource, open_replay

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


@pytest.fixture
def kathmandu() -> Iterator[None]:
    """A zone with an unusual offset (+05:45), so a wrong offset cannot pass by luck."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "Asia/Kathmandu")
        time.tzset()
        yield
    time.tzset()


def test_display_name_defaults_to_the_name_as_words() -> None:
    assert default_display_name("front_door") == "front door"
    assert default_display_name("garage-left") == "garage left"
    assert parse_config({"camera": {"name": "front_door"}}).camera.shown_name == "front door"
    named = parse_config({"camera": {"name": "cam1", "display_name": "Porte d'entrée"}})
    assert named.camera.shown_name == "Porte d'entrée"


@pytest.mark.parametrize("bad", ["", "two\nlines", "x" * 65])
def test_display_name_must_be_one_short_line(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"camera\.display_name"):
        parse_config({"camera": {"display_name": bad}})


def test_live_times_are_local_with_the_offset(kathmandu: None) -> None:
    clock = EventClock()
    clock.begin_stream(live=True)
    stamp = datetime(2024, 1, 5, 15, 19, 3).astimezone().timestamp()  # 15:19:03 in Kathmandu
    clock.observe(stamp)
    assert clock.local_iso(stamp) == "2024-01-05T15:19:03+05:45"
    assert clock.wall(stamp) == stamp


def test_replay_times_are_anchored_when_the_first_frame_is_read(kathmandu: None) -> None:
    clock = EventClock()
    clock.begin_stream(live=False)
    before = time.time()
    clock.observe(0.0)
    after = time.time()
    assert before + 6.2 <= clock.wall(6.2) <= after + 6.2
    local = datetime.fromisoformat(clock.local_iso(6.2))
    assert local.utcoffset() is not None and local.utcoffset().total_seconds() == 5.75 * 3600
    assert before + 5.2 <= local.timestamp() <= after + 7.2  # to the second
    clock.observe(6.2)
    end_of_first = clock.wall(6.2)
    clock.begin_stream(live=False)  # the next file plays after the first, never before its end
    clock.observe(0.0)
    assert end_of_first <= clock.wall(0.0) <= max(time.time(), end_of_first)


def test_idle_counts_from_the_last_sighting_of_another_object_with_the_label() -> None:
    history = LabelHistory()
    first = history.observe("a", "start", "person", 100.0, None)
    assert first.label_idle_s is None and first.previous_label is None  # none seen before
    assert history.observe("a", "update", "person", 100.0, None).label_idle_s is None
    # A second person while the first is still in view: idle 0.
    assert history.observe("b", "start", "person", 105.0, None).label_idle_s == 0.0
    assert history.observe("a", "end", "person", 100.0, 110.0).label_idle_s is None
    assert history.observe("b", "end", "person", 105.0, 112.5).label_idle_s == 0.0
    # The next person, 30 s after the last one was seen; a cat does not count.
    assert history.observe("cat", "start", "pet", 130.0, None).label_idle_s is None
    third = history.observe("c", "start", "person", 142.5, None)
    assert third.label_idle_s == 30.0
    # The value is fixed for the whole event: later updates repeat it.
    assert history.observe("c", "update", "person", 142.5, None).label_idle_s == 30.0


def test_a_label_change_gets_the_new_labels_idle_and_names_the_old_label() -> None:
    history = LabelHistory()
    history.observe("p", "start", "person", 0.0, None)
    history.observe("p", "end", "person", 0.0, 10.0)
    assert history.observe("x", "start", "pet", 50.0, None).label_idle_s is None
    changed = history.observe("x", "update", "person", 50.0, None)
    assert changed.previous_label == "pet" and changed.label_idle_s == 40.0
    later = history.observe("x", "update", "person", 50.0, None)
    assert later.previous_label is None and later.label_idle_s == 40.0


def test_replayed_events_carry_display_name_local_times_and_idle(
    tmp_path: Path, demo_scene: Path
) -> None:
    """The demo scene twice through the real runtime: the second person's idle is the gap
    between the first person's last sighting and its own start, on the wall clock."""
    config = parse_config(
        {
            "camera": {"name": "front_door"},
            "store": {"path": str(tmp_path / "state")},
            "mqtt": {"enabled": False},
        }
    )
    updates: list[EventUpdate] = []
    anchors: list[float] = []

    class Collect:
        def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
            updates.append(update)

        def close(self) -> None:
            pass

    runtime = Runtime(config, RunOptions(use_mqtt=False, extra_sinks=[Collect()]))

    def anchored(path: Path) -> Iterator[FrameSource]:
        for _ in range(2):
            anchors.append(time.time())
            yield open_replay(path)

    try:
        replay_files(runtime, anchored(demo_scene), threading.Event())
    finally:
        runtime.close()
    people = [u for u in updates if u.label == "person"]
    starts = [u for u in people if u.type == "start"]
    assert len(starts) == 2, [(u.type, u.label) for u in updates]
    assert all(u.camera == "front_door" and u.camera_name == "front door" for u in updates)
    for update in updates:
        assert ISO_WITH_OFFSET.match(update.start_local), update.start_local
        assert (update.end_local is None) == (update.type != "end")
    first, second = starts
    # Local times: the recording's timeline anchored when the replay started (to the second);
    # the second file follows the first on the timeline (at least 16 s, the first's length),
    # however fast the replay ran.
    first_at, second_at = (datetime.fromisoformat(s.start_local).timestamp() for s in starts)
    assert abs(first_at - (anchors[0] + first.start_time)) <= 1.5
    assert second_at - first_at >= 15.9 - 1.0 + second.start_time - first.start_time
    assert second_at <= max(anchors[1], anchors[0] + 15.9) + second.start_time + 1.5
    first_end = next(u for u in people if u.type == "end" and u.id == first.id)
    assert first.label_idle_s is None
    gap = (
        datetime.fromisoformat(second.start_local).timestamp()
        - datetime.fromisoformat(first_end.end_local or "").timestamp()
    )
    assert second.label_idle_s is not None and abs(second.label_idle_s - gap) <= 1.5
    assert all(u.label_idle_s == second.label_idle_s for u in people if u.id == second.id)
