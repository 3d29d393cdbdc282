"""Configuration of the governor: where the sensors are, and what each level of the ladders allows.

The defaults are chosen for a Raspberry Pi 4/5 camera; the Governor page of the manual explains
each of them.
Everything a test needs to redirect (the sysfs root, the ``vcgencmd`` command, the PiSugar
address) is here, so sensors never hard-code a path.
"""

from __future__ import annotations

import shlex
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from camera.section import Section
from camera.types import ClipMode

Fps = Annotated[float, Field(gt=0, le=120)]
Seconds = Annotated[float, Field(gt=0, le=3600)]
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
    timeout_s: Annotated[float, Field(gt=0, le=5)] = 0.5
    """For the whole query, so a hung server costs the frame loop at most this."""


class SensorsConfig(Section):
    """Every path and command the sensors use, so tests can point them at temporary files."""

    sysfs_root: str = "/sys"
    """Where thermal zones and power supplies are read from (tests use a fake tree)."""
    vcgencmd: str = "vcgencmd"
    """The vcgencmd command line (split like a shell would); tests point it at a fake script."""
    command_timeout_s: Annotated[float, Field(gt=0, le=5)] = 1.0
    """A vcgencmd call never blocks the frame loop longer than this (it is killed, with
    whatever it started)."""
    temperature: TemperatureSensorConfig = TemperatureSensorConfig()
    throttle: ThrottleSensorConfig = ThrottleSensorConfig()
    battery: BatterySensorConfig = BatterySensorConfig()
    pisugar: PiSugarConfig = PiSugarConfig()

    @field_validator("sysfs_root")
    @classmethod
    def _root(cls, root: str) -> str:
        if not root:
            raise ValueError("is empty; leave it out for /sys")
        return root

    @field_validator("vcgencmd")
    @classmethod
    def _splits(cls, command: str) -> str:
        try:
            shlex.split(command)
        except ValueError as error:  # "No closing quotation", "No escaped character"
            raise ValueError(f"cannot be split like a shell would: {error}") from None
        return command


class StepConfig(Section):
    """One rung of a ladder: the threshold that reaches it and what the pipeline may do there."""

    at: float = Field(allow_inf_nan=False)
    """The reading that reaches this level: °C on the heat ladder, percent of charge on
    the battery ladder, percent of loop load on the load ladder."""
    fps: Fps | None = None
    """Frame rate at this level; null keeps the normal rate."""
    model_step: int = Field(default=0, ge=0, le=4)
    """How many rungs down the device's model ladder (``ronda models`` shows it): 0 keeps the
    normal variant, 1 the next cheaper one, 2 the one after; past the cheapest it stays there.
    With the shipped models (PP-PicoDet-S float32, no int8: models/README.md) the ladder is
    416 -> 320 px; a manifest with an int8 twin that pays would put it between them."""
    detect: bool = True
    """False pauses the detector: persistent motion alone becomes motion-only events."""
    clips: ClipMode = "full"
    """Event clips at this level: ``full``, ``reduced`` (at ``clips.reduced_fps``) or
    ``paused``."""

    @model_validator(mode="before")
    @classmethod
    def _no_precision(cls, data: Any) -> Any:
        if isinstance(data, dict) and "precision" in data:
            raise ValueError(
                "a governor level's `precision` was replaced by `model_step` (rungs down the "
                "device's model ladder): write `model_step: 1` where you had `precision: int8`, "
                "`model_step: 0` for float32"
            )
        return data


