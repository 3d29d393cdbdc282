"""The load ladder: a loop that cannot keep up lowers the frame rate, says so, and recovers."""

from __future__ import annotations

import logging

import pytest

from camera.governor import Governor, GovernorConfig, Sensors
from camera.governor.load import LoadMeter
from tests.test_governor_policy import I416, PI_LADDER, FakeTemperature

FULL_FPS = 10.0


def make(**config: object) -> Governor:
    settings = {"interval_s": 1.0, "dwell_s": 5.0, **config}
    governor = Governor(GovernorConfig.model_validate(settings), Sensors(None, None, None))
    governor.load_meter.full_fps = FULL_FPS
    return governor


def run(governor: Governor, start: float, seconds: float, frame_s: float, fps: float) -> set[str]:
    """Poll as the pipeline would at ``fps`` processed frames a second, each taking
    ``frame_s`` of wall time; returns the levels seen."""
    levels = set()
    steps = round(seconds * fps)
    for n in range(steps):
        now = start + n / fps
        policy = governor.poll(now)
        levels.add(policy.level)
        governor.load_meter.frame_done(frame_s)
    return levels


def test_meter_is_time_per_frame_at_the_full_rate() -> None:
    meter = LoadMeter()
    meter.frame_done(0.05)
    assert meter.take() is None  # no full rate known (an unpaced replay): no reading
    meter.full_fps = 10.0
    for seconds in (0.1, 0.2, 0.3):
        meter.frame_done(seconds)
    assert meter.take() == pytest.approx(200.0)  # 0.2 s a frame, 10 frames a second
    assert meter.take() is None  # nothing since: unknown, not zero


def test_overload_lowers_the_frame_rate_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="camera.governor")
    governor = make()
    assert run(governor, 0.0, 3.0, 0.02, FULL_FPS) == {"normal"}  # 20 %: keeps up
    levels = run(governor, 3.0, 3.0, 0.15, FULL_FPS)  # 150 %: it cannot
    assert governor.policy.level == "load-busy" and levels >= {"load-busy"}
    assert governor.policy.fps == 5.0 and governor.policy.detect
    assert governor.policy.readings["load_pct"] == pytest.approx(150.0)
    message = [r.getMessage() for r in caplog.records if r.name == "camera.governor"][-1]
    assert message == "load normal→busy: loop load 150.0 % ≥ 100.0"
    run(governor, 6.0, 3.0, 0.25, 5.0)  # 250 %, even at the lowered rate
    assert (governor.policy.level, governor.policy.fps) == ("load-overloaded", 2.0)


def test_lowered_rate_does_not_release_the_level_while_frames_stay_slow() -> None:
    """The reading is per frame at the full rate: at 5 fps a 0.15 s frame is still 150 %."""
    governor = make()
    run(governor, 0.0, 2.0, 0.15, FULL_FPS)
    assert governor.policy.level == "load-busy"
    assert run(governor, 2.0, 60.0, 0.15, 5.0) == {"load-busy"}
    assert governor.snapshot()["changes"] == 1


def test_release_needs_hysteresis_and_dwell() -> None:
    governor = make()
    run(governor, 0.0, 2.0, 0.15, FULL_FPS)
    assert governor.policy.level == "load-busy"
    # 80 %: below 100 but not below 100 - 30 (hysteresis): stays busy however long.
    assert run(governor, 2.0, 30.0, 0.08, 5.0) == {"load-busy"}
    # 20 %: released only after the dwell (5 s here), then the full rate comes back.
    levels = run(governor, 32.0, 4.0, 0.02, 5.0)
    assert levels == {"load-busy"}
    run(governor, 36.0, 3.0, 0.02, 5.0)
    assert (governor.policy.level, governor.policy.fps) == ("normal", None)
    assert "loop load 20.0 % < 70.0 (100.0 − 30) for 5 s" in governor.policy.reason


def test_no_reading_without_a_full_rate_and_when_disabled() -> None:
    governor = make()
    governor.load_meter.full_fps = None  # a replay as fast as the CPU allows
    assert run(governor, 0.0, 10.0, 0.5, FULL_FPS) == {"normal"}
    governor = make(load={"enabled": False})
    assert run(governor, 0.0, 10.0, 0.5, FULL_FPS) == {"normal"}


def test_heat_and_load_combine_field_by_field() -> None:
    """Warm asks for one model rung down, busy for 5 fps: both apply; the lower rate names it."""
    governor = Governor(
        GovernorConfig(), Sensors(FakeTemperature(72.0), None, None), models=PI_LADDER
    )
    governor.load_meter.full_fps = FULL_FPS
    governor.load_meter.frame_done(0.12)
    policy = governor.poll(0.0)
    assert (policy.level, policy.fps, policy.variant) == ("load-busy", 5.0, I416.name)
