"""The clip recorder's parts on their own: recording plans, the pre-roll, the governor's say."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from camera.events import clip_url
from camera.governor.policy import Allowance, merge
from camera.record.config import ClipsConfig
from camera.record.packets import PreRoll
from camera.record.planner import Close, Open, RecordingPlanner
from camera.record.recorder import Recorder
from camera.store import Database
from camera.store.clips import ClipStore
from camera.types import EncodedPacket, Frame, Policy
from tests.clip_helpers import event_update as update


def planner(**options: float) -> RecordingPlanner:
    config = ClipsConfig(pre_s=5, post_s=5, **options)
    return RecordingPlanner(config, lambda event: f"http://cam/events/{event}/clip")


def test_overlapping_events_share_a_recording_with_their_own_offsets() -> None:
    plan = planner()
    assert plan.tick(0.0) is None  # the stream's first frame
    ref, opened = plan.on_update(update("start", "a", 10.0, 10.5), allowed=True)
    assert opened == Open("clips/a.mp4", 5.0)
    assert ref is not None and (ref.offset_s, ref.url) == (5.0, "http://cam/events/a/clip")
    ref_b, opened_b = plan.on_update(update("start", "b", 14.0, 14.5), allowed=True)
    assert opened_b is None and ref_b is not None
    assert (ref_b.file, ref_b.offset_s) == ("clips/a.mp4", 9.0)
    end_a, _ = plan.on_update(update("end", "a", 10.0, 20.0), allowed=True)
    assert end_a is not None and end_a.duration_s is None  # b still open: length unknown
    assert plan.tick(30.0) is None
    end_b, _ = plan.on_update(update("end", "b", 14.0, 30.0), allowed=True)
    assert end_b is not None and end_b.duration_s == pytest.approx(26.0 + 5.0 - 5.0)
    assert plan.tick(31.0) is None  # within the post-roll: still open
    assert plan.tick(31.1) == Close("clips/a.mp4", 31.0)


def test_an_event_in_the_post_roll_extends_the_recording() -> None:
    plan = planner()
    plan.tick(0.0)
    plan.on_update(update("start", "a", 10.0, 10.5), allowed=True)
    plan.on_update(update("end", "a", 10.0, 16.0), allowed=True)  # close planned at 17
    ref, opened = plan.on_update(update("start", "b", 16.5, 16.6), allowed=True)
    assert opened is None and ref is not None and ref.file == "clips/a.mp4"
    assert plan.tick(17.5) is None


def test_pre_roll_never_reaches_before_the_stream_and_max_s_cuts() -> None:
    plan = planner(max_s=20)
    plan.tick(2.0)
    _, opened = plan.on_update(update("start", "a", 3.0, 3.5), allowed=True)
    assert opened == Open("clips/a.mp4", 2.0)
    assert plan.tick(22.0) is None
    assert plan.tick(22.1) == Close("clips/a.mp4", 22.0)
    _, reopened = plan.on_update(update("start", "b", 23.0, 23.5), allowed=True)
    assert reopened == Open("clips/b.mp4", 18.0)
    end_a, _ = plan.on_update(update("end", "a", 3.0, 30.0), allowed=True)
    assert end_a is not None and end_a.file == "clips/a.mp4" and end_a.duration_s == 20.0


def test_clip_url_needs_the_web_address() -> None:
    assert clip_url(None, "a-0001") is None
    assert clip_url("https://cam.example/ronda/", "a-0001") == (
        "https://cam.example/ronda/events/a-0001/clip"
    )


def test_not_allowed_means_no_clip() -> None:
    plan = planner()
    plan.tick(0.0)
    assert plan.on_update(update("start", "a", 10.0, 10.5), allowed=False) == (None, None)
    assert plan.on_update(update("end", "a", 10.0, 20.0), allowed=True) == (None, None)


def packet(time: float, key: bool, size: int = 100) -> EncodedPacket:
    return EncodedPacket(b"x" * size, time, key)


def test_preroll_keeps_whole_groups_covering_its_seconds() -> None:
    ring = PreRoll(seconds=3.0, max_bytes=10_000_000)
    assert not ring.add(packet(0.0, key=False))  # nothing decodable before a keyframe
    for tenth in range(100):
        ring.add(packet(tenth / 10, key=tenth % 20 == 0))
    # now 9.9: groups start at 0, 2, 4, 6, 8; 6.0 is the last keyframe at or before 6.9
    assert ring.since(6.5)[0].time == 6.0 and ring.since(9.0)[0].time == 8.0
    assert ring.span_s == pytest.approx(3.9)
    assert ring.bytes == 40 * 100 and ring.peak_bytes >= ring.bytes


def test_preroll_byte_bound_drops_the_oldest_group() -> None:
    ring = PreRoll(seconds=60.0, max_bytes=2_500)
    for tenth in range(40):
        ring.add(packet(tenth / 10, key=tenth % 10 == 0))
    assert ring.bytes <= 2_500 and ring.trimmed_for_memory == 2
    assert ring.since(0.0)[0].time == 2.0


def test_governor_clips_restriction_takes_the_most_restrictive_ladder() -> None:
    full = Allowance(None, "int8", True)
    reduced = Allowance(2.0, "int8", False, "reduced")
    paused = Allowance(5.0, "int8", True, "paused")
    assert merge(full, reduced).clips == "reduced"
    assert merge(reduced, paused).clips == "paused"
    assert merge(full).clips == "full"
    assert paused.severity() < reduced.severity()  # detect off still names the level


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (Policy(), 40),  # clips.fps 10 = the source's rate
        (Policy(level="heat-hot", fps=5.0), 20),  # never above the policy's frame rate
        (Policy(level="heat-critical", fps=5.0, clips="reduced"), 8),  # clips.reduced_fps 2
        (Policy(level="battery-critical", clips="paused"), 0),
    ],
)
def test_software_clip_frame_rate_follows_the_governor(
    tmp_path: Path, policy: Policy, expected: int
) -> None:
    database = Database(tmp_path / "ronda.sqlite3")
    recorder = Recorder(ClipsConfig(pre_s=10.0), ClipStore(database))
    recorder.begin_stream(SimpleNamespace(live=False))
    image = np.zeros((64, 64, 3), np.uint8)
    for index in range(40):  # 4 s at 10 fps
        image[:] = index
        recorder.frame(Frame(image=image.copy(), timestamp=index / 10, index=index), policy)
    assert recorder.worker.wait_idle(30)
    encoded = sum(1 for _ in recorder.worker.preroll.since(0.0))
    assert encoded == expected
    assert recorder.stats()["mode"] == policy.clips
    recorder.close()
    database.close()
