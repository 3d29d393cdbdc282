"""Sensors against fake sysfs trees and a fake ``vcgencmd`` script in tmp_path."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from camera.governor import Governor, GovernorConfig, SensorsConfig, build_sensors
from camera.governor.sensors import (
    FirstThermal,
    SysfsBattery,
    SysfsThermal,
    ThrottleSensor,
    Vcgencmd,
    VcgencmdThermal,
    parse_throttled,
)
from camera.governor.sensors.throttle import FlagWatch

SENSOR_LOG = "camera.governor.sensors"
POWER_LOG = "camera.governor.power"
FIRMWARE_LOG = "camera.governor.firmware"


def thermal_zone(root: Path, number: int, kind: str, millideg: str) -> Path:
    zone = root / "class" / "thermal" / f"thermal_zone{number}"
    zone.mkdir(parents=True, exist_ok=True)
    (zone / "type").write_text(kind + "\n")
    (zone / "temp").write_text(millideg + "\n")
    return zone


def power_supply(root: Path, name: str, **files: str) -> Path:
    supply = root / "class" / "power_supply" / name
    supply.mkdir(parents=True, exist_ok=True)
    for key, value in files.items():
        (supply / key).write_text(value + "\n")
    return supply


class FakeVcgencmd:
    """A shell script answering from files the test writes: ``set("measure_temp", "...")``."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.path = directory / "vcgencmd"
        self.path.write_text(
            '#!/bin/sh\nd=$(dirname "$0")\n'
            '[ -f "$d/$1.sleep" ] && sleep "$(cat "$d/$1.sleep")"\n'
            '[ -f "$d/$1.out" ] || { echo "unknown command $1" >&2; exit 2; }\n'
            'cat "$d/$1.out"\n'
        )
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR)

    def set(self, argument: str, output: str) -> None:
        (self.dir / f"{argument}.out").write_text(output + "\n")

    def hang(self, argument: str, seconds: float) -> None:
        (self.dir / f"{argument}.sleep").write_text(f"{seconds}\n")

    def command(self, timeout_s: float = 2.0) -> Vcgencmd:
        return Vcgencmd(str(self.path), timeout_s)


@pytest.fixture
def vcgencmd(tmp_path: Path) -> FakeVcgencmd:
    directory = tmp_path / "bin"
    directory.mkdir()
    return FakeVcgencmd(directory)


def sensor_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == SENSOR_LOG]


# --- SoC temperature ---------------------------------------------------------------------------


def test_sysfs_picks_the_cpu_zone_by_type_not_number(tmp_path: Path) -> None:
    thermal_zone(tmp_path, 0, "acpitz", "27800")
    thermal_zone(tmp_path, 1, "iwlwifi_1", "41000")
    thermal_zone(tmp_path, 2, "x86_pkg_temp", "61500")
    sensor = SysfsThermal(str(tmp_path), zone_types=SensorsConfig().temperature.zone_types)
    assert sensor.read() == pytest.approx(61.5)
    assert "thermal_zone2" in sensor.source


def test_sysfs_zone_order_is_numeric(tmp_path: Path) -> None:
    """thermal_zone10 sorts after thermal_zone2, so the first cpu zone is zone 2, not 10."""
    thermal_zone(tmp_path, 10, "cpu-thermal", "90000")
    thermal_zone(tmp_path, 2, "cpu-thermal", "48312")
    sensor = SysfsThermal(str(tmp_path), zone_types=("cpu-thermal",))
    assert sensor.read() == pytest.approx(48.312)


def test_sysfs_unlisted_soc_zone_is_found_by_name(tmp_path: Path) -> None:
    thermal_zone(tmp_path, 0, "gpu-thermal", "50000")
    thermal_zone(tmp_path, 1, "cpu-big0-thermal", "55000")
    assert SysfsThermal(str(tmp_path), zone_types=("cpu-thermal",)).read() == pytest.approx(55.0)


