"""Configuration of the governor: where the sensors are, and what each level of the ladders allows.

The defaults are chosen for a Raspberry Pi 4/5 camera; README "Heat and battery" explains
each of them.
Everything a test needs to redirect (the sysfs root, the ``vcgencmd`` command, the PiSugar
address) is here, so sensors never hard-code a path.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from camera.section import Section
from camera.types import Precision

Fps = Annotated[float, Field(gt=0)]
Seconds = Annotated[float, Field(gt=0)]
Percent = Annotated[float, Field(ge=0, le=100)]


class TemperatureSensorConfig(Section):
    """Where the SoC temperature comes from.

    ``auto`` reads sysfs and falls back to ``vcgencmd measure_temp`` when no CPU zone is found.
    """

    source: Literal["auto", "sysfs", "vcgencmd", "off"] = "auto"
    # A zone directory name (``thermal_zone0``) or a zone ``type`` (``cpu-thermal``).
    thermal_zone: str | None = None
    # An explicit file in millidegrees; wins over the zone search.
    path: str | None = None
    # Zone types that mean "the CPU/SoC", in order of preference (Pi, x86, Rockchip/Allwinner...).
    zone_types: tuple[str, ...] = (
        "cpu-thermal",
        "cpu_thermal",
        "soc_thermal",
        "soc-thermal",
        "x86_pkg_temp",
        "cpu0-thermal",
        "cpu0_thermal",
        "k10temp",
    )


class ThrottleSensorConfig(Section):
    """Firmware throttling flags from ``vcgencmd get_throttled`` (Raspberry Pi only)."""

    enabled: bool = True


class BatterySensorConfig(Section):
    """Where the battery level comes from: a kernel power supply or a PiSugar server."""

    source: Literal["sysfs", "pisugar", "off"] = "sysfs"
    # A directory name under /sys/class/power_supply; None picks the first system Battery.
    power_supply: str | None = None


class PiSugarConfig(Section):
    """The pisugar-server text protocol, over TCP or its Unix socket (used when battery.source is
    ``pisugar``)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8423, ge=1, le=65535)
    # e.g. /tmp/pisugar-server.sock; when set it is used instead of host/port.
    socket: str | None = None
    timeout_s: Seconds = 0.5


class SensorsConfig(Section):
    """Every path and command the sensors use, so tests can point them at temporary files."""

    sysfs_root: str = "/sys"
    # The vcgencmd command line (split like a shell would); tests point it at a fake script.
    vcgencmd: str = "vcgencmd"
    command_timeout_s: Seconds = 1.0
    temperature: TemperatureSensorConfig = TemperatureSensorConfig()
    throttle: ThrottleSensorConfig = ThrottleSensorConfig()
    battery: BatterySensorConfig = BatterySensorConfig()
    pisugar: PiSugarConfig = PiSugarConfig()


class StepConfig(Section):
    """One rung of a ladder: the threshold that reaches it and what the pipeline may do there."""

    at: float
    fps: Fps | None = None
    precision: Precision = "int8"
    detect: bool = True


class HeatConfig(Section):
    """The heat ladder, normal → warm → hot → critical, on the SoC temperature in °C."""

    hysteresis: Annotated[float, Field(ge=0)] = 5.0
    warm: StepConfig = StepConfig(at=70.0)
    hot: StepConfig = StepConfig(at=77.0, fps=5.0)
    critical: StepConfig = StepConfig(at=82.0, fps=2.0, detect=False)

    @model_validator(mode="after")
    def _rising(self) -> HeatConfig:
        if not self.warm.at < self.hot.at < self.critical.at:
            raise ValueError("heat thresholds must rise: warm.at < hot.at < critical.at")
        for step in (self.warm, self.hot, self.critical):
            if not -40 <= step.at <= 150:
                raise ValueError(f"heat threshold {step.at} °C is outside -40..150")
        return self


class BatteryConfig(Section):
    """The battery ladder, ok → low → critical, on the charge in percent."""

    hysteresis: Annotated[float, Field(ge=0)] = 5.0
    # While charging: ``ignore`` lifts every battery restriction, ``relax`` lowers each threshold
    # by ``charging_relax_pct`` (a weak charger, e.g. solar, may not keep up), ``none`` changes
    # nothing.
    when_charging: Literal["ignore", "relax", "none"] = "relax"
    charging_relax_pct: Percent = 10.0
    low: StepConfig = StepConfig(at=20.0, fps=5.0)
    critical: StepConfig = StepConfig(at=10.0, fps=2.0, detect=False)

    @model_validator(mode="after")
    def _falling(self) -> BatteryConfig:
        if not self.low.at > self.critical.at:
            raise ValueError("battery thresholds must fall: low.at > critical.at")
        for step in (self.low, self.critical):
            if not 0 <= step.at <= 100:
                raise ValueError(f"battery threshold {step.at} % is outside 0..100")
        return self


class GovernorConfig(Section):
    """Top-level ``governor:`` section."""

    enabled: bool = True
    interval_s: Seconds = 5.0
    dwell_s: Annotated[float, Field(ge=0)] = 30.0
    # What the normal level allows: the ladders only ever restrict from here.  The normal
    # precision is not here: it is ``detector.precision``, the one place a user chooses it.
    normal_fps: Fps | None = None
    sensors: SensorsConfig = SensorsConfig()
    heat: HeatConfig = HeatConfig()
    battery: BatteryConfig = BatteryConfig()
