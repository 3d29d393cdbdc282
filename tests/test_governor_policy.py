"""The governor end to end with in-memory sensors: levels become policies, and back."""

from __future__ import annotations

import json
import logging
import random
from typing import Any

import pytest
from pydantic import ValidationError

from camera.governor import Governor, GovernorConfig, Sensors
from camera.governor.sensors import BatteryReading, Health
from camera.types import ModelVariant

F416 = ModelVariant("nanodet-g416-float32", "float32", 416)
I416 = ModelVariant("nanodet-g416-int8", "int8", 416)
I320 = ModelVariant("nanodet-g320-int8", "int8", 320)
PI_LADDER = (F416, I416, I320)
"""A device that affords float32 416 at rest: warm and hot run int8 416; only a level set to
``model_step: 2`` (or a paused detector's unused setting) names the 320 px model."""


class FakeTemperature:
    source = "fake"

    def __init__(self, value: float | None = None) -> None:
        self.value = value
        self.reads = 0
        self.health = Health("fake temperature")

    def read(self) -> float | None:
        self.reads += 1
        return self.value


class FakeBattery:
    source = "fake"

    def __init__(self, percent: float | None = None, charging: bool | None = False) -> None:
        self.percent = percent
        self.charging = charging
        self.health = Health("fake battery")

    def read(self) -> BatteryReading | None:
        return None if self.percent is None else BatteryReading(self.percent, self.charging)


def make(
    temp: float | None = None,
    percent: float | None = None,
    charging: bool | None = False,
    models: tuple[ModelVariant, ...] = PI_LADDER,
    **config: Any,
) -> tuple[Governor, FakeTemperature, FakeBattery]:
    thermo, pack = FakeTemperature(temp), FakeBattery(percent, charging)
    governor = Governor(
        GovernorConfig.model_validate(config), Sensors(thermo, None, pack), models=models
    )
    return governor, thermo, pack


def fields(governor: Governor, now: float) -> tuple[str, float | None, str | None, bool]:
    policy = governor.poll(now)
    assert policy.precision == next(m.precision for m in PI_LADDER if m.name == policy.variant)
    return (policy.level, policy.fps, policy.variant, policy.detect)


def test_rising_temperature_trades_detail_for_survival(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="camera.governor")
    governor, thermo, _ = make(temp=60.0)
    assert fields(governor, 0.0) == ("normal", None, F416.name, True)
    thermo.value = 71.0
    assert fields(governor, 5.0) == ("heat-warm", None, I416.name, True)
    thermo.value = 78.1
    assert fields(governor, 10.0) == ("heat-hot", 5.0, I416.name, True)
    assert governor.policy.reason == "heat warm→hot: SoC 78.1 °C ≥ 77.0"
    thermo.value = 83.0
    assert fields(governor, 15.0) == ("heat-critical", 2.0, I320.name, False)
    changes = [r for r in caplog.records if r.name == "camera.governor"]
    assert [r.getMessage() for r in changes] == [
        "heat normal→warm: SoC 71.0 °C ≥ 70.0",
        "heat warm→hot: SoC 78.1 °C ≥ 77.0",
        "heat hot→critical: SoC 83.0 °C ≥ 82.0",
    ]
    assert all(r.levelno == logging.WARNING for r in changes)


def test_a_hot_pi_with_an_ai_camera_never_pauses_detection() -> None:
    """The sensor's network costs the Pi nothing: every level keeps it on and only lowers the
    frame rate (a Hailo or the CPU pause at critical as before)."""
    sensor = (ModelVariant("imx500-nanodet_plus_416x416_pp", "int8", 416, cost="sensor"),)
    hailo = (ModelVariant("hailo-yolov8s_h8l", "int8", 640, cost="accelerator"),)
    for models, paused in ((sensor, False), (hailo, True)):
        governor, thermo, pack = make(temp=60.0, percent=80.0, models=models)
        seen = []
        for now, (temp, percent) in enumerate(((71.0, 80.0), (78.0, 80.0), (90.0, 5.0))):
            thermo.value, pack.percent = temp, percent
            policy = governor.poll(5.0 * (now + 1))
            seen.append((policy.level, policy.fps, policy.variant, policy.detect))
        name = models[0].name
        assert seen == [
            ("heat-warm", None, name, True),
            ("heat-hot", 5.0, name, True),
            ("heat-critical", 2.0, name, not paused),
        ]


