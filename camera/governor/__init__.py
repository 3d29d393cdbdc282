"""Thermal and battery governor: trade detail for survival, and restore it on recovery.

A camera in a sunny window or on a battery pack lowers its frame rate, switches the detector to
int8 and, at worst, pauses inference (motion-only alerts) — then undoes each step when the SoC
cools or the battery recovers.  The pipeline calls :meth:`Governor.poll` every frame and applies
the returned :class:`camera.types.Policy`.
"""

from camera.governor.config import (
    BatteryConfig,
    BatterySensorConfig,
    GovernorConfig,
    HeatConfig,
    PiSugarConfig,
    SensorsConfig,
    StepConfig,
    TemperatureSensorConfig,
    ThrottleSensorConfig,
)
from camera.governor.governor import BATTERY_LEVELS, HEAT_LEVELS, Governor
from camera.governor.ladder import Ladder, Transition
from camera.governor.sensors import Readings, Sensors, build_sensors

__all__ = [
    "BATTERY_LEVELS",
    "HEAT_LEVELS",
    "BatteryConfig",
    "BatterySensorConfig",
    "Governor",
    "GovernorConfig",
    "HeatConfig",
    "Ladder",
    "PiSugarConfig",
    "Readings",
    "Sensors",
    "SensorsConfig",
    "StepConfig",
    "TemperatureSensorConfig",
    "ThrottleSensorConfig",
    "Transition",
    "build_sensors",
]
