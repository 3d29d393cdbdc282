"""Firmware throttling flags from ``vcgencmd get_throttled`` (``throttled=0x50005``).

Bits 0-3 describe now, bits 16-19 the same conditions since boot.  Under-voltage (bit 0) is a
power problem — a weak supply or a thin cable — that no amount of cooling fixes, so it is reported
as power, never folded into the heat level.  The temperature ladder, not these flags, drives the
heat policy: the flags lag it (the firmware acts at 80 °C, the ladder earlier) and "throttled"
is also set by under-voltage.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from camera.governor.sensors.command import Vcgencmd
from camera.governor.sensors.health import Health

# Separate loggers so a journal filter can route power problems apart from thermal ones.
power_log = logging.getLogger("camera.governor.power")
firmware_log = logging.getLogger("camera.governor.firmware")

_THROTTLED = re.compile(r"throttled=(0x[0-9a-fA-F]+|\d+)")

# bit -> (name, what it means); bit + 16 is the same condition "since boot".
FLAG_BITS: dict[int, tuple[str, str]] = {
    0: ("under_voltage", "under-voltage: the supply voltage sagged"),
    1: ("arm_freq_capped", "ARM frequency capped"),
    2: ("throttled", "throttled"),
    3: ("soft_temp_limit", "soft temperature limit reached"),
}
SINCE_BOOT_SHIFT = 16


@dataclass(frozen=True, slots=True)
class ThrottleFlags:
    """The decoded ``get_throttled`` word."""

    raw: int

    def now(self, bit: int) -> bool:
        return bool(self.raw >> bit & 1)

    def since_boot(self, bit: int) -> bool:
        return bool(self.raw >> (bit + SINCE_BOOT_SHIFT) & 1)

    @property
    def under_voltage(self) -> bool:
        return self.now(0)

    @property
    def under_voltage_since_boot(self) -> bool:
        return self.since_boot(0)

    @property
    def arm_freq_capped(self) -> bool:
        return self.now(1)

    @property
    def throttled(self) -> bool:
        return self.now(2)

    @property
    def soft_temp_limit(self) -> bool:
        return self.now(3)

    @property
    def names(self) -> list[str]:
        """Set flags as names: ``under_voltage``, ``throttled_since_boot``, ..."""
        now = [name for bit, (name, _) in FLAG_BITS.items() if self.now(bit)]
        past = [f"{n}_since_boot" for bit, (n, _) in FLAG_BITS.items() if self.since_boot(bit)]
        return now + past

    @property
    def hex(self) -> str:
        return f"0x{self.raw:x}"


def parse_throttled(text: str) -> ThrottleFlags | None:
    match = _THROTTLED.search(text)
    return ThrottleFlags(int(match.group(1), 0)) if match else None


class ThrottleSensor:
    """Reads the flags through ``vcgencmd``."""

    source = "vcgencmd"

    def __init__(self, command: Vcgencmd) -> None:
        self.command = command
        self.health = Health("throttle flags")

    def read(self) -> ThrottleFlags | None:
        out = self.command.query("get_throttled", self.health)
        if out is None:
            return None
        flags = parse_throttled(out)
        if flags is None:
            self.health.failed(f"unexpected get_throttled output {out.strip()[:60]!r}")
            return None
        self.health.ok()
        return flags


class FlagWatch:
    """Logs each "now" flag once when it appears and once when it clears.

    Under-voltage is logged under ``camera.governor.power`` as a power problem; the other bits
    (``camera.governor.firmware``) are the firmware's own response to heat or to that same sag.
    An under-voltage seen only in the since-boot bits at the first reading is mentioned once, so
    a brown-out during boot is not lost.
    """

    def __init__(self) -> None:
        self._active: set[int] = set()
        self._first = True

    def update(self, flags: ThrottleFlags | None) -> None:
        if flags is None:
            return
        if self._first:
            self._first = False
            if flags.under_voltage_since_boot and not flags.under_voltage:
                power_log.warning(
                    "power: under-voltage has occurred since boot (throttled=%s); check the "
                    "supply and cable",
                    flags.hex,
                )
        for bit, (_, text) in FLAG_BITS.items():
            on = flags.now(bit)
            if on and bit not in self._active:
                self._active.add(bit)
                if bit == 0:
                    power_log.warning(
                        "power: %s (throttled=%s); this is the supply or cable, not heat",
                        text,
                        flags.hex,
                    )
                else:
                    firmware_log.warning("firmware: %s (throttled=%s)", text, flags.hex)
            elif not on and bit in self._active:
                self._active.discard(bit)
                logger, kind = (power_log, "power") if bit == 0 else (firmware_log, "firmware")
                logger.info("%s: %s cleared (throttled=%s)", kind, text.split(":")[0], flags.hex)