def test_cooling_restores_step_by_step_after_hysteresis_and_dwell(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="camera.governor")
    governor, thermo, _ = make(temp=84.0)
    assert governor.poll(0.0).level == "heat-critical"
    thermo.value = 78.0  # below 82 but not below 82 - 5
    assert all(governor.poll(float(t)).level == "heat-critical" for t in range(5, 300, 5))
    thermo.value = 76.0
    assert governor.poll(300.0).level == "heat-critical"
    assert governor.poll(325.0).level == "heat-critical"
    assert fields(governor, 330.0) == ("heat-hot", 5.0, I416.name, True)
    thermo.value = 60.0
    assert governor.poll(335.0).level == "heat-hot"
    assert governor.poll(365.0) == governor.policy
    assert fields(governor, 365.0) == ("normal", None, F416.name, True)
    last = [r for r in caplog.records if r.name == "camera.governor"][-1]
    assert last.levelno == logging.INFO
    assert last.getMessage() == "heat hot→normal: SoC 60.0 °C < 65.0 (70.0 − 5) for 30 s"


def test_jitter_around_a_threshold_changes_the_policy_once_per_dwell() -> None:
    governor, thermo, _ = make(temp=74.0)
    governor.poll(0.0)  # warm
    rng = random.Random(3)
    policies = set()
    for frame in range(1, 10 * 600):  # ten minutes at 10 fps
        thermo.value = 77.0 + rng.uniform(-2.0, 2.0)
        policies.add(governor.poll(frame / 10).level)
    assert governor.snapshot()["changes"] == 2  # normal→warm at start, warm→hot once
    assert policies == {"heat-warm", "heat-hot"}


def test_most_restrictive_of_heat_and_battery_wins() -> None:
    governor, _, _ = make(temp=72.0, percent=18.0)  # heat warm (int8), battery low (5 fps)
    assert fields(governor, 0.0) == ("battery-low", 5.0, I416.name, True)
    governor, _, _ = make(temp=83.0, percent=18.0)  # detect off beats a lower frame rate
    assert fields(governor, 0.0) == ("heat-critical", 2.0, I320.name, False)
    governor, _, _ = make(temp=60.0, percent=5.0)
    assert fields(governor, 0.0) == ("battery-critical", 2.0, I320.name, False)


def test_each_field_takes_its_most_restrictive_value() -> None:
    governor, _, _ = make(
        temp=72.0,
        percent=15.0,
        heat={"warm": {"at": 70, "fps": 10, "model_step": 0}},
        battery={"low": {"at": 20, "fps": None, "model_step": 1}},
    )
    # Heat asks for 10 fps, battery for int8: both apply; the lower frame rate names the level.
    assert fields(governor, 0.0) == ("heat-warm", 10.0, I416.name, True)


def test_a_step_past_the_cheapest_model_stays_on_it() -> None:
    governor, _, _ = make(temp=78.0, models=(I416,))  # only one variant affordable here
    assert fields(governor, 0.0) == ("heat-hot", 5.0, I416.name, True)
    governor, _, _ = make(temp=78.0, models=())  # no detector: the policy names no model
    policy = governor.poll(0.0)
    assert (policy.variant, policy.precision) == (None, None)


def test_normal_level_base_is_the_ceiling() -> None:
    governor, thermo, _ = make(temp=60.0, normal_fps=8, models=(I416, I320))
    assert fields(governor, 0.0) == ("normal", 8.0, I416.name, True)
    thermo.value = 71.0
    assert fields(governor, 5.0) == ("heat-warm", 8.0, I320.name, True)
    thermo.value = 78.0
    assert fields(governor, 10.0) == ("heat-hot", 5.0, I320.name, True)


@pytest.mark.parametrize(
    ("when_charging", "percent", "level"),
    [
        ("relax", 15.0, "normal"),  # low is at 20 - 10 = 10 % while charging
        ("relax", 8.0, "battery-low"),  # ... and critical at 0 %
        ("ignore", 5.0, "normal"),
        ("none", 5.0, "battery-critical"),
    ],
)
def test_low_battery_while_charging(when_charging: str, percent: float, level: str) -> None:
    governor, _, _ = make(percent=percent, charging=True, battery={"when_charging": when_charging})
    assert governor.poll(0.0).level == level


