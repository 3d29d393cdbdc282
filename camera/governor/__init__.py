"""Thermal, battery and load governor: trade detail for survival, and restore it on recovery.

A camera in a sunny window or on a battery pack steps its detector down the model ladder (float32
to int8, then a smaller input), lowers its frame rate and, at worst, pauses inference
(motion-only alerts) — then undoes each step when the SoC cools or the battery recovers.  A loop
that cannot keep up with the camera (the load ladder) lowers the frame rate the same way.  The
pipeline calls :meth:`Governor.poll` every frame and applies the returned
:class:`camera.types.Policy`.
"""

from camera.governor.config import (
    BatteryConfig,
    BatterySensorConfig,
    GovernorConfig,
    HeatConfig,
    LoadConfig,
    PiSugarConfig,
    SensorsConfig,
    StepConfig,
    TemperatureSensorConfig,
    ThrottleSensorConfig,
)
from camera.governor.governor import BATTERY_LEVELS, HEAT_LEVELS, LOAD_LEVELS, Governor
from camera.governor.ladder import Ladder, Transition
from camera.governor.sensors import Readings, Sensors, build_sensors

__all__ = [
    "BATTERY_LEVELS",
    "HEAT_LEVELS",
    "LOAD_LEVELS",
    "BatteryConfig",
    "BatterySensorConfig",
    "Governor",
    "GovernorConfig",
    "HeatConfig",
    "Ladder",
    "LoadConfig",
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