class HeatConfig(Section):
    """The heat ladder, normal → warm → hot → critical, on the SoC temperature in °C.  A level
    is reached at ``at`` and left once the temperature is below ``at - hysteresis`` for
    ``dwell_s``."""

    hysteresis: Annotated[float, Field(ge=0, le=50)] = 5.0
    """A level is left once the temperature is below ``at - hysteresis`` for
    ``dwell_s``, so the governor does not flap."""
    warm: StepConfig = StepConfig(at=70.0, model_step=1)
    """One model rung down first (today 416 -> 320 px: PP-PicoDet-S 320 does 0.6x the
    arithmetic and found as many person frames in the survey, docs/models.md)."""
    hot: StepConfig = StepConfig(at=77.0, fps=5.0, model_step=1)
    """Fewer frames: half the inferences, on the first rung's model (the cheapest of today's
    two rungs), so heat is shed by frames rather than by detail."""
    critical: StepConfig = StepConfig(at=82.0, fps=2.0, model_step=2, detect=False, clips="reduced")
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

    hysteresis: Annotated[float, Field(ge=0, le=50)] = 5.0
    """A level is left once the charge is above ``at + hysteresis`` for
    ``dwell_s``."""
    when_charging: Literal["ignore", "relax", "none"] = "relax"
    """While charging: ``ignore`` lifts every battery restriction, ``relax`` lowers each threshold
    by ``charging_relax_pct`` (a weak charger, e.g. solar, may not keep up), ``none`` changes
    nothing."""
    charging_relax_pct: Percent = 10.0
    """Percentage points the thresholds drop by while charging, with ``when_charging: relax``."""
    low: StepConfig = StepConfig(at=20.0, fps=5.0, model_step=1)
    """Reached at or below ``at`` percent: fewer frames and the first cheaper rung."""
    critical: StepConfig = StepConfig(at=10.0, fps=2.0, model_step=2, detect=False, clips="reduced")
    """Pause the detector, keep motion-only alerts."""

    @model_validator(mode="after")
    def _falling(self) -> BatteryConfig:
        if not self.low.at > self.critical.at:
            raise ValueError("battery thresholds must fall: low.at > critical.at")
        for step in (self.low, self.critical):
            if not 0 <= step.at <= 100:
                raise ValueError(f"battery threshold {step.at} % is outside 0..100")
        return self


class LoadConfig(Section):
    """The load ladder, normal → busy → overloaded, on the loop's load in percent.

    The load is the time the pipeline needs per processed frame times the source's full frame
    rate: 100 % means the loop needs every frame period it gets, 200 % means it would need two.
    It is measured at the full rate whatever the level, so the frame rate this ladder lowers does
    not lower its own reading (which would make it flap).  Only for live sources and realtime
    replays; a replay as fast as the CPU allows has no load.
    """

    enabled: bool = True
    """False: never lower the frame rate for load (stale frames are still dropped)."""
    hysteresis: Annotated[float, Field(ge=0, le=1000)] = 30.0
    """Percentage points below a threshold the load must fall (for ``dwell_s``) to leave it."""
    busy: StepConfig = StepConfig(at=100.0, fps=5.0)
    """The loop cannot keep up with every frame: process 5 a second, evenly spaced."""
    overloaded: StepConfig = StepConfig(at=200.0, fps=2.0)
    """It could not keep up with half of them either."""

    @model_validator(mode="after")
    def _rising(self) -> LoadConfig:
        if not 0 < self.busy.at < self.overloaded.at <= 100_000:
            raise ValueError("load thresholds must rise: 0 < busy.at < overloaded.at")
        return self


class GovernorConfig(Section):
    """Top-level ``governor:`` section."""

    enabled: bool = True
    """False: never read sensors, never restrict."""
    interval_s: Seconds = 5.0
    """Seconds of the frame clock between two sensor reads."""
    dwell_s: Annotated[float, Field(ge=0, le=86_400)] = 30.0
    """A lower level must be justified at every read for this long before the governor
    steps down to it (stepping up to a stricter level is immediate)."""
    normal_fps: Fps | None = None
    """What the normal level allows: the ladders only ever restrict from here.  The normal
    model is not here: it is ``detector.variant`` (``auto`` picks it for this device)."""
    sensors: SensorsConfig = SensorsConfig()
    heat: HeatConfig = HeatConfig()
    battery: BatteryConfig = BatteryConfig()
    load: LoadConfig = LoadConfig()
    """The load ladder: a frame loop that cannot keep up lowers the frame rate."""

    def deepest_model_step(self) -> int:
        """The most rungs down the model ladder any level asks for: the detector loads no
        variant below that (each costs memory), and none at all below the normal one when the
        governor is off."""
        if not self.enabled:
            return 0
        # A level that pauses the detector runs no model, whatever its model_step says.
        steps = (
            self.heat.warm,
            self.heat.hot,
            self.heat.critical,
            self.battery.low,
            self.battery.critical,
            self.load.busy,
            self.load.overloaded,
        )
        return max((step.model_step for step in steps if step.detect), default=0)
