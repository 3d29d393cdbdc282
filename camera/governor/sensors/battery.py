"""Battery charge from the kernel's ``/sys/class/power_supply/<name>/{capacity,status}``.

Only supplies of ``type`` Battery count, and of those only the ones that power the system: a
wireless mouse or a phone plugged into USB also shows up as a Battery, with ``scope`` Device.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from camera.files import UnusableFile
from camera.governor.sensors.health import Health
from camera.governor.sensors.sysfs import read_value

# status -> on external power?  "Not charging" is a charger present but holding (full, or a
# charge threshold): still not running down the battery.
_CHARGING_STATUS = {
    "charging": True,
    "full": True,
    "not charging": True,
    "discharging": False,
}


@dataclass(frozen=True, slots=True)
class BatteryReading:
    """Charge in percent, and whether external power is feeding it (None when not reported)."""

    percent: float
    charging: bool | None


class BatterySensor(Protocol):
    health: Health

    @property
    def source(self) -> str: ...

    def read(self) -> BatteryReading | None: ...


class SysfsBattery:
    """A kernel power supply of type Battery."""

    def __init__(self, sysfs_root: str, name: str | None = None) -> None:
        self.base = Path(sysfs_root) / "class" / "power_supply"
        self.name = name
        self.health = Health("battery (sysfs)")
        self._dir: Path | None = None

    @property
    def source(self) -> str:
        return f"sysfs:{self._dir}" if self._dir else "sysfs"

    def read(self) -> BatteryReading | None:
        if self._dir is None:
            self._dir = self._locate()
            if self._dir is None:
                return None
        try:
            capacity = read_value(self._dir / "capacity")
        except UnusableFile as problem:
            self.health.failed(f"{self._dir}/capacity: {problem}")
            self._dir = None
            return None
        try:
            percent = float(capacity)
        except ValueError:
            self.health.failed(f"{self._dir}/capacity: not a number: {capacity[:40]!r}")
            return None
        if not 0.0 <= percent <= 100.0:
            self.health.failed(f"{self._dir}/capacity: implausible {percent:g} %")
            return None
        status = _read(self._dir / "status").lower()
        self.health.ok()
        return BatteryReading(percent, _CHARGING_STATUS.get(status))

    def _locate(self) -> Path | None:
        if self.name is not None:
            wanted = self.base / self.name
            if not (wanted / "capacity").exists():
                self.health.failed(f"power supply {self.name!r} has no capacity under {self.base}")
                return None
            return wanted
        for supply in sorted(self.base.glob("*")):
            if _read(supply / "type") != "Battery":
                continue
            if _read(supply / "scope") == "Device":  # a peripheral's battery, not ours
                continue
            if (supply / "capacity").exists():
                return supply
        self.health.absent(f"no system Battery under {self.base}")
        return None


def _read(path: Path) -> str:
    try:
        return read_value(path)
    except UnusableFile:
        return ""
