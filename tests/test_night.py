"""Night awareness: the light state from real frames and from picamera2's metadata, with
hysteresis, and the night values switching in by themselves during a real replay and in the
stats a subscriber receives."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera.app import RunOptions, Runtime, replay_files
from camera.events import ThumbnailConfig
from camera.motion import MotionConfig, RegionConfig
from camera.night import LightState, NightConfig, NightWatch
from camera.pipeline import Pipeline
from camera.pipeline.loop import FrameOutcome, StageConfigs
from camera.sources import SourceConfig, open_replay, open_source
from camera.track import TrackerConfig
from camera.types import Frame
from tests.broker import Mosquitto, Subscriber
from tests.conftest import footage
from tests.lowlight import darken, read_frames, write_h264
from tests.test_delivery_runtime import config_for

ROOM = "clips/intel_one-by-one-person-detection.mp4"
SMALL = (384, 216)
FPS = 10.0


def _room(count: int) -> list[np.ndarray]:
    """The indoor clip's empty first frames, small."""
    return [
        cv2.resize(f, SMALL, interpolation=cv2.INTER_AREA)
        for f in read_frames(footage(ROOM), count)
    ]


def _infrared(image: np.ndarray) -> np.ndarray:
    """What a camera in IR mode delivers: one grey channel, replicated."""
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