def test_sysfs_configured_zone_by_name_or_type(tmp_path: Path) -> None:
    thermal_zone(tmp_path, 0, "cpu-thermal", "50000")
    thermal_zone(tmp_path, 1, "board", "33000")
    assert SysfsThermal(str(tmp_path), zone="thermal_zone1").read() == pytest.approx(33.0)
    assert SysfsThermal(str(tmp_path), zone="board").read() == pytest.approx(33.0)


def test_sysfs_explicit_path_wins(tmp_path: Path) -> None:
    thermal_zone(tmp_path, 0, "cpu-thermal", "50000")
    custom = tmp_path / "probe"
    custom.write_text("71250\n")
    sensor = SysfsThermal(str(tmp_path), path=str(custom), zone_types=("cpu-thermal",))
    assert sensor.read() == pytest.approx(71.25)


def test_sysfs_follows_the_file_between_reads(tmp_path: Path) -> None:
    zone = thermal_zone(tmp_path, 0, "cpu-thermal", "50000")
    sensor = SysfsThermal(str(tmp_path), zone_types=("cpu-thermal",))
    assert sensor.read() == pytest.approx(50.0)
    (zone / "temp").write_text("78100\n")
    assert sensor.read() == pytest.approx(78.1)


@pytest.mark.parametrize("content", ["garbage", "-1000000", ""])
def test_sysfs_bad_content_is_unknown(tmp_path: Path, content: str) -> None:
    thermal_zone(tmp_path, 0, "cpu-thermal", content)
    sensor = SysfsThermal(str(tmp_path), zone_types=("cpu-thermal",))
    assert sensor.read() is None
    assert sensor.health.problem is not None


def test_no_cpu_zone_is_unknown_and_names_what_exists(tmp_path: Path) -> None:
    thermal_zone(tmp_path, 0, "acpitz", "30000")
    sensor = SysfsThermal(str(tmp_path), zone_types=("cpu-thermal",))
    assert sensor.read() is None
    assert "thermal_zone0=acpitz" in (sensor.health.problem or "")


def test_vcgencmd_measure_temp(vcgencmd: FakeVcgencmd) -> None:
    vcgencmd.set("measure_temp", "temp=48.3'C")
    assert VcgencmdThermal(vcgencmd.command()).read() == pytest.approx(48.3)


def test_vcgencmd_unexpected_output_and_failure(vcgencmd: FakeVcgencmd) -> None:
    sensor = VcgencmdThermal(vcgencmd.command())
    assert sensor.read() is None  # script exits 2: no measure_temp.out yet
    assert "exited 2" in (sensor.health.problem or "")
    vcgencmd.set("measure_temp", "VCHI initialization failed")
    assert sensor.read() is None
    assert "unexpected" in (sensor.health.problem or "")


def test_vcgencmd_timeout_is_short_and_unknown(vcgencmd: FakeVcgencmd) -> None:
    vcgencmd.set("measure_temp", "temp=48.3'C")
    vcgencmd.hang("measure_temp", 5)
    sensor = VcgencmdThermal(vcgencmd.command(timeout_s=0.2))
    assert sensor.read() is None
    assert "timed out" in (sensor.health.problem or "")


def test_auto_falls_back_to_vcgencmd(tmp_path: Path, vcgencmd: FakeVcgencmd) -> None:
    vcgencmd.set("measure_temp", "temp=66.0'C")
    chain = FirstThermal([SysfsThermal(str(tmp_path)), VcgencmdThermal(vcgencmd.command())])
    assert chain.read() == pytest.approx(66.0)
    assert chain.source == "vcgencmd"