def test_plugging_in_the_charger_lifts_battery_limits_after_the_dwell() -> None:
    governor, _, pack = make(percent=8.0, charging=False, battery={"when_charging": "ignore"})
    assert governor.poll(0.0).level == "battery-critical"
    pack.charging = True
    assert governor.poll(5.0).level == "battery-critical"
    assert governor.poll(35.0).level == "normal"
    assert "charging (when_charging: ignore) for 30 s" in governor.policy.reason
    pack.charging = False  # unplugged again: restrictions return at once
    assert governor.poll(40.0).level == "battery-critical"


def test_unknown_readings_restrict_nothing() -> None:
    governor, thermo, _ = make()
    assert fields(governor, 0.0) == ("normal", None, F416.name, True)
    assert governor.policy.readings["soc_temp_c"] is None
    assert thermo.reads == 1


def test_poll_reads_sensors_only_when_due() -> None:
    governor, thermo, _ = make(temp=50.0, interval_s=5.0)
    for frame in range(100):  # 10 s of frames at 10 fps
        governor.poll(frame / 10)
    assert thermo.reads == 2  # t=0 and t=5
    governor.poll(1.0)  # the clock went backwards (replay restarted): read at once
    assert thermo.reads == 3


def test_policy_changes_only_at_a_poll_that_is_due() -> None:
    governor, thermo, _ = make(temp=50.0)
    governor.poll(0.0)
    thermo.value = 90.0
    assert governor.poll(4.9).level == "normal"
    assert governor.poll(5.0).level == "heat-critical"


def test_snapshot_is_json_and_complete() -> None:
    governor, _, _ = make(temp=78.04, percent=55.0, charging=True)
    governor.poll(12.5)
    snap = json.loads(json.dumps(governor.snapshot()))
    assert snap["level"] == "heat-hot"
    levels = (snap["heat_level"], snap["battery_level"], snap["load_level"])
    assert levels == ("hot", "ok", "normal")
    assert snap["policy"] == {
        "level": "heat-hot",
        "fps": 5.0,
        "variant": I416.name,
        "precision": "int8",
        "detect": True,
        "clips": "full",
        "reason": "heat normal→hot: SoC 78.0 °C ≥ 77.0",
    }
    assert snap["readings"]["soc_temp_c"] == 78.0
    assert snap["readings"]["battery_pct"] == 55.0 and snap["readings"]["charging"] is True
    assert snap["sensors"] == {"temperature": "ok", "throttle": "off", "battery": "ok"}
    assert (snap["last_poll"], snap["changed_at"], snap["changes"]) == (12.5, 12.5, 1)


def test_disabled_governor_never_reads_and_never_restricts() -> None:
    governor, thermo, _ = make(temp=95.0, enabled=False)
    assert fields(governor, 0.0) == ("normal", None, F416.name, True)
    assert fields(governor, 100.0) == ("normal", None, F416.name, True)
    assert thermo.reads == 0
    assert governor.snapshot()["enabled"] is False


def test_default_config_matches_the_documented_ladder() -> None:
    config = GovernorConfig()
    assert (config.heat.warm.at, config.heat.hot.at, config.heat.critical.at) == (70, 77, 82)
    assert config.heat.critical.at < 85  # the firmware's hard limit
    assert (config.battery.low.at, config.battery.critical.at) == (20, 10)
    assert (config.interval_s, config.dwell_s, config.heat.hysteresis) == (5.0, 30.0, 5.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"heat": {"hot": {"at": 65}}},  # below warm
        {"battery": {"critical": {"at": 30}}},  # above low
        {"interval_s": 0},
        {"heat": {"warm": {"at": 70, "fps": 0}}},
        {"heat": {"warm": {"at": 70, "model_step": -1}}},
        {"heat": {"warm": {"at": 70, "precision": "int8"}}},  # replaced by model_step
        {"load": {"busy": {"at": 300}}},  # above overloaded
        {"sensors": {"battery": {"source": "ups"}}},
        {"intervall_s": 5},  # a typo is an error, not a silent default
    ],
)
def test_config_rejects_nonsense(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        GovernorConfig.model_validate(bad)
