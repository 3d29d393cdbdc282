"""Configuration of the governor: where the sensors are, and what each level of the ladders allows.

The defaults are chosen for a Raspberry Pi 4/5 camera; the Governor page of the manual explains
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
    """``auto`` (sysfs, then vcgencmd), ``sysfs``, ``vcgencmd`` or ``off``."""
    thermal_zone: str | None = None
    """A zone directory name (``thermal_zone0``) or a zone ``type`` (``cpu-thermal``)."""
    path: str | None = None
    """An explicit file in millidegrees; wins over the zone search."""
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
    """Zone types that mean "the CPU/SoC", most preferred first (Pi, x86, Rockchip, ...)."""


class ThrottleSensorConfig(Section):
    """Firmware throttling flags from ``vcgencmd get_throttled`` (Raspberry Pi only)."""

    enabled: bool = True
    """Read ``vcgencmd get_throttled`` (under-voltage and throttling flags)."""


class BatterySensorConfig(Section):
    """Where the battery level comes from: a kernel power supply or a PiSugar server."""

    source: Literal["sysfs", "pisugar", "off"] = "sysfs"
    """``sysfs`` (/sys/class/power_supply), ``pisugar`` or ``off``."""
    power_supply: str | None = None
    """A directory name under /sys/class/power_supply; None picks the first system Battery."""


class PiSugarConfig(Section):
    """The pisugar-server text protocol, over TCP or its Unix socket (used when battery.source is
    ``pisugar``)."""

    host: str = "127.0.0.1"
    """pisugar-server's host."""
    port: int = Field(default=8423, ge=1, le=65535)
    """pisugar-server's TCP text protocol port."""
    socket: str | None = None
    """e.g. /tmp/pisugar-server.sock; when set it is used instead of host/port."""
    timeout_s: Seconds = 0.5
    """For the whole query, so a hung server costs the frame loop at most this."""


class SensorsConfig(Section):
    """Every path and command the sensors use, so tests can point them at temporary files."""

    sysfs_root: str = "/sys"
    """Where thermal zones and power supplies are read from (tests use a fake tree)."""
    vcgencmd: str = "vcgencmd"
    """The vcgencmd command line (split like a shell would); tests point it at a fake script."""
    command_timeout_s: Seconds = 1.0
    """A vcgencmd call never blocks the frame loop longer than this."""
    temperature: TemperatureSensorConfig = TemperatureSensorConfig()
    throttle: ThrottleSensorConfig = ThrottleSensorConfig()
    battery: BatterySensorConfig = BatterySensorConfig()
    pisugar: PiSugarConfig = PiSugarConfig()


class StepConfig(Section):
    """One rung of a ladder: the threshold that reaches it and what the pipeline may do there."""

    at: float
    """The reading that reaches this level: °C on the heat ladder, percent of charge on
    the battery ladder."""
    fps: Fps | None = None
    """Frame rate at this level; null keeps the normal rate."""
    precision: Precision = "int8"
    """Detector precision at this level (``int8`` is a fraction of the compute)."""
    detect: bool = True
    """False pauses the detector: persistent motion alone becomes motion-only events."""


class HeatConfig(Section):
    """The heat ladder, normal → warm → hot → critical, on the SoC temperature in °C.  A level
    is reached at ``at`` and left once the temperature is below ``at - hysteresis`` for
    ``dwell_s``."""

    hysteresis: Annotated[float, Field(ge=0)] = 5.0
    """A level is left once the temperature is below ``at - hysteresis`` for
    ``dwell_s``, so the governor does not flap."""
    warm: StepConfig = StepConfig(at=70.0)
    """int8 first: a fraction of the compute for little accuracy lost."""
    hot: StepConfig = StepConfig(at=77.0, fps=5.0)
    """Fewer frames: fewer inferences per second."""
    critical: StepConfig = StepConfig(at=82.0, fps=2.0, detect=False)
    """The firmware throttles from 80 °C: pause the detector, keep motion-only alerts."""

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
    """A level is left once the charge is above ``at + hysteresis`` for
    ``dwell_s``."""
    when_charging: Literal["ignore", "relax", "none"] = "relax"
    """While charging: ``ignore`` lifts every battery restriction, ``relax`` lowers each threshold
    by ``charging_relax_pct`` (a weak charger, e.g. solar, may not keep up), ``none`` changes
    nothing."""
    charging_relax_pct: Percent = 10.0
    """Percentage points the thresholds drop by while charging, with ``when_charging: relax``."""
    low: StepConfig = StepConfig(at=20.0, fps=5.0)
    """Reached at or below ``at`` percent: fewer frames."""
    critical: StepConfig = StepConfig(at=10.0, fps=2.0, detect=False)
    """Pause the detector, keep motion-only alerts."""

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
    """False: never read sensors, never restrict."""
    interval_s: Seconds = 5.0
    """Seconds of the frame clock between two sensor reads."""
    dwell_s: Annotated[float, Field(ge=0)] = 30.0
    """A lower level must be justified at every read for this long before the governor
    steps down to it (stepping up to a stricter level is immediate)."""
    normal_fps: Fps | None = None
    """What the normal level allows: the ladders only ever restrict from here.  The normal
    precision is not here: it is ``detector.precision``, the one place a user chooses it."""
    sensors: SensorsConfig = SensorsConfig()
    heat: HeatConfig = HeatConfig()
    battery: BatteryConfig = BatteryConfig()
