"""Picamera2Source against a fake picamera2 (tests/fake_picamera2) implementing exactly the
calls the source makes: streams, timestamps, frame-rate control, recovery from camera errors
and stalls, prompt close, and a clear error without picamera2."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from camera.sources import SourceConfig, SourceError, open_source
from camera.sources import picamera2_source as module
from camera.sources.backoff import Backoff
from tests.broker import wait_until


@pytest.fixture
def fake(fake_picamera2):
    return fake_picamera2


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record every backoff delay the source waits (the waits themselves stay real)."""
    delays: list[float] = []

    class RecordingBackoff(Backoff):
        def next_delay(self) -> float:
            delay = super().next_delay()
            delays.append(delay)
            return delay

    monkeypatch.setattr(module, "Backoff", RecordingBackoff)
    return delays


def config(**overrides: object) -> SourceConfig:
    values = {"kind": "picamera2", "reconnect_min_s": 0.05, "reconnect_max_s": 0.2}
    return SourceConfig(**{**values, **overrides})


def take(frames: Iterator, count: int) -> list:
    return [next(frames) for _ in range(count)]


def test_main_stream_is_bgr_and_gray_small_is_the_lores_y_plane(fake) -> None:
    source = open_source(config(width=640, height=480, lores_width=320, lores_height=240))
    assert isinstance(source, module.Picamera2Source) and source.live
    before = time.time()
    frames = take(source.frames(), 3)
    camera = fake.SCRIPT.instances[0]
    assert camera.config["main"] == {"size": (640, 480), "format": "RGB888"}
    assert camera.config["lores"] == {"size": (320, 240), "format": "YUV420"}
    assert camera.calls[:4] == ["open", "create_video_configuration", "configure", "start"]
    for number, frame in enumerate(frames, 1):
        assert frame.image.shape == (480, 640, 3) and frame.image[1, 1, 0] == 200  # blue first
        assert frame.index == number
        # The Y plane only: 240 rows of 320 (stride padding and the U/V planes cut off).
        assert frame.gray_small.shape == (240, 320) and frame.gray_small.flags.c_contiguous
        assert np.all(frame.gray_small == fake.Y_BASE + number)
        # Sensor timestamps mapped to the wall clock (the fake exposes 1 ms before delivery).
        assert before - 1 < frame.timestamp <= time.time()
    assert frames[0].timestamp <= frames[1].timestamp <= frames[2].timestamp
    assert camera.released == 3  # every request goes back to libcamera
    source.close()


@pytest.mark.parametrize(
    ("main", "motion_height", "lores"),
    [
        ((1280, 720), 100, (178, 100)),  # 16:9 stays 16:9 at the motion height
        ((1920, 1080), 144, (256, 144)),  # motion.sensitivity: high
        ((640, 480), 100, (132, 100)),  # 4:3 stays 4:3 (even widths: YUV420)
    ],
)
def test_lores_keeps_the_main_aspect_ratio_at_the_motion_height(
    fake, main, motion_height, lores
) -> None:
    source = open_source(config(width=main[0], height=main[1]), motion_height=motion_height)
    frame = take(source.frames(), 1)[0]
    camera = fake.SCRIPT.instances[0]
    assert camera.config["lores"] == {"size": lores, "format": "YUV420"}
    assert frame.gray_small.shape == (lores[1], lores[0])
    assert frame.captured is not None and frame.captured <= time.monotonic()
    assert (source.full_fps, source.stale_dropped) == (10.0, 0)
    source.close()


def test_set_fps_sets_frame_duration_limits_and_none_restores_the_configured_rate(fake) -> None:
    source = open_source(config(fps=10))
    frames = source.frames()
    next(frames)
    camera = fake.SCRIPT.instances[0]
    assert camera.config["controls"] == {"FrameDurationLimits": (100_000, 100_000)}
    source.set_fps(2.5)
    next(frames)
    assert ("set_controls", {"FrameDurationLimits": (400_000, 400_000)}) in camera.calls
    assert camera.frame_duration == 400_000
    source.set_fps(30)  # never above the configured rate
    next(frames)
    assert camera.frame_duration == 100_000
    source.set_fps(2.5)
    next(frames)
    source.set_fps(None)
    next(frames)
    assert camera.frame_duration == 100_000
    next(frames)  # no change, no call
    assert sum(1 for c in camera.calls if isinstance(c, tuple)) == 4  # one per change
    source.close()


def test_a_camera_error_mid_stream_restarts_the_camera_with_backoff(fake, waits, caplog) -> None:
    fake.reset(fake.Script(sessions=[fake.Session(frames=3, then="error")]))
    source = open_source(config())
    stream = source.frames()
    frames = take(stream, 6)
    first, second = fake.SCRIPT.instances
    assert first.calls[-2:] == ["stop", "close"] and first.closed
    assert second.started and not second.closed
    assert [f.index for f in frames] == [1, 2, 3, 4, 5, 6]  # frames resume, indices go on
    assert len(waits) == 1 and 0.04 <= waits[0] <= 0.06  # one backoff of reconnect_min_s ±20 %
    assert "Camera frontend has timed out" in caplog.text
    source.close()


def test_a_camera_that_cannot_be_opened_is_retried_with_growing_backoff(fake, waits) -> None:
    fake.reset(fake.Script(open_failures=3))
    source = open_source(config())
    frame = next(source.frames())
    assert frame.index == 1
    assert len(fake.SCRIPT.instances) == 4
    assert len(waits) == 3 and waits[0] < waits[1] < waits[2]
    source.close()


def test_a_stalled_camera_is_restarted_after_the_stall_timeout(fake, waits) -> None:
    fake.reset(fake.Script(sessions=[fake.Session(frames=2, then="stall")]))
    source = open_source(config(stall_timeout_s=0.5))
    frames = source.frames()
    take(frames, 2)
    started = time.monotonic()
    third = next(frames)
    assert time.monotonic() - started >= 0.5
    assert third.index == 3 and len(fake.SCRIPT.instances) == 2
    assert fake.SCRIPT.instances[0].closed and len(waits) == 1
    source.close()


def test_close_ends_a_stalled_stream_promptly(fake) -> None:
    fake.reset(fake.Script(sessions=[fake.Session(frames=1, then="stall")]))
    source = open_source(config(stall_timeout_s=60))
    seen: list[int] = []
    reader = threading.Thread(target=lambda: seen.extend(f.index for f in source.frames()))
    reader.start()
    assert wait_until(
        lambda: fake.SCRIPT.instances and fake.SCRIPT.instances[0].stalled.is_set(), 5
    )
    closed_at = time.monotonic()
    source.close()
    reader.join(timeout=5)
    assert not reader.is_alive() and time.monotonic() - closed_at < 1.0
    assert seen == [1] and fake.SCRIPT.instances[0].closed


def test_without_picamera2_the_error_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import fails, as on a PC
    with pytest.raises(SourceError) as error:
        open_source(config())
    message = str(error.value)
    assert "python3-picamera2" in message and "--system-site-packages" in message
