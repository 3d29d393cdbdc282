"""Which model variant this device runs, and which cheaper ones the governor may step down to.

Two inputs: the manifest's variants and how long one inference of each takes *here* (measured at
start and cached, see ``camera.detect.timing``).  Two answers:

- the **normal** variant: the configured one when ``detector.variant`` names it, otherwise
  (``auto``) the most accurate variant whose latency fits ``detector.budget_ms``, or the fastest
  when none fits; on a device with less than 1 GB of memory (RAM or cgroup limit) among the
  int8 variants only (``camera.detect.memory``);
- the **ladder**: the normal variant, then repeatedly the most accurate variant that is both less
  accurate and clearly cheaper (at least ``MIN_SAVING``) than the rung above.  On a Pi where int8
  pays this is float32 416 -> int8 416 -> int8 320; on a CPU where int8 is no faster (an x86
  without VNNI) precision is skipped and the ladder steps down in input size instead, because a
  rung that saves nothing would only cost accuracy.

Accuracy order: a larger input first (it sees smaller, farther people), then float32 before int8
at the same size.  ``bench/detector.py`` measures both effects on the footage; int8 is kept
within about a point of float32 there, so the order never inverts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from camera.detect.errors import ModelError
from camera.detect.manifest import ModelSpec
from camera.detect.memory import SMALL_MEMORY_BYTES

AUTO = "auto"
REPLACED = {
    "nanodet-g416-float32": "picodet-s416-float32",
    "nanodet-g416-int8": "picodet-s416-int8",
    "nanodet-g320-float32": "picodet-s320-float32",
    "nanodet-g320-int8": "picodet-s320-int8",
}
"""Variants an old configuration may pin, and what it should pin now (issue 26's survey)."""
MIN_SAVING = 0.10
"""A cheaper rung must cut the measured latency by at least this share, or it is no rung."""


def replacement(variant: str, names: Sequence[str]) -> str | None:
    """What an old configuration pinning ``variant`` should pin now among ``names``: its
    successor, or the successor's float32 twin when only float32 ships at that size."""
    successor = REPLACED.get(variant)
    if successor is None:
        return None
    for name in (successor, successor.replace("-int8", "-float32")):
        if name in names:
            return name
    return None


def accuracy_key(spec: ModelSpec) -> tuple[int, bool]:
    """Sort key, larger is more accurate: input size, then float32 over int8."""
    return (spec.input_size, spec.precision == "float32")


def by_accuracy(specs: Sequence[ModelSpec]) -> list[ModelSpec]:
    """``specs`` from most to least accurate (stable for equal keys: manifest order)."""
    return sorted(specs, key=accuracy_key, reverse=True)


@dataclass(frozen=True, slots=True)
class Selection:
    """The outcome: the normal variant, the ladder below it, and why."""

    normal: ModelSpec
    ladder: tuple[ModelSpec, ...]
    """``ladder[0]`` is ``normal``; each next rung is cheaper and less accurate."""
    reason: str
    timings_ms: dict[str, float]
    budget_ms: float
    pinned: bool


def select(
    specs: Sequence[ModelSpec],
    timings_ms: Mapping[str, float],
    variant: str,
    budget_ms: float,
    memory_bytes: int | None = None,
) -> Selection:
    """Choose the normal variant (pinned by name, or ``auto``) and build the ladder below it.

    ``memory_bytes`` (``camera.detect.memory``): below ``SMALL_MEMORY_BYTES`` ``auto`` and the
    ladder use int8 variants only (a pinned float32 variant still runs).

    Raises ModelError for a pinned name the manifest does not list, or a variant without timing.
    """
    missing = [s.name for s in specs if s.name not in timings_ms]
    if missing:
        raise ModelError(f"no latency measured for model variant(s) {', '.join(missing)}")
    names = [s.name for s in specs]
    small = memory_bytes is not None and memory_bytes < SMALL_MEMORY_BYTES
    affordable = [s for s in specs if s.precision == "int8"] if small else list(specs)
    affordable = affordable or list(specs)
    if variant != AUTO:
        normal = next((s for s in specs if s.name == variant), None)
        if normal is None:
            replaced = replacement(variant, names)
            if replaced is not None:
                raise ModelError(
                    f"detector.variant {variant} is no longer shipped (NanoDet-g was replaced by "
                    f"PP-PicoDet-S, see the Models page): write `variant: {replaced}` or "
                    "`variant: auto`"
                )
            raise ModelError(
                f"detector.variant {variant!r} is not in the models manifest; use auto or one of: "
                + ", ".join(names)
            )
        reason = f"pinned by detector.variant ({timings_ms[normal.name]:.0f} ms here)"
    else:
        normal, reason = _auto(affordable, timings_ms, budget_ms)
    if small and len(affordable) < len(specs):
        assert memory_bytes is not None
        reason += f"; float32 left out with {memory_bytes / 2**20:.0f} MB of memory"
    rungs = [normal, *(s for s in affordable if s is not normal)]
    return Selection(
        normal=normal,
        ladder=tuple(ladder(rungs, timings_ms, normal)),
        reason=reason,
        timings_ms={s.name: float(timings_ms[s.name]) for s in specs},
        budget_ms=budget_ms,
        pinned=variant != AUTO,
    )


def _auto(
    specs: Sequence[ModelSpec], timings_ms: Mapping[str, float], budget_ms: float
) -> tuple[ModelSpec, str]:
    for spec in by_accuracy(specs):
        ms = timings_ms[spec.name]
        if ms <= budget_ms:
            return spec, f"auto: the most accurate within {budget_ms:g} ms ({ms:.0f} ms here)"
    fastest = min(specs, key=lambda s: timings_ms[s.name])
    ms = timings_ms[fastest.name]
    return fastest, f"auto: none fits {budget_ms:g} ms, so the fastest ({ms:.0f} ms here)"


def ladder(
    specs: Sequence[ModelSpec], timings_ms: Mapping[str, float], normal: ModelSpec
) -> list[ModelSpec]:
    """``normal`` and the cheaper, less accurate rungs below it (see the module docstring)."""
    rungs = [normal]
    while True:
        top = rungs[-1]
        limit = timings_ms[top.name] * (1.0 - MIN_SAVING)
        below = [
            s
            for s in by_accuracy(specs)
            if accuracy_key(s) < accuracy_key(top) and timings_ms[s.name] <= limit
        ]
        if not below:
            return rungs
        rungs.append(below[0])
