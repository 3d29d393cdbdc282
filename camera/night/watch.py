"""The scene's light state - day, dark or infrared - with hysteresis, from frames and metadata.

Each look (``NightConfig.sample_s`` of frame time apart, ``meter.sample``) gives two verdicts,
each with a gap between its entering and leaving level so that a reading hovering at one level
does not flap:

* **dark**: with the camera's lux estimate (picamera2), below ``dark_lux`` until above
  ``day_lux``; without it, the picture's mean brightness below ``dark_luma`` until above
  ``day_luma``.  The lux estimate comes first when there is one: auto-exposure keeps the picture
  bright long after the light has gone, while the ISP knows the gain it took;
* **infrared**: colourfulness below ``infrared_colourfulness`` until above
  ``colour_colourfulness``.  An IR picture is night whatever its brightness (an IR floodlight
  makes it bright).

The state they name (infrared wins over dark) becomes the light state once it has held for
``dwell_s``; the very first look decides at once, so a camera started at night is in its night
values from its first second.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal, TypedDict

from camera.night.config import NightConfig
from camera.night.meter import LightSample, sample
from camera.types import Frame

log = logging.getLogger(__name__)

LightName = Literal["day", "dark", "infrared"]


class LightDict(TypedDict):
    """``LightState.as_dict()``: the ``light`` entry of the stats message."""

    state: LightName
    night: bool
    since: float | None
    luma: float | None
    colourfulness: float | None
    lux: float | None
    exposure_us: float | None
    gain: float | None


@dataclass(frozen=True, slots=True)
class LightState:
    """The light as it counts now, and the look that last confirmed it."""

    state: LightName = "day"
    since: float | None = None
    """Frame time at which this state took effect (None: nothing seen yet)."""
    last: LightSample | None = None

    @property
    def night(self) -> bool:
        return self.state != "day"

    def as_dict(self) -> LightDict:
        last = self.last
        sensor = last.sensor if last is not None else None
        gain = None
        if sensor is not None and sensor.analogue_gain is not None:
            gain = round(sensor.analogue_gain * (sensor.digital_gain or 1.0), 2)
        return LightDict(
            state=self.state,
            night=self.night,
            since=None if self.since is None else round(self.since, 3),
            luma=None if last is None else round(last.luma, 1),
            colourfulness=None
            if last is None or last.colourfulness is None
            else round(last.colourfulness, 4),
            lux=None if sensor is None or sensor.lux is None else round(sensor.lux, 2),
            exposure_us=None if sensor is None else sensor.exposure_us,
            gain=gain,
        )


class NightWatch:
    """Follows the light of one stream of frames (see the module docstring)."""

    def __init__(self, config: NightConfig) -> None:
        self.config = config
        self.current = LightState()
        self._next_look: float | None = None
        self._dark = False
        self._infrared = False
        self._pending: LightName | None = None
        self._pending_since = 0.0

    def reset(self) -> None:
        """A new stream (another recording, a reconnected camera): the next look decides."""
        self.current = LightState()
        self._next_look = None
        self._pending = None

    def observe(self, frame: Frame) -> LightState | None:
        """Look at ``frame`` when a look is due; the new state when it changed, else None."""
        now = frame.timestamp
        due = self._next_look
        if due is not None and due - self.config.sample_s <= now < due:
            return None  # (a clock that went back looks again at once)
        self._next_look = now + self.config.sample_s
        look = sample(frame)
        verdict = self._verdict(look)
        first = self.current.since is None
        if verdict == self.current.state and not first:
            self._pending = None
            self.current = LightState(self.current.state, self.current.since, look)
            return None
        if not first:
            if self._pending != verdict:
                self._pending, self._pending_since = verdict, now
            if now - self._pending_since < self.config.dwell_s:
                self.current = LightState(self.current.state, self.current.since, look)
                return None
        old = self.current.state
        self._pending = None
        self.current = LightState(verdict, now, look)
        log.info("light: %s%s (%s)", "" if first else f"{old} -> ", verdict, _reading(look))
        return self.current

    def _verdict(self, look: LightSample) -> LightName:
        c = self.config
        lux = look.sensor.lux if look.sensor is not None else None
        if lux is not None:
            self._dark = _with_gap(self._dark, lux, enter_below=c.dark_lux, leave_above=c.day_lux)
        else:
            self._dark = _with_gap(
                self._dark, look.luma, enter_below=c.dark_luma, leave_above=c.day_luma
            )
        if look.colourfulness is not None:
            self._infrared = _with_gap(
                self._infrared,
                look.colourfulness,
                enter_below=c.infrared_colourfulness,
                leave_above=c.colour_colourfulness,
            )
        if self._infrared:
            return "infrared"
        return "dark" if self._dark else "day"


def _with_gap(was: bool, value: float, *, enter_below: float, leave_above: float) -> bool:
    """A verdict with hysteresis: on below ``enter_below``, off above ``leave_above``."""
    if value < enter_below:
        return True
    if value > leave_above:
        return False
    return was


def _reading(look: LightSample) -> str:
    parts = [f"brightness {look.luma:.0f}"]
    if look.colourfulness is not None:
        parts.append(f"colourfulness {look.colourfulness:.3f}")
    if look.sensor is not None and look.sensor.lux is not None:
        parts.append(f"{look.sensor.lux:.1f} lux")
    return ", ".join(parts)
