"""The governor applied, not just computed: real replays with fake sensor files rewritten mid-way.

The fake is the narrowest seam there is: a sysfs-like tree with ``thermal_zone0/temp`` in
millidegrees, read by the real sensor code.  The replay's clock is the video timeline, so a
temperature written at 5 s of video takes effect at the next sensor read after 5 s.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from camera.app import RunOptions, Runtime
from camera.config import parse_config
from camera.events import EventUpdate
from camera.pipeline import FrameOutcome
from camera.sources import open_replay
from tests.conftest import footage

CAR_PARK = "clips/intel_car-detection.mp4"  # 12.5 fps, 30 s, cars drive through
INTERVAL_S, DWELL_S = 1.0, 5.0


def fake_sysfs(root: Path, celsius: float) -> Path:
    zone = root / "class" / "thermal" / "thermal_zone0"
    zone.mkdir(parents=True, exist_ok=True)
    (zone / "type").write_text("cpu-thermal\n")
    set_temperature(root, celsius)
    return root


def set_temperature(root: Path, celsius: float) -> None:
    temp = root / "class" / "thermal" / "thermal_zone0" / "temp"
    temp.write_text(f"{round(celsius * 1000)}\n")


@dataclass
class Recorder:
    """Frame hook and event sink: what was processed, under which policy, and what was sent."""

    schedule: list[tuple[float, float]] = field(default_factory=list)  # (video s, °C)
    sysfs: Path | None = None
    processed: list[tuple[float, str, str]] = field(default_factory=list)  # (s, level, variant)
    updates: list[EventUpdate] = field(default_factory=list)
    runtime: Runtime | None = None
    ladder: list[str] = field(default_factory=list)  # the detector's model ladder at start

    def __call__(self, outcome: FrameOutcome) -> None:
        while self.schedule and outcome.frame.timestamp >= self.schedule[0][0]:
            set_temperature(self.sysfs, self.schedule.pop(0)[1])
        if outcome.processed:
            variant = self.runtime.detector.variant
            self.processed.append((outcome.frame.timestamp, outcome.policy.level, variant))

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        self.updates.append(update)

    def close(self) -> None:
        pass

    def rate(self, start: float, end: float) -> float:
        times = [t for t, _, _ in self.processed if start <= t < end]
        return (len(times) - 1) / (times[-1] - times[0])

    def variant_at(self, t: float) -> str:
        return next(v for ts, _, v in self.processed if ts >= t)


def replay(tmp_path: Path, start_celsius: float, recorder: Recorder, clip: str = CAR_PARK) -> None:
    recorder.sysfs = fake_sysfs(tmp_path / "sys", start_celsius)
    config = parse_config(
        {
            "store": {"path": str(tmp_path / "state")},
            "detector": {"variant": "picodet-s416-float32"},
            "governor": {
                "interval_s": INTERVAL_S,
                "dwell_s": DWELL_S,
                "sensors": {
                    "sysfs_root": str(recorder.sysfs),
                    "vcgencmd": str(tmp_path / "no-vcgencmd"),
                    "battery": {"source": "off"},
                },
            },
        }
    )
    runtime = Runtime(config, RunOptions(use_mqtt=False, hooks=[recorder], extra_sinks=[recorder]))
    recorder.runtime = runtime
    recorder.ladder = [m.name for m in runtime.detector.ladder]
    try:
        runtime.run_source(open_replay(footage(clip)), threading.Event())
    finally:
        runtime.close()


def test_heat_steps_down_the_model_ladder_and_lowers_fps_then_restores(tmp_path: Path) -> None:
    recorder = Recorder(schedule=[(5.0, 78.0), (12.0, 50.0)])
    replay(tmp_path, 50.0, recorder)
    reaction = INTERVAL_S + 0.2
    ladder = recorder.ladder
    # The pinned 416 px model on top; the test timings make 320 px a rung (see conftest).
    assert ladder == ["picodet-s416-float32", "picodet-s320-float32"]
    hot_model = ladder[-1]  # hot steps down the ladder: 320 px
    # Cool: the 416 px model at the clip's native 12.5 fps.
    assert recorder.rate(0.5, 5.0) == pytest.approx(12.5, rel=0.05)
    assert recorder.variant_at(1.0) == "picodet-s416-float32"
    # Hot (>= 77 °C): two rungs down and 5 fps within one sensor interval.
    assert recorder.variant_at(5.0 + reaction) == hot_model
    assert recorder.rate(5.0 + reaction, 12.0) == pytest.approx(5.0, rel=0.05)
    levels = {level for t, level, _ in recorder.processed if 5.0 + reaction <= t < 12.0}
    assert levels == {"heat-hot"}
    # Cooled at 12 s: nothing changes before the dwell has passed...
    assert recorder.variant_at(12.0 + DWELL_S - 1.0) == hot_model
    # ...then 416 px and the full frame rate come back.
    restored = 12.0 + DWELL_S + reaction
    assert recorder.variant_at(restored) == "picodet-s416-float32"
    assert recorder.rate(restored, 30.0) == pytest.approx(12.5, rel=0.05)


def test_critical_pauses_the_detector_but_motion_events_keep_flowing(tmp_path: Path) -> None:
    recorder = Recorder()
    replay(tmp_path, 90.0, recorder)
    assert {level for _, level, _ in recorder.processed} == {"heat-critical"}
    assert recorder.runtime.pipeline.stats.detector_calls == 0
    assert recorder.rate(1.0, 30.0) == pytest.approx(2.0, rel=0.05)
    starts = [u for u in recorder.updates if u.type == "start"]
    assert starts, "cars drove through: motion-only events must still be published"
    assert all(u.motion_only and u.label == "motion" for u in recorder.updates)
    assert all(u.model_precision == "none" for u in recorder.updates)
    assert {u.id for u in starts} == {u.id for u in recorder.updates if u.type == "end"}
