"""SoC temperature in °C, from a sysfs thermal zone or from ``vcgencmd measure_temp``.

sysfs is preferred: reading a file costs microseconds, while ``vcgencmd`` forks a process.  The
zone is picked by its ``type`` because zone numbers differ between boards and kernels (on a PC
zone 0 is often the ACPI board sensor, not the CPU).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from camera.files import UnusableFile
from camera.governor.sensors.command import Vcgencmd
from camera.governor.sensors.health import Health
from camera.governor.sensors.sysfs import read_value

# Outside this range a reading is a driver error (e.g. -1 or a disconnected probe), not weather.
PLAUSIBLE_C = (-40.0, 150.0)
_VCGENCMD_TEMP = re.compile(r"temp=(-?\d+(?:\.\d+)?)'C")


class TemperatureSensor(Protocol):
    health: Health

    @property
    def source(self) -> str: ...

    def read(self) -> float | None:
        """Degrees Celsius, or None when unknown."""
        ...


def _zone_number(path: Path) -> int:
    digits = path.name.removeprefix("thermal_zone")
    return int(digits) if digits.isdigit() else 1 << 30


class SysfsThermal:
    """A thermal zone's ``temp`` file (millidegrees Celsius)."""

    def __init__(
        self,
        sysfs_root: str,
        *,
        zone: str | None = None,
        path: str | None = None,
        zone_types: Sequence[str] = (),
    ) -> None:
        self.base = Path(sysfs_root) / "class" / "thermal"
        self.zone = zone
        self.explicit = Path(path) if path else None
        self.zone_types = tuple(zone_types)
        self.health = Health("SoC temperature (sysfs)")
        self._file: Path | None = None

    @property
    def source(self) -> str:
        return f"sysfs:{self._file}" if self._file else "sysfs"

    def read(self) -> float | None:
        if self._file is None:
            self._file = self._locate()
            if self._file is None:
                return None
        try:
            text = read_value(self._file)
        except UnusableFile as problem:
            self.health.failed(f"{self._file}: {problem}")
            self._file = None  # the zone may come back under another number after a reload
            return None
        try:
            celsius = int(text) / 1000.0
        except ValueError:
            self.health.failed(f"{self._file}: not millidegrees: {text[:40]!r}")
            return None
        if not PLAUSIBLE_C[0] <= celsius <= PLAUSIBLE_C[1]:
            self.health.failed(f"{self._file}: implausible {celsius:.1f} °C")
            return None
        self.health.ok()
        return celsius

    def _locate(self) -> Path | None:
        if self.explicit is not None:
            return self.explicit
        zones = sorted(self.base.glob("thermal_zone*"), key=_zone_number)
        if not zones:
            self.health.absent(f"no thermal zones under {self.base}")
            return None
        types = {zone: _read_type(zone) for zone in zones}
        if self.zone is not None:
            chosen = [z for z in zones if self.zone in (z.name, types[z])]
            if not chosen:
                self.health.failed(f"thermal zone {self.zone!r} not found under {self.base}")
                return None
            return chosen[0] / "temp"
        for wanted in self.zone_types:
            for zone in zones:
                if types[zone] == wanted:
                    return zone / "temp"
        for zone in zones:  # an unlisted SoC, e.g. "cpu-big0-thermal" or "soc-top-thermal"
            if any(word in types[zone] for word in ("cpu", "soc")):
                return zone / "temp"
        found = ", ".join(f"{z.name}={types[z] or '?'}" for z in zones)
        self.health.absent(f"no CPU thermal zone among {found}; set thermal_zone")
        return None


def _read_type(zone: Path) -> str:
    try:
        return read_value(zone / "type")
    except UnusableFile:
        return ""


class VcgencmdThermal:
    """``vcgencmd measure_temp`` → ``temp=48.3'C``: the firmware's own reading on a Pi."""

    def __init__(self, command: Vcgencmd) -> None:
        self.command = command
        self.health = Health("SoC temperature (vcgencmd)")

    @property
    def source(self) -> str:
        return "vcgencmd"

    def read(self) -> float | None:
        out = self.command.query("measure_temp", self.health)
        if out is None:
            return None
        match = _VCGENCMD_TEMP.search(out)
        if match is None:
            self.health.failed(f"unexpected measure_temp output {out.strip()[:60]!r}")
            return None
        self.health.ok()
        return float(match.group(1))


class FirstThermal:
    """The first sensor that answers; ``auto`` mode tries sysfs, then vcgencmd.

    A fallback's absence is only worth logging if every sensor is absent, so this wraps them in
    its own ``Health`` and the governor reports that one.
    """

    def __init__(self, sensors: Sequence[TemperatureSensor]) -> None:
        self.sensors = tuple(sensors)
        for sensor in self.sensors:
            sensor.health.reported = False
        self.health = Health("SoC temperature")
        self._source = "none"

    @property
    def source(self) -> str:
        return self._source

    def read(self) -> float | None:
        for sensor in self.sensors:
            value = sensor.read()
            if value is not None:
                self._source = sensor.source
                self.health.ok()
                return value
        self._source = "none"
        problems = "; ".join(f"{s.source}: {s.health.problem}" for s in self.sensors)
        if all(s.health.missing for s in self.sensors):
            self.health.absent(problems)
        else:
            self.health.failed(problems)
        return None
