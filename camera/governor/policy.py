"""What each level allows, and how the heat and battery ladders combine into one ``Policy``.

Restrictiveness, from most to least: detection off > a lower frame rate > int8.  Pausing the
detector removes nearly all of the CPU load, a lower frame rate removes a share of it, int8 mostly
costs a little accuracy.  Both ladders are honoured field by field — the lowest frame rate, int8
if either asks, detection only if both allow it — so neither can undo the other's restriction;
the level *named* in the policy is the more restrictive of the two by the order above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from camera.governor.config import StepConfig
from camera.types import Policy, Precision


@dataclass(frozen=True, slots=True)
class Allowance:
    """What the pipeline may do at one level."""

    fps: float | None
    precision: Precision
    detect: bool

    @classmethod
    def of(cls, step: StepConfig) -> Allowance:
        return cls(step.fps, step.precision, step.detect)

    def severity(self) -> tuple[bool, float, bool]:
        """Sort key: larger is more restrictive (detect off, then lower fps, then int8)."""
        fps = math.inf if self.fps is None else self.fps
        return (not self.detect, -fps, self.precision == "int8")


def merge(*allowances: Allowance) -> Allowance:
    """The field-by-field most restrictive of ``allowances``."""
    rates = [a.fps for a in allowances if a.fps is not None]
    return Allowance(
        fps=min(rates) if rates else None,
        precision="int8" if any(a.precision == "int8" for a in allowances) else "float32",
        detect=all(a.detect for a in allowances),
    )


@dataclass(frozen=True, slots=True)
class Standing:
    """One ladder's current level and its allowance; ``base`` when nothing is restricted."""

    ladder: str
    level: str
    allowance: Allowance
    base: bool


def compose(
    base: Allowance, standings: tuple[Standing, ...], reason: str, readings: dict[str, object]
) -> Policy:
    """The policy for the current levels; ``level`` is ``normal`` or ``<ladder>-<level>``."""
    active = [s for s in standings if not s.base]
    allowed = merge(base, *(s.allowance for s in active))
    # max() keeps the first of equals, so heat (listed first) names a tie.
    worst = max(active, key=lambda s: s.allowance.severity(), default=None)
    level = "normal" if worst is None else f"{worst.ladder}-{worst.level}"
    return Policy(
        level=level,
        fps=allowed.fps,
        precision=allowed.precision,
        detect=allowed.detect,
        reason=reason,
        readings=readings,
    )
