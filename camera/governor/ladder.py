"""A ladder of levels driven by one reading, with hysteresis and a dwell time.

Up is immediate: when the SoC reaches a threshold, waiting would only let it get hotter.  Down is
earned: the reading must sit below the threshold minus the hysteresis at every poll for
``dwell_s`` seconds.  The hysteresis absorbs sensor noise and the small rebound that comes from
doing less work (a cooler SoC or a lighter battery load reads better the moment the detector
pauses); the dwell absorbs lulls between bursts of motion.  Together they keep a reading that
jitters around a threshold from toggling the pipeline every poll.

An unknown reading asks for the base level, through the same dwell, so one failed read does not
lift a restriction that the previous reading justified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Transition:
    """One level change and the reading that caused it."""

    ladder: str
    old: str
    new: str
    reason: str
    up: bool

    def __str__(self) -> str:
        return f"{self.ladder} {self.old}→{self.new}: {self.reason}"


class Ladder:
    """Ordered levels; ``thresholds[i]`` is where ``levels[i + 1]`` begins.

    ``rising`` ladders (temperature) get worse as the value grows, falling ones (battery charge)
    as it shrinks.  ``offset`` in :meth:`update` shifts every threshold for one poll (the battery
    ladder's "relax while charging").
    """

    def __init__(
        self,
        name: str,
        levels: Sequence[str],
        thresholds: Sequence[float],
        *,
        rising: bool,
        hysteresis: float,
        dwell_s: float,
        label: str,
        unit: str,
    ) -> None:
        if len(levels) != len(thresholds) + 1:
            raise ValueError("a ladder needs exactly one threshold per level above the base")
        self.name = name
        self.levels = tuple(levels)
        self.thresholds = tuple(thresholds)
        self.sign = 1.0 if rising else -1.0
        self.hysteresis = hysteresis
        self.dwell_s = dwell_s
        self.label = label
        self.unit = unit
        self.index = 0
        self._calm_since: float | None = None

    @property
    def level(self) -> str:
        return self.levels[self.index]

    def update(
        self,
        value: float | None,
        now: float,
        *,
        offset: float = 0.0,
        unknown: str = "reading unknown",
        note: str = "",
    ) -> Transition | None:
        """Feed one reading taken at ``now``; returns the transition if the level changed.

        ``unknown`` names why ``value`` is None in the log; ``note`` is appended to reasons.
        """
        reached = self._count(value, offset, margin=0.0)
        if reached > self.index:
            return self._move(reached, self._up_reason(value, reached, offset) + note, up=True)
        held = min(self.index, self._count(value, offset, margin=self.hysteresis))
        if held == self.index:
            self._calm_since = None
            return None
        if self._calm_since is None or now < self._calm_since:  # a replay that restarted
            self._calm_since = now
        calm_for = now - self._calm_since
        if calm_for < self.dwell_s:
            return None
        reason = self._down_reason(value, held, offset, calm_for, unknown) + note
        return self._move(held, reason, up=False)

    def _count(self, value: float | None, offset: float, margin: float) -> int:
        """How many thresholds ``value`` has reached, each first eased by ``margin``."""
        if value is None:
            return 0
        return sum(
            1 for t in self.thresholds if self.sign * value >= self.sign * (t + offset) - margin
        )

    def _move(self, index: int, reason: str, *, up: bool) -> Transition:
        old = self.level
        self.index = index
        self._calm_since = None
        return Transition(self.name, old, self.level, reason, up)

    def _up_reason(self, value: float | None, reached: int, offset: float) -> str:
        threshold = self.thresholds[reached - 1] + offset
        op = "≥" if self.sign > 0 else "≤"
        return f"{self._value(value)} {op} {threshold:.1f}"

    def _down_reason(
        self, value: float | None, held: int, offset: float, calm_for: float, unknown: str
    ) -> str:
        if value is None:
            return f"{unknown} for {calm_for:.0f} s"
        threshold = self.thresholds[held] + offset
        bound = threshold - self.sign * self.hysteresis
        op, pm = ("<", "−") if self.sign > 0 else (">", "+")
        return (
            f"{self._value(value)} {op} {bound:.1f} ({threshold:.1f} {pm} {self.hysteresis:g}) "
            f"for {calm_for:.0f} s"
        )

    def _value(self, value: float | None) -> str:
        return f"{self.label} {value:.1f} {self.unit}"
