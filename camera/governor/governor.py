"""The governor: poll the sensors and the loop's load on the pipeline's clock, and turn the
levels of the heat, battery and load ladders into a ``Policy``.

The pipeline calls :meth:`Governor.poll` with every frame's timestamp.  Between sensor reads that
is one comparison, so it costs nothing per frame; every ``interval_s`` of that clock it reads the
sensors (a few file reads, and one ``vcgencmd`` process for the throttle flags on a Pi) and
updates the ladders.  Using the frame clock rather than the wall clock makes a replay with fake
sensors deterministic.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TypedDict

from camera.governor.config import GovernorConfig, StepConfig
from camera.governor.ladder import Ladder, Transition
from camera.governor.load import LoadMeter
from camera.governor.policy import Allowance, Standing, compose
from camera.governor.sensors import Readings, Sensors, build_sensors
from camera.governor.sensors.throttle import FlagWatch
from camera.types import GovernorReadings, ModelVariant, Policy, PolicyDict

log = logging.getLogger("camera.governor")

HEAT_LEVELS = ("normal", "warm", "hot", "critical")
BATTERY_LEVELS = ("ok", "low", "critical")
LOAD_LEVELS = ("normal", "busy", "overloaded")


def _ladder(
    name: str,
    levels: Sequence[str],
    steps: Sequence[StepConfig],
    *,
    rising: bool,
    hysteresis: float,
    dwell_s: float,
    label: str,
    unit: str,
) -> tuple[Ladder, tuple[Allowance, ...]]:
    """A ladder whose levels above the base begin at each step's ``at``, with what each of
    those levels allows."""
    ladder = Ladder(
        name,
        levels,
        [s.at for s in steps],
        rising=rising,
        hysteresis=hysteresis,
        dwell_s=dwell_s,
        label=label,
        unit=unit,
    )
    return ladder, tuple(Allowance.of(s) for s in steps)


class GovernorSnapshot(TypedDict):
    """``Governor.snapshot()``: the governor's state in the stats message, ``ronda status`` and
    ``ronda doctor``."""

    enabled: bool
    level: str
    heat_level: str
    battery_level: str
    load_level: str
    policy: PolicyDict
    readings: GovernorReadings
    flags: list[str]
    sensors: dict[str, str]
    last_poll: float | None
    changed_at: float | None
    changes: int


class Governor:
    """Decides the pipeline's ``Policy`` from SoC temperature, battery charge and loop load."""

    def __init__(
        self,
        config: GovernorConfig,
        sensors: Sensors | None = None,
        *,
        models: Sequence[ModelVariant] = (),
    ) -> None:
        """``models`` is the device's model ladder, normal variant first (the ceiling at rest);
        each level's ``model_step`` counts down it."""
        self.config = config
        self.sensors = sensors if sensors is not None else build_sensors(config.sensors)
        self.models = tuple(models)
        heat, battery, load, dwell_s = config.heat, config.battery, config.load, config.dwell_s
        self.heat, self._heat_allow = _ladder(
            "heat",
            HEAT_LEVELS,
            (heat.warm, heat.hot, heat.critical),
            rising=True,
            hysteresis=heat.hysteresis,
            dwell_s=dwell_s,
            label="SoC",
            unit="°C",
        )
        self.battery, self._battery_allow = _ladder(
            "battery",
            BATTERY_LEVELS,
            (battery.low, battery.critical),
            rising=False,
            hysteresis=battery.hysteresis,
            dwell_s=dwell_s,
            label="battery",
            unit="%",
        )
        self.load, self._load_allow = _ladder(
            "load",
            LOAD_LEVELS,
            (load.busy, load.overloaded),
            rising=True,
            hysteresis=load.hysteresis,
            dwell_s=dwell_s,
            label="loop load",
            unit="%",
        )
        self.load_meter = LoadMeter()
        """The pipeline reports each processed frame's time here (see ``camera.governor.load``)."""
        self._load_pct: float | None = None
        self._base = Allowance(config.normal_fps, 0, True)
        self._flags = FlagWatch()
        self._readings = Readings()
        self._interval = config.interval_s
        # The span [_read_at, _next_due) in which the last reading still holds; empty at start.
        self._read_at = math.inf
        self._next_due = -math.inf
        self._changed_at: float | None = None
        self._changes = 0
        reason = "start" if config.enabled else "governor disabled"
        self._policy = compose(self._base, (), reason, None, self.models)

    @property
    def policy(self) -> Policy:
        return self._policy

    def poll(self, now: float) -> Policy:
        """The policy in force at ``now`` (seconds on the pipeline's clock).

        Sensors are read at the first call, then whenever ``interval_s`` has passed, and at once
        if the clock went backwards (a replay started over).
        """
        if self._read_at <= now < self._next_due or not self.config.enabled:
            return self._policy
        self._read_at = now
        self._next_due = now + self._interval
        self._readings = self.sensors.read()
        self._flags.update(self._readings.throttle)
        self._load_pct = self.load_meter.take()
        steps = (self._step_heat(now), self._step_battery(now), self._step_load(now))
        changes = [c for c in steps if c is not None]
        for change in changes:
            log.log(logging.WARNING if change.up else logging.INFO, "%s", change)
        if changes:
            self._changes += len(changes)
            self._changed_at = now
            reason = "; ".join(str(c) for c in changes)
        else:
            reason = self._policy.reason
        self._policy = compose(
            self._base, self._standings(), reason, self.readings_dict(), self.models
        )
        return self._policy

    def readings_dict(self) -> GovernorReadings:
        """The sensor readings and the loop load, as published."""
        load = None if self._load_pct is None else round(self._load_pct, 1)
        return GovernorReadings(**self._readings.as_dict(), load_pct=load)

    def _step_heat(self, now: float) -> Transition | None:
        return self.heat.update(self._readings.soc_temp_c, now, unknown="SoC temperature unknown")

    def _step_battery(self, now: float) -> Transition | None:
        config = self.config.battery
        battery = self._readings.battery
        if battery is None:
            return self.battery.update(None, now, unknown="battery unknown")
        if battery.charging and config.when_charging == "ignore":
            return self.battery.update(None, now, unknown="charging (when_charging: ignore)")
        if battery.charging and config.when_charging == "relax":
            relax = config.charging_relax_pct
            note = f" (charging: thresholds relaxed by {relax:g})"
            return self.battery.update(battery.percent, now, offset=-relax, note=note)
        return self.battery.update(battery.percent, now)

    def _step_load(self, now: float) -> Transition | None:
        if not self.config.load.enabled:
            return self.load.update(None, now, unknown="load ladder disabled")
        return self.load.update(self._load_pct, now, unknown="no load reading (no frames)")

    def _standings(self) -> tuple[Standing, ...]:
        return tuple(
            Standing(
                ladder.name,
                ladder.level,
                allowances[ladder.index - 1] if ladder.index else self._base,
                ladder.index == 0,
            )
            for ladder, allowances in (
                (self.heat, self._heat_allow),
                (self.battery, self._battery_allow),
                (self.load, self._load_allow),
            )
        )

    @property
    def readings(self) -> Readings:
        """The last poll of every sensor."""
        return self._readings

    def snapshot(self) -> GovernorSnapshot:
        """JSON-serialisable state for the MQTT stats message and ``ronda status``/``doctor``."""
        policy = self._policy
        flags = self._readings.throttle
        return GovernorSnapshot(
            {
                "enabled": self.config.enabled,
                "level": policy.level,
                "heat_level": self.heat.level,
                "battery_level": self.battery.level,
                "load_level": self.load.level,
                "policy": policy.as_dict(),
                "readings": self.readings_dict(),
                "flags": [] if flags is None else flags.names,
                "sensors": self.sensors.status(),
                "last_poll": None if self._read_at == math.inf else self._read_at,
                "changed_at": self._changed_at,
                "changes": self._changes,
            }
        )