@pytest.fixture(scope="module")
def day_ir_dark(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real H.264 file: 3 s of the room by day, 4 s in infrared, 4 s at 0.3 lux (colour)."""
    rng = np.random.default_rng(3)
    room = _room(40)
    frames = room[:30] + [_infrared(f) for f in room[:40]] + [darken(f, 0.3, rng) for f in room]
    path = tmp_path_factory.mktemp("night") / "day_ir_dark.mp4"
    write_h264(frames, path, FPS)
    return path


def _states(path: Path, config: NightConfig) -> list[str]:
    watch = NightWatch(config)
    return [
        (watch.observe(Frame(image, i / FPS, i)) or watch.current).state
        for i, image in enumerate(read_frames(path))
    ]


def test_day_infrared_and_dark_are_told_apart_from_real_frames(day_ir_dark: Path) -> None:
    states = _states(day_ir_dark, NightConfig(dwell_s=0.0, sample_s=0.1))
    assert set(states[:30]) == {"day"}
    # The grey picture, as bright as the day's (the encoder carries the day's colour over for
    # the first frames after the cut, predicted from before it).
    assert set(states[42:70]) == {"infrared"}
    assert set(states[71:]) == {"dark"}  # colour, but darker than auto-exposure can hold


def test_a_new_state_counts_only_once_it_has_held_for_the_dwell(day_ir_dark: Path) -> None:
    states = _states(day_ir_dark, NightConfig(dwell_s=2.0, sample_s=0.5))
    assert states[0] == "day"  # the first look decides at once
    first_ir = states.index("infrared")
    assert 30 + 20 <= first_ir <= 40 + 20 + 5  # 2 s of IR frames (see above), every 0.5 s
    assert "dark" not in states[: 70 + 20]


def test_picamera2_metadata_decides_dark_with_a_gap_between_entering_and_leaving(
    fake_picamera2,
) -> None:
    """The ISP's lux estimate, not the picture, says night: the picture stays bright by day's
    standards while auto-exposure still has gain (it is a day frame here throughout)."""
    lux = [200.0] * 5 + [4.0] * 5 + [15.0] * 5 + [40.0] * 5  # 15: between dark 10 and day 20
    fake_picamera2.reset(
        fake_picamera2.Script(
            video=footage(ROOM),  # the empty room, by day
            metadata=lambda n: {
                "Lux": lux[min(n, len(lux)) - 1],
                "ExposureTime": 33000,
                "AnalogueGain": 8.0,
                "DigitalGain": 1.5,
            },
        )
    )
    source = open_source(SourceConfig(kind="picamera2", width=640, height=480))
    watch = NightWatch(NightConfig(dwell_s=0.0, sample_s=1e-6))
    seen: list[LightState] = []
    for frame in source.frames():
        assert frame.sensor is not None and frame.sensor.lux == lux[frame.index - 1]
        watch.observe(frame)
        seen.append(watch.current)
        if frame.index == len(lux):
            break
    source.close()
    assert [s.state for s in seen] == ["day"] * 5 + ["dark"] * 10 + ["day"] * 5
    light = seen[7].as_dict()
    assert light["night"] and light["lux"] == 4.0 and light["gain"] == 12.0
    assert light["exposure_us"] == 33000


def _stages(night: NightConfig) -> StageConfigs:
    return StageConfigs(
        motion=MotionConfig(),
        regions=RegionConfig(),
        tracker=TrackerConfig(),
        thumbnail=ThumbnailConfig(),
        night=night,
    )


def test_night_values_switch_in_and_out_by_themselves_during_a_replay(
    tmp_path: Path,
) -> None:
    """Day, then night (infrared), then day again, in one real video through the pipeline:
    the night sensitivity and person threshold hold exactly while it is night, and the
    motion detector keeps its learned scene across the switch (same motion frame size)."""
    room = _room(30)
    frames = room + [_infrared(f) for f in room] + room
    path = tmp_path / "day_night_day.mp4"
    write_h264(frames, path, FPS)
    night = NightConfig(sensitivity="low", thresholds={"person": 0.35}, dwell_s=0.5, sample_s=0.2)
    seen: list[tuple[str, str, float, int]] = []
    pipeline: Pipeline | None = None

    def record(outcome: FrameOutcome) -> None:
        assert pipeline is not None
        stages = pipeline.stages
        motion = id(pipeline._motion)
        seen.append(
            (
                pipeline.night.current.state,
                stages.motion.sensitivity,
                stages.tracker.labels.person.threshold,
                motion,
            )
        )

    pipeline = Pipeline(
        camera="test", topic_prefix="ronda/test", stages=_stages(night), detector=None,
        sinks=[], hooks=[record],
    )  # fmt: skip
    changes: list[str] = []
    pipeline.on_light_change.append(lambda light: changes.append(light.state))
    source = open_replay(path)
    pipeline.begin_stream(source.name)
    for frame in source.frames():
        pipeline.process(frame)
    assert changes == ["day", "infrared", "day"]
    for state, sensitivity, threshold, _ in seen:
        assert (sensitivity, threshold) == (("low", 0.35) if state != "day" else ("medium", 0.5))
    states = [s[0] for s in seen]
    assert 30 + 5 <= states.index("infrared") <= 50  # 0.5 s after the colour has gone
    assert len({s[3] for s in seen}) == 1  # one motion detector throughout


def test_night_values_stay_out_when_night_is_disabled(tmp_path: Path) -> None:
    room = _room(20)
    path = tmp_path / "ir.mp4"
    write_h264([_infrared(f) for f in room], path, FPS)
    pipeline = Pipeline(
        camera="test", topic_prefix="ronda/test", detector=None, sinks=[],
        stages=_stages(NightConfig(enabled=False, sensitivity="high", dwell_s=0)),
    )  # fmt: skip
    source = open_replay(path)
    pipeline.begin_stream(source.name)
    for frame in source.frames():
        pipeline.process(frame)
    assert pipeline.night.current.state == "infrared"  # still measured and reported
    assert pipeline.stages.motion.sensitivity == "medium"


def test_a_subscriber_hears_the_night_in_the_retained_stats(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber
) -> None:
    """The stats are published the moment night begins, not only at the next interval."""
    room = _room(30)
    path = tmp_path / "dusk.mp4"
    write_h264(room[:20] + [_infrared(f) for f in room], path, FPS)
    config = config_for(
        tmp_path, broker, night={"dwell_s": 0.5, "sample_s": 0.2},
        mqtt={"stats_interval_s": 3600},
    )  # fmt: skip
    runtime = Runtime(config, RunOptions())
    try:
        replay_files(runtime, [open_replay(path)], threading.Event())
        runtime.drain()
    finally:
        runtime.close()
    payloads = [json.loads(m.payload) for m in subscriber.on("/stats")]
    states = [p["light_state"] for p in payloads]
    assert "day" in states and "infrared" in states, states
    infrared = next(p for p in payloads if p["light_state"] == "infrared")
    assert infrared["light"]["night"] is True
    assert infrared["light"]["colourfulness"] < NightConfig().infrared_colourfulness
