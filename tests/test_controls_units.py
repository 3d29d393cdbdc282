"""The control state's rules: what each command accepts, the state file, the one function that
changes it, and how the frame loop applies sensitivity and thresholds (cheap, always run)."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from camera.app import RunOptions, Runtime, first_controls, replay_files, stage_configs
from camera.config import parse_config
from camera.controls import ControlError, Controls, ControlState
from camera.controls.state import change
from camera.events import EventUpdate
from camera.pipeline import FrameOutcome, Pipeline
from camera.pipeline.controlled import controlled_stages, recorder_policy
from camera.service.monitor import ServiceMonitor
from camera.sources import open_replay
from camera.types import Frame, Policy
from tests.broker import wait_until

NOW = 1_800_000_000.0
FIRST = first_controls(parse_config({}))


@pytest.mark.parametrize(
    ("control", "payload", "check"),
    [
        ("armed", "OFF", lambda s: s.armed is False),
        ("armed", " on ", lambda s: s.armed is True),
        ("privacy", "ON", lambda s: s.privacy is True),
        ("recording", "OFF", lambda s: s.recording is False),
        ("snooze", "30", lambda s: s.snooze_until == NOW + 1800),
        ("snooze", "30.0", lambda s: s.snooze_minutes(NOW) == 30),  # Home Assistant's number
        ("snooze", "0", lambda s: s.snooze_until is None),
        ("sensitivity", "HIGH", lambda s: s.sensitivity == "high"),
        ("threshold/person", "0.72", lambda s: s.thresholds["person"] == 0.72),
    ],
)
def test_valid_commands_change_their_control(control: str, payload: str, check) -> None:
    assert check(change(FIRST, control, payload, NOW))


@pytest.mark.parametrize(
    ("control", "payload", "says"),
    [
        ("armed", "yes", "expected ON or OFF"),
        ("snooze", "1441", "whole minutes from 0 to 1440"),
        ("snooze", "2.5", "whole minutes"),
        ("snooze", "-1", "whole minutes"),
        ("snooze", "nan", "whole minutes"),
        ("sensitivity", "extreme", "low, medium, high"),
        ("threshold/person", "0", "above 0 and at most 1"),
        ("threshold/person", "1.5", "above 0 and at most 1"),
        ("threshold/cow", "0.5", "no control named"),
        ("detect", "ON", "no control named"),
    ],
)
def test_invalid_commands_say_why(control: str, payload: str, says: str) -> None:
    with pytest.raises(ControlError, match=says):
        change(FIRST, control, payload, NOW)


def test_suppression_and_snooze_countdown() -> None:
    assert FIRST.suppression(NOW) is None
    assert change(FIRST, "armed", "OFF", NOW).suppression(NOW) == "disarmed"
    snoozed = change(FIRST, "snooze", "2", NOW)
    assert snoozed.suppression(NOW + 60) == "snoozed"
    assert [snoozed.snooze_minutes(NOW + t) for t in (0, 1, 60, 61, 119, 120)] == [2, 2, 1, 1, 1, 0]
    assert snoozed.suppression(NOW + 120) is None  # back by itself
    assert snoozed.value("snooze", NOW + 90) == "1"
    assert [s.headline(NOW) for s in (FIRST, snoozed, change(FIRST, "armed", "OFF", NOW))] == [
        "watching", "snoozed", "disarmed",
    ]  # fmt: skip
    assert change(snoozed, "privacy", "ON", NOW).as_dict(NOW)["state"] == "privacy"


def test_the_state_file_wins_over_the_first_values_and_bad_entries_keep_them(
    tmp_path: Path,
) -> None:
    (tmp_path / "controls.json").write_text(
        json.dumps({"armed": False, "sensitivity": "loud", "thresholds": {"person": 0.8, "pet": 7}})
    )
    state = Controls(FIRST, tmp_path).current
    assert (state.armed, state.sensitivity) == (False, "medium")
    assert dict(state.thresholds) == {"person": 0.8, "pet": 0.5}
    (tmp_path / "controls.json").write_text("{not json")
    assert Controls(FIRST, tmp_path).current == FIRST


def test_change_is_saved_and_told_once_per_state_by_the_controls_thread(tmp_path: Path) -> None:
    controls = Controls(FIRST, tmp_path)
    told: list[ControlState] = []
    seen = threading.Event()
    controls.listeners.append(lambda state, now: (told.append(state), seen.set()))
    controls.start()
    try:
        assert seen.wait(5)
        for n in range(500):  # a flood: the thread coalesces, the last one wins
            controls.change("armed", "OFF" if n % 2 == 0 else "ON", source="test")
        controls.change("sensitivity", "low", source="test")
        refused: list[str] = []
        controls.on_refused.append(lambda refusal: refused.append(refusal.reason))
        with pytest.raises(ControlError):
            controls.change("armed", "sometimes", source="test")
        assert wait_until(lambda: refused == ["expected ON or OFF, got 'sometimes'"], 5)
    finally:
        controls.stop()
    assert told[-1].sensitivity == "low" and told[-1].armed is True
    assert len(told) < 100
    saved = json.loads((tmp_path / "controls.json").read_text())
    assert (saved["armed"], saved["sensitivity"]) == (True, "low")
    assert (controls.applied, controls.refused) == (501, 1)


def test_the_loop_gets_the_chosen_sensitivity_and_thresholds_and_no_clips_when_off() -> None:
    config = parse_config({"motion": {"threshold": 30}})
    state = change(change(FIRST, "sensitivity", "high", NOW), "threshold/pet", "0.8", NOW)
    stages = controlled_stages(stage_configs(config), state)
    assert stages.motion.sensitivity == "high"
    assert stages.motion.resolve().threshold == 30  # an explicit number still overrides
    assert stages.tracker.rule("pet").threshold == 0.8
    assert stages.tracker.rule("person").threshold == 0.5
    policy = Policy()
    assert recorder_policy(policy, FIRST) is policy
    assert recorder_policy(policy, change(FIRST, "recording", "OFF", NOW)).clips == "paused"
    assert recorder_policy(policy, change(FIRST, "privacy", "ON", NOW)).clips == "paused"


class Owner:
    """Stands in for ``Controls`` where only the state matters: ``current`` is what the owner
    chose last (the frame loop reads nothing else)."""

    def __init__(self) -> None:
        self.current = FIRST

    def set(self, control: str, payload: str) -> None:
        self.current = change(self.current, control, payload, NOW)


class Recorded:
    """A clip recorder that keeps the policy of every frame it was given."""

    def __init__(self) -> None:
        self.clips: list[str] = []

    def frame(self, frame: Frame, policy: Policy) -> None:
        self.clips.append(policy.clips)

    def clip_for(self, update: EventUpdate) -> None:
        return None


def moving_square(index: int) -> Frame:
    image = np.full((240, 320, 3), 90, np.uint8)
    x = 40 + 6 * (index % 30)
    image[80:160, x : x + 60] = 230
    return Frame(image=image, timestamp=index / 10, index=index)


def test_privacy_ends_open_events_looks_at_nothing_and_records_nothing() -> None:
    owner, recorder, updates = Owner(), Recorded(), []

    class Sink:
        def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
            updates.append(update)

        def close(self) -> None:
            pass

    config = parse_config({})
    pipeline = Pipeline(
        camera="t", topic_prefix="t", stages=stage_configs(config), detector=None,
        sinks=[Sink()], controls=owner, recorder=recorder,  # type: ignore[arg-type]
    )  # fmt: skip
    pipeline.begin_stream("test")
    index = itertools.count()
    for _ in range(40):  # a moving square: motion, then a (motion-only) event
        pipeline.process(moving_square(next(index)))
    assert [u.type for u in updates][:1] == ["start"] and pipeline.open_events() == 1
    motion_frames = pipeline.stats.motion_frames

    owner.set("privacy", "ON")
    outcomes = [pipeline.process(moving_square(next(index))) for _ in range(40)]
    assert updates[-1].type == "end" and updates[-1].end_reason == "privacy"
    assert all(o.privacy and not o.processed and o.motion is None for o in outcomes)
    assert pipeline.stats.motion_frames == motion_frames and pipeline.open_events() == 0
    assert set(recorder.clips[-40:]) == {"paused"}
    ended = len(updates)

    owner.set("privacy", "OFF")
    owner.set("armed", "OFF")
    for _ in range(40):
        pipeline.process(moving_square(next(index)))
    assert pipeline.stats.motion_frames > motion_frames
    assert recorder.clips[-1] == "full"
    again = updates[ended:]
    assert again and again[0].type == "start"
    assert (again[0].alerted, again[0].suppressed_by) == (False, "disarmed")
    assert json.loads(again[0].to_json())["alerted"] is False


def test_a_camera_started_in_privacy_is_ready_and_keeps_the_watchdog_fed() -> None:
    sent: list[tuple[str, ...]] = []

    class Notifier:
        enabled = True

        def send(self, *fields: str) -> bool:
            sent.append(fields)
            return True

    clock = itertools.count(0.0, 1.0)
    monitor = ServiceMonitor(Notifier(), watchdog_s=2.0, clock=lambda: next(clock))  # type: ignore[arg-type]
    frame = moving_square(0)
    for _ in range(3):
        monitor(FrameOutcome(frame=frame, processed=False, policy=Policy(), privacy=True))
    flat = [field for fields in sent for field in fields]
    assert flat.count("READY=1") == 1 and flat.count("WATCHDOG=1") == 3


def test_a_replay_neither_reads_nor_obeys_nor_writes_the_cameras_controls(
    tmp_path: Path, demo_scene: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    saved = json.dumps({"privacy": True, "armed": False, "sensitivity": "low"})
    (state / "controls.json").write_text(saved)
    config = parse_config({"store": {"path": str(state)}, "governor": {"enabled": False}})
    runtime = Runtime(config, RunOptions(use_mqtt=False, use_governor=False))
    try:
        assert runtime.controls is None
        replay_files(runtime, [open_replay(demo_scene)], threading.Event())
        assert runtime.stats_payload()["controls"] is None
        started = [e for e in runtime.events.recent(10) if e.label == "person"]
        assert started and all(e.alerted for e in started)  # not in privacy, not disarmed
    finally:
        runtime.close()
    assert (state / "controls.json").read_text() == saved
    assert not (state / "still.jpg").exists()
