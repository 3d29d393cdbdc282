"""A ``ronda run`` killed with SIGKILL while a person is in view (a crash, the watchdog, a power
cut): the next start ends that event with ``"end_reason": "restart"`` through the outbox, the
retained ``<prefix>/person`` is ``OFF`` again, and the event's clip, salvaged from its
``.part.ts``, is linked to it.  Real subprocesses, real footage as the camera, real mosquitto.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from camera.events import EventAssembler, EventPublisher, EventUpdate
from camera.events.clock import local_iso
from camera.pipeline import StoreSink
from camera.pipeline.interrupted import end_interrupted
from camera.store import Database, EventStore
from camera.store.config import StoreConfig
from camera.store.lock import StateLock
from camera.track import Tracker, TrackerConfig, TrackEvent, event_ids
from camera.types import Box, Detection
from tests.broker import Mosquitto, Subscriber
from tests.cli_helpers import REPO, write_config
from tests.conftest import footage
from tests.event_factory import event_update

CLIP = "clips/intel_one-by-one-person-detection.mp4"  # a person walks in at 6 s
PREFIX = "ronda/test"


def _start(config: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "camera", "run", "--config", str(config)],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def _last(subscriber: Subscriber, topic: str) -> bytes | None:
    """The latest payload on exactly ``<prefix>/<topic>`` (``s.on`` matches suffixes, and
    ``zones/room/person`` ends like ``person``)."""
    payloads = [m.payload for m in list(subscriber.messages) if m.topic == f"{PREFIX}/{topic}"]
    return payloads[-1] if payloads else None


def _stop(process: subprocess.Popen, sig: signal.Signals) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    return process.wait(timeout=60)


def test_an_event_left_open_by_sigkill_is_ended_at_the_next_start(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber
) -> None:
    config = write_config(
        tmp_path,
        source={"kind": "file", "uri": str(footage(CLIP).resolve()), "loop": True},
        mqtt={"host": broker.host, "port": broker.port},
        zones={"room": {"points": [[0, 0], [1, 0], [1, 1], [0, 1]]}},
        web={"enabled": False},  # the page would take port 8080, shared by every test run
    )
    first = _start(config, tmp_path / "first.log")
    try:
        assert subscriber.wait_for(lambda s: any(e["type"] == "start" for e in s.events()), 90), (
            tmp_path / "first.log"
        ).read_text()
        start = next(e for e in subscriber.events() if e["type"] == "start")
        assert subscriber.wait_for(lambda s: _last(s, "person") == b"ON", 10)
        assert subscriber.wait_for(lambda s: _last(s, "zones/room/person") == b"1", 10)
    finally:
        _stop(first, signal.SIGKILL)
    state = tmp_path / "state"
    assert list((state / "clips").glob("*.part.ts")), "the kill left no recording to salvage"

    second = _start(config, tmp_path / "second.log")
    try:
        assert subscriber.wait_for(
            lambda s: any(e["id"] == start["id"] and e["type"] == "end" for e in s.events()), 90
        ), (tmp_path / "second.log").read_text()
    finally:
        assert _stop(second, signal.SIGTERM) == 0, (tmp_path / "second.log").read_text()
    end = next(e for e in subscriber.events() if e["id"] == start["id"] and e["type"] == "end")
    assert end["end_reason"] == "restart"
    assert end["sequence"] > start["sequence"] and end["end_time"] >= start["start_time"]
    assert end["clip"] is not None and end["clip"]["duration_s"] > 0, end

    # What a Home Assistant connecting now sees: the person sensor is off, the room empty.
    for topic, expected in (("person", b"OFF"), ("zones/room/person", b"0")):
        late = Subscriber(broker.host, broker.port, topic=f"{PREFIX}/{topic}").start()
        try:
            assert late.wait_for(lambda s, t=topic: _last(s, t) is not None, 10)
            assert _last(late, topic) == expected, topic
        finally:
            late.stop()

    database = Database(state / "ronda.sqlite3", readonly=True)
    try:
        stored = EventStore(database, StoreConfig()).get(start["id"])
    finally:
        database.close()
    assert stored is not None and stored.last_type == "end" and stored.clip is not None
    assert stored.clip.file == end["clip"]["file"]
    assert not list((state / "clips").glob("*.part.ts"))


# -- the parts, in process ---------------------------------------------------------------------
class _Collect:
    def __init__(self) -> None:
        self.updates: list[EventUpdate] = []

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        self.updates.append(update)

    def close(self) -> None:
        pass


def _store(tmp_path: Path) -> EventStore:
    return EventStore(Database(tmp_path / "ronda.sqlite3"), StoreConfig())


def test_only_events_without_an_end_are_ended_from_their_last_update(tmp_path: Path) -> None:
    store = _store(tmp_path)
    # A replayed event (times into the recording) left open after two updates ...
    store.record(event_update("r-0001", sequence=1, frame_time=6.5, start_time=6.2), b"jpeg")
    store.record(event_update("r-0001", kind="update", sequence=2, frame_time=9.0), None)
    # ... one only stored (outside its alert zones), and one that ended cleanly.
    store.record(event_update("r-0002", alert=False, zones=["yard"]), None)
    store.record(event_update("r-0003"), None)
    store.record(event_update("r-0003", kind="end", sequence=2, end_reason="gone"), None)
    sink = _Collect()

    ended = end_interrupted(
        store, [sink, StoreSink(store)], topic_prefix="ronda/test", camera_name="Test",
        precision="int8",
    )  # fmt: skip

    assert [u.id for u in ended] == ["r-0001", "r-0002"] == [u.id for u in sink.updates]
    first, quiet = ended
    assert (first.type, first.end_reason, first.sequence) == ("end", "restart", 3)
    assert first.end_time == first.frame_time == 9.0 and first.start_time == 6.2
    assert not first.has_thumbnail and first.alert and first.camera_name == "Test"
    # Replay times are mapped to the wall clock through the moment the last update was stored.
    stored_at = store.updates("r-0001")[1].recorded_at
    assert first.end_local == local_iso(stored_at)
    assert first.start_local == local_iso(stored_at - 2.8)
    assert not quiet.alert and quiet.zones == ["yard"]  # an alert sink skips it, the store not
    assert store.open_events() == []
    assert end_interrupted(
        store, [sink], topic_prefix="ronda/test", camera_name="Test", precision="int8"
    ) == []  # fmt: skip
    store.database.close()


def test_the_restart_end_is_assembled_like_the_end_the_loop_would_have_sent(
    tmp_path: Path,
) -> None:
    """One assembler (``camera.events.publisher``): the crash's end differs from a live end
    only in what needs the dead process's memory (the label history) and its reason."""
    store = _store(tmp_path)
    live = EventPublisher(EventAssembler("cam", "Cam", "ronda/cam"))
    box = Box(10, 20, 110, 220)
    for kind, label in (("start", "person"), ("start", "motion")):
        change = TrackEvent(kind, f"x-{label}", label, label, 0.7, box, 3.0, 1.0, None, False)
        store.record(live.update(change, precision="int8", source="s", has_thumbnail=False), None)
    ended = end_interrupted(
        store, [], topic_prefix="ronda/cam", camera_name="Cam", precision="int8"
    )  # fmt: skip
    for end in ended:
        change = TrackEvent("end", end.id, end.label, end.label, 0.7, box, 3.0, 1.0, 3.0, False)
        would = live.update(change, precision="int8", source="s", has_thumbnail=False)
        keep = {"label_idle_s", "previous_label", "end_reason", "start_local", "end_local"}
        assert {k: v for k, v in end.as_dict().items() if k not in keep} == {
            k: v for k, v in would.as_dict().items() if k not in keep
        }
    person, motion = sorted(ended, key=lambda u: u.label, reverse=True)
    assert person.thumbnail_topic == "ronda/cam/events/x-person/thumbnail"
    assert (person.model_precision, motion.model_precision) == ("int8", "none")
    store.database.close()


def test_a_second_process_on_the_same_state_directory_leaves_open_events_alone(
    tmp_path: Path,
) -> None:
    owner, other = StateLock(tmp_path), StateLock(tmp_path)
    assert owner.acquire()
    assert not other.acquire()  # flock conflicts between two opens, even in one process
    owner.release()
    assert other.acquire()
    other.release()


def test_end_reasons_of_the_tracker() -> None:
    tracker = Tracker(TrackerConfig(), (640, 480), event_ids("t"))
    person = [Detection("person", "person", 0.9, Box(100, 100, 200, 400))]
    for step in range(5):
        tracker.update(person, step * 0.1)
    ended = tracker.update([], 10.0)
    assert [(e.kind, e.end_reason) for e in ended] == [("end", "gone")]
    elsewhere = [Detection("person", "person", 0.9, Box(400, 50, 500, 350))]  # not resting
    for step in range(5):
        tracker.update(elsewhere, 20 + step * 0.1)
    assert [e.end_reason for e in tracker.finish(reason="shutdown")] == ["shutdown"]
