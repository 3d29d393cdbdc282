"""The governor's sensors: SoC temperature, firmware throttling flags, battery.

Each one is optional and answers None when it cannot tell ("unknown"); ``Sensors.read`` bundles
one poll into a ``Readings`` value that the ladders and the published snapshot share.
"""

from __future__ import annotations

from dataclasses import dataclass

from camera.governor.config import SensorsConfig
from camera.governor.sensors.battery import BatteryReading, BatterySensor, SysfsBattery
from camera.governor.sensors.command import Vcgencmd
from camera.governor.sensors.health import Health
from camera.governor.sensors.pisugar import PiSugarBattery
from camera.governor.sensors.thermal import (
    FirstThermal,
    SysfsThermal,
    TemperatureSensor,
    VcgencmdThermal,
)
from camera.governor.sensors.throttle import ThrottleFlags, ThrottleSensor, parse_throttled
from camera.types import ReadingsDict

__all__ = [
    "BatteryReading",
    "BatterySensor",
    "FirstThermal",
    "Health",
    "PiSugarBattery",
    "Readings",
    "Sensors",
    "SysfsBattery",
    "SysfsThermal",
    "TemperatureSensor",
    "ThrottleFlags",
    "ThrottleSensor",
    "Vcgencmd",
    "VcgencmdThermal",
    "build_sensors",
    "parse_throttled",
]


@dataclass(frozen=True, slots=True)
class Readings:
    """One poll of every sensor; None means unknown."""

    soc_temp_c: float | None = None
    temp_source: str | None = None
    throttle: ThrottleFlags | None = None
    battery: BatteryReading | None = None
    battery_source: str | None = None

    def as_dict(self) -> ReadingsDict:
        """JSON-ready form, as published in the stats message and ``Policy.readings``."""
        flags = self.throttle
        return {
            "soc_temp_c": None if self.soc_temp_c is None else round(self.soc_temp_c, 1),
            "temp_source": self.temp_source,
            "throttled": None if flags is None else flags.hex,
            "under_voltage": None if flags is None else flags.under_voltage,
            "battery_pct": None if self.battery is None else round(self.battery.percent, 1),
            "charging": None if self.battery is None else self.battery.charging,
            "battery_source": self.battery_source,
        }


class Sensors:
    """The configured sensors; any of them may be None (not configured)."""

    def __init__(
        self,
        temperature: TemperatureSensor | None = None,
        throttle: ThrottleSensor | None = None,
        battery: BatterySensor | None = None,
    ) -> None:
        self.temperature = temperature
        self.throttle = throttle
        self.battery = battery

    def read(self) -> Readings:
        temp = self.temperature.read() if self.temperature else None
        flags = self.throttle.read() if self.throttle else None
        battery = self.battery.read() if self.battery else None
        return Readings(
            soc_temp_c=temp,
            temp_source=self.temperature.source if self.temperature and temp is not None else None,
            throttle=flags,
            battery=battery,
            battery_source=self.battery.source if self.battery and battery is not None else None,
        )

    def status(self) -> dict[str, str]:
        """``ok``, ``unknown: why`` or ``off`` per sensor, for ``ronda doctor``."""
        named = (
            ("temperature", self.temperature),
            ("throttle", self.throttle),
            ("battery", self.battery),
        )
        return {name: sensor.health.status if sensor else "off" for name, sensor in named}


def build_sensors(config: SensorsConfig) -> Sensors:
    """The sensors ``config`` asks for; nothing is read here, so construction never fails."""
    command = Vcgencmd(config.vcgencmd, config.command_timeout_s)
    temp_cfg = config.temperature
    sysfs = SysfsThermal(
        config.sysfs_root,
        zone=temp_cfg.thermal_zone,
        path=temp_cfg.path,
        zone_types=temp_cfg.zone_types,
    )
    choices: dict[str, TemperatureSensor | None] = {
        "auto": FirstThermal([sysfs, VcgencmdThermal(command)]),
        "sysfs": sysfs,
        "vcgencmd": VcgencmdThermal(command),
        "off": None,
    }
    temperature = choices[temp_cfg.source]
    throttle = ThrottleSensor(command) if config.throttle.enabled else None
    battery: BatterySensor | None = None
    if config.battery.source == "sysfs":
        battery = SysfsBattery(config.sysfs_root, config.battery.power_supply)
    elif config.battery.source == "pisugar":
        sugar = config.pisugar
        battery = PiSugarBattery(
            host=sugar.host, port=sugar.port, socket_path=sugar.socket, timeout_s=sugar.timeout_s
        )
    return Sensors(temperature, throttle, battery)
