"""What each level allows, and how the ladders combine into one ``Policy``.

Restrictiveness, from most to least: detection off > a lower frame rate > a cheaper model >
fewer clips.
Pausing the detector removes nearly all of the CPU load, a lower frame rate removes a share of it,
a cheaper model (int8, then a smaller input) mostly costs a little accuracy.  The ladders are
honoured field by field — the lowest frame rate, the cheapest model any of them asks for,
detection only if all allow it — so none can undo another's restriction; the level *named* in the
policy is the most restrictive one by the order above.
Clips follow the same rule: paused if any ladder pauses them, else reduced if any reduces them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from camera.governor.config import StepConfig
from camera.types import CLIP_MODES, ClipMode, GovernorReadings, ModelVariant, Policy


@dataclass(frozen=True, slots=True)
class Allowance:
    """What the pipeline may do at one level; ``model_step`` counts rungs down the model ladder."""

    fps: float | None
    model_step: int
    detect: bool
    clips: ClipMode = "full"

    @classmethod
    def of(cls, step: StepConfig) -> Allowance:
        return cls(step.fps, step.model_step, step.detect, step.clips)

    def severity(self) -> tuple[bool, float, int, int]:
        """Sort key: larger is more restrictive (detect off, lower fps, cheaper model, fewer
        clips)."""
        fps = math.inf if self.fps is None else self.fps
        return (not self.detect, -fps, self.model_step, CLIP_MODES.index(self.clips))


def merge(*allowances: Allowance) -> Allowance:
    """The field-by-field most restrictive of ``allowances``."""
    rates = [a.fps for a in allowances if a.fps is not None]
    return Allowance(
        fps=min(rates) if rates else None,
        model_step=max((a.model_step for a in allowances), default=0),
        detect=all(a.detect for a in allowances),
        clips=max((a.clips for a in allowances), key=CLIP_MODES.index),
    )


@dataclass(frozen=True, slots=True)
class Standing:
    """One ladder's current level and its allowance; ``base`` when nothing is restricted."""

    ladder: str
    level: str
    allowance: Allowance
    base: bool


def compose(
    base: Allowance,
    standings: tuple[Standing, ...],
    reason: str,
    readings: GovernorReadings | None,
    models: Sequence[ModelVariant] = (),
) -> Policy:
    """The policy for the current levels; ``level`` is ``normal`` or ``<ladder>-<level>``.

    ``models`` is the device's model ladder (normal variant first); a step past its end stays on
    the cheapest rung.  Without models the policy names none.  A rung that runs on the camera's
    sensor (the AI Camera) is never paused.
    """
    active = [s for s in standings if not s.base]
    allowed = merge(base, *(s.allowance for s in active))
    # max() keeps the first of equals, so the first ladder listed (heat) names a tie.
    worst = max(active, key=lambda s: s.allowance.severity(), default=None)
    level = "normal" if worst is None else f"{worst.ladder}-{worst.level}"
    model = models[min(allowed.model_step, len(models) - 1)] if models else None
    # A network on the camera's sensor costs the Pi nothing: pausing it would only blind the
    # camera, so such a rung keeps detecting at every level (the frame rate still drops).
    free = model is not None and model.cost == "sensor"
    return Policy(
        level=level,
        fps=allowed.fps,
        precision=model.precision if model else None,
        detect=allowed.detect or free,
        clips=allowed.clips,
        reason=reason,
        readings=readings,
        variant=model.name if model else None,
    )