def test_missing_sensor_logged_once_then_recovery_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SENSOR_LOG)
    chain = FirstThermal(
        [SysfsThermal(str(tmp_path)), VcgencmdThermal(Vcgencmd(str(tmp_path / "nope"), 1.0))]
    )
    for _ in range(5):
        assert chain.read() is None
    unknown = [r for r in sensor_records(caplog) if "unknown" in r.getMessage()]
    assert len(unknown) == 1, [r.getMessage() for r in sensor_records(caplog)]
    assert unknown[0].levelno == logging.INFO  # absent, not broken
    assert "not found" in unknown[0].getMessage()

    thermal_zone(tmp_path, 0, "cpu-thermal", "45000")
    assert chain.read() == pytest.approx(45.0)
    assert chain.read() == pytest.approx(45.0)
    back = [r for r in sensor_records(caplog) if "back" in r.getMessage()]
    assert len(back) == 1


def test_broken_sensor_is_a_warning_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SENSOR_LOG)
    thermal_zone(tmp_path, 0, "cpu-thermal", "not a number")
    sensor = SysfsThermal(str(tmp_path), zone_types=("cpu-thermal",))
    for _ in range(4):
        sensor.read()
    records = sensor_records(caplog)
    assert [r.levelno for r in records] == [logging.WARNING]


# --- throttling flags --------------------------------------------------------------------------


def test_throttled_bits_decoded() -> None:
    flags = parse_throttled("throttled=0x50005")
    assert flags is not None
    assert flags.under_voltage and flags.throttled
    assert not flags.arm_freq_capped and not flags.soft_temp_limit
    assert flags.under_voltage_since_boot
    assert flags.names == [
        "under_voltage",
        "throttled",
        "under_voltage_since_boot",
        "throttled_since_boot",
    ]
    soft = parse_throttled("throttled=0x80008")
    assert (
        soft is not None
        and soft.soft_temp_limit
        and soft.names
        == [
            "soft_temp_limit",
            "soft_temp_limit_since_boot",
        ]
    )
    zero = parse_throttled("throttled=0x0")
    assert zero is not None and zero.names == []
    assert parse_throttled("error=1 error_msg=...") is None


def test_throttle_sensor_reads_fake_vcgencmd(vcgencmd: FakeVcgencmd) -> None:
    vcgencmd.set("get_throttled", "throttled=0x2")
    flags = ThrottleSensor(vcgencmd.command()).read()
    assert flags is not None and flags.arm_freq_capped and not flags.under_voltage


def test_under_voltage_is_reported_as_power_once_per_occurrence(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="camera.governor")
    watch = FlagWatch()
    words = [0x0, 0x50005, 0x50005, 0x50005, 0x50000, 0x50000, 0x50001, 0x50001]
    for word in words:
        watch.update(parse_throttled(f"throttled={word:#x}"))
    messages = [r.getMessage() for r in caplog.records if r.name == POWER_LOG]
    power_warnings = [m for m in messages if m.startswith("power: under-voltage: ")]
    assert len(power_warnings) == 2, messages  # two separate occurrences
    assert all("not heat" in m for m in power_warnings)
    assert sum("under-voltage cleared" in m for m in messages) == 1
    assert len(messages) == 3
    firmware = [r.getMessage() for r in caplog.records if r.name == FIRMWARE_LOG]
    assert firmware == [
        "firmware: throttled (throttled=0x50005)",
        "firmware: throttled cleared (throttled=0x50000)",
    ]


def test_under_voltage_since_boot_mentioned_at_first_reading(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=POWER_LOG)
    watch = FlagWatch()
    watch.update(parse_throttled("throttled=0x10000"))
    watch.update(parse_throttled("throttled=0x10000"))
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "since boot" in messages[0]


# --- battery (sysfs) ---------------------------------------------------------------------------


def test_sysfs_battery_skips_mains_and_device_batteries(tmp_path: Path) -> None:
    power_supply(tmp_path, "AC", type="Mains", online="1")
    power_supply(tmp_path, "hidpp_battery_0", type="Battery", scope="Device", capacity="5")
    power_supply(tmp_path, "ups", type="Battery", capacity="87", status="Discharging")
    reading = SysfsBattery(str(tmp_path)).read()
    assert reading is not None
    assert reading.percent == 87 and reading.charging is False


