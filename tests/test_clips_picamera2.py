"""Clips from the Pi camera's own encoder, against the fake picamera2 (tests/fake_picamera2):
the encoder is started once with the camera, the pre-roll comes from its packets, no frame is
encoded in software, and the clip frame rate follows the governor's policy."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from camera.record.config import ClipsConfig
from camera.record.recorder import Recorder
from camera.sources import SourceConfig, open_source
from camera.store import Database, EventStore, StoreConfig
from camera.types import Policy
from tests.clip_helpers import decode, event_update

FPS = 20.0


def test_camera_encoder_feeds_clips_and_follows_the_governor(fake_picamera2, tmp_path: Path):
    fake = fake_picamera2
    fake.reset(fake.Script(fps=FPS))
    source = open_source(
        SourceConfig(kind="picamera2", fps=FPS, width=320, height=240, lores_width=160,
                     lores_height=120)
    )  # fmt: skip
    database = Database(tmp_path / "ronda.sqlite3")
    events = EventStore(database, StoreConfig(path=tmp_path))
    clips = ClipsConfig(pre_s=1.0, post_s=0.5, keyframe_interval_s=0.5, fps=FPS, reduced_fps=5)
    recorder = Recorder(clips, events.clips)
    recorder.begin_stream(source)
    assert recorder.hardware
    policy = Policy()
    published = {}
    seen: dict[str, object] = {}
    frames = source.frames()
    start = 0.0
    times: list[float] = []
    for number, frame in enumerate(frames, 1):
        times.append(frame.timestamp)
        recorder.frame(frame, policy)
        camera = fake.SCRIPT.instances[0]
        if number == 30:
            start = frame.timestamp
            published["start"] = update = event_update("start", "cam-0001", start, frame.timestamp)
            events.record(replace(update, clip=recorder.clip_for(update)), None)
        elif number == 40:
            update = event_update("end", "cam-0001", start, frame.timestamp, gone_s=0.0)
            published["end"] = recorder.clip_for(update)
        elif number == 60:
            seen["starts_before_pause"] = camera.calls.count("start_encoder")
            policy = Policy(level="heat-critical", fps=None, clips="reduced")
        elif number == 62:
            seen["skip"] = camera.encoders[0].frame_skip_count
            seen["encoded_at_62"] = camera.encoders[0].frames_encoded
        elif number == 82:
            seen["encoded_reduced"] = camera.encoders[0].frames_encoded - seen["encoded_at_62"]
            policy = Policy(level="battery-critical", clips="paused")
        elif number == 85:
            seen["paused_encoders"] = len(camera.encoders)
            policy = Policy()
        elif number == 90:
            break
    frames.close()
    recorder.close()

    camera = fake.SCRIPT.instances[0]
    # Started once with the camera (before camera.start), not again for the fps change; the
    # pause stopped it and the resume started it again.
    assert camera.calls.index("start_encoder") < camera.calls.index("start")
    assert seen["starts_before_pause"] == 1
    assert seen["skip"] == 4  # 20 fps camera, 5 fps clips
    assert 4 <= seen["encoded_reduced"] <= 6  # 20 camera frames at 5 fps
    assert seen["paused_encoders"] == 0 and camera.calls.count("start_encoder") == 2
    # No frame was encoded in software: the camera's packets are the clip.
    assert recorder.worker.encoder.size is None
    stats = recorder.stats()
    assert stats["encoder"] == "camera" and stats["preroll_peak_bytes"] > 0

    clip = events.clips.for_event("cam-0001")
    assert clip is not None and clip.file == "clips/cam-0001.mp4"
    assert clip.offset_s == pytest.approx(1.0, abs=0.01)  # pre_s before the start
    decoded = decode(tmp_path / clip.file)
    assert decoded.codec == "h264" and decoded.size == (320, 240)
    # Frames before the event's start were encoded before the recording opened: the pre-roll.
    before = [t for t in decoded.times if t < clip.offset_s - 0.1]
    assert decoded.times[0] == pytest.approx(0.0, abs=0.06) and len(before) >= 15
    # Every camera frame of the clip's span is in it (clips were full: no frame skipped).
    file_start = start - clip.offset_s
    span = [t for t in times if file_start - 0.01 <= t <= file_start + decoded.times[-1] + 0.01]
    assert abs(len(decoded.times) - len(span)) <= 1
    # pre_s + the event (frames 30 to 40, 0.5 s at 20 fps, longer on a loaded machine) + post_s
    planned = 1.0 + (times[39] - start) + 0.5
    assert published["end"].duration_s == pytest.approx(planned, abs=0.01)
    assert decoded.times[-1] == pytest.approx(planned, abs=0.15)
    database.close()