@pytest.mark.parametrize(
    ("status", "charging"),
    [("Charging", True), ("Full", True), ("Not charging", True), ("Discharging", False)],
)
def test_sysfs_battery_status(tmp_path: Path, status: str, charging: bool) -> None:
    power_supply(tmp_path, "ups", type="Battery", capacity="40", status=status)
    reading = SysfsBattery(str(tmp_path), "ups").read()
    assert reading is not None and reading.charging is charging


def test_sysfs_battery_unknown_status_and_missing_supply(tmp_path: Path) -> None:
    power_supply(tmp_path, "ups", type="Battery", capacity="40", status="Unknown")
    reading = SysfsBattery(str(tmp_path)).read()
    assert reading is not None and reading.charging is None
    missing = SysfsBattery(str(tmp_path), "nope")
    assert missing.read() is None and missing.health.problem is not None


def test_no_battery_is_unknown(tmp_path: Path) -> None:
    power_supply(tmp_path, "AC", type="Mains", online="1")
    sensor = SysfsBattery(str(tmp_path))
    assert sensor.read() is None
    assert sensor.health.missing


# --- assembled from config ---------------------------------------------------------------------


def test_build_sensors_follows_config(tmp_path: Path, vcgencmd: FakeVcgencmd) -> None:
    thermal_zone(tmp_path, 0, "cpu-thermal", "52000")
    power_supply(tmp_path, "BAT0", type="Battery", capacity="64", status="Charging")
    vcgencmd.set("get_throttled", "throttled=0x0")
    config = SensorsConfig.model_validate(
        {"sysfs_root": str(tmp_path), "vcgencmd": str(vcgencmd.path)}
    )
    readings = build_sensors(config).read()
    assert readings.soc_temp_c == pytest.approx(52.0)
    assert readings.throttle is not None and readings.throttle.raw == 0
    assert readings.battery is not None and readings.battery.charging is True

    off = SensorsConfig.model_validate(
        {
            "sysfs_root": str(tmp_path),
            "temperature": {"source": "off"},
            "throttle": {"enabled": False},
            "battery": {"source": "off"},
        }
    )
    sensors = build_sensors(off)
    assert sensors.read().as_dict()["soc_temp_c"] is None
    assert sensors.status() == {"temperature": "off", "throttle": "off", "battery": "off"}


def test_governor_end_to_end_on_fake_sysfs(tmp_path: Path, vcgencmd: FakeVcgencmd) -> None:
    """The real sensors, the real ladder: the SoC heats, the policy follows, then recovers."""
    zone = thermal_zone(tmp_path, 0, "cpu-thermal", "50000")
    vcgencmd.set("get_throttled", "throttled=0x50005")
    config = GovernorConfig.model_validate(
        {"sensors": {"sysfs_root": str(tmp_path), "vcgencmd": str(vcgencmd.path)}}
    )
    governor = Governor(config)
    assert governor.poll(0.0).level == "normal"
    zone.joinpath("temp").write_text("83000\n")
    assert governor.poll(1.0).level == "normal"  # not due yet: still the last decision
    critical = governor.poll(5.0)
    assert (critical.level, critical.detect) == ("heat-critical", False)
    assert critical.readings["soc_temp_c"] == 83.0
    assert critical.readings["under_voltage"] is True
    snap = governor.snapshot()
    assert snap["flags"] == [
        "under_voltage",
        "throttled",
        "under_voltage_since_boot",
        "throttled_since_boot",
    ]
    assert snap["heat_level"] == "critical" and snap["battery_level"] == "ok"

    zone.joinpath("temp").write_text("55000\n")
    times = [10.0 + 5 * i for i in range(8)]
    levels = [governor.poll(t).level for t in times]
    assert levels[-1] == "normal"
    assert levels[0] == "heat-critical"  # dwell: not at the first cool reading
