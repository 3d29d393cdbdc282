"""The owner's controls as the frame loop applies them: the stage configurations with the
chosen motion sensitivity and alert thresholds, the night values on top while it is night, and
the clip policy with recording off."""

from __future__ import annotations

import queue
from dataclasses import replace
from typing import Protocol

from camera.controls import ControlState
from camera.night import NightWatch
from camera.pipeline.stages import StageConfigs
from camera.types import Policy


class ControlSource(Protocol):
    """What the loop needs of ``camera.controls.Controls``: the state now (no lock taken)."""

    @property
    def current(self) -> ControlState: ...


class StageChoice:
    """The stage configurations that apply now: the configuration's (or the newest handed in
    from another thread), the owner's controls on top, then the night values while it is night.

    ``request`` is safe from any thread and never blocks either side: the request waits in a
    queue and the loop adopts the newest one at its next frame (``take_request``)."""

    def __init__(
        self, base: StageConfigs, controls: ControlState | None, night: NightWatch
    ) -> None:
        self.base = base
        """The configuration's stages, before the controls and the night values."""
        self.controls = controls
        """The owner's controls the loop runs with now (None: none, the file's stages)."""
        self._night = night
        self._requests: queue.SimpleQueue[StageConfigs] = queue.SimpleQueue()

    def request(self, stages: StageConfigs) -> None:
        self._requests.put(stages)

    def take_request(self) -> bool:
        """Adopt the newest configuration handed in; False when there was none."""
        if self._requests.empty():
            return False
        while not self._requests.empty():
            self.base = self._requests.get_nowait()
        self._night.config = self.base.night
        return True

    def current(self) -> StageConfigs:
        state = self.controls
        stages = self.base if state is None else controlled_stages(self.base, state)
        if stages.night.enabled and self._night.current.night:
            stages = night_stages(stages)
        return stages


def controlled_stages(base: StageConfigs, state: ControlState) -> StageConfigs:
    """``base`` (the configuration file's sections) with the controls' sensitivity and per-label
    thresholds on top.  Explicit numeric motion options in the file still override the preset,
    as they always do; the control chooses the preset."""
    motion = base.motion.model_copy(update={"sensitivity": state.sensitivity})
    labels = base.tracker.labels
    rules = {
        label: getattr(labels, label).model_copy(update={"threshold": threshold})
        for label, threshold in state.thresholds.items()
        if hasattr(labels, label)
    }
    tracker = base.tracker.model_copy(update={"labels": labels.model_copy(update=rules)})
    return replace(base, motion=motion, tracker=tracker)


def night_stages(stages: StageConfigs) -> StageConfigs:
    """``stages`` with the ``night`` section's values (sensitivity, per-label thresholds) in
    place of the day's; values left at null stay as they are."""
    night = stages.night
    motion = stages.motion
    if night.sensitivity is not None:
        motion = motion.model_copy(update={"sensitivity": night.sensitivity})
    labels = stages.tracker.labels
    rules = {
        label: getattr(labels, label).model_copy(update={"threshold": threshold})
        for label, threshold in night.thresholds.model_dump().items()
        if threshold is not None and hasattr(labels, label)
    }
    tracker = stages.tracker.model_copy(update={"labels": labels.model_copy(update=rules)})
    return replace(stages, motion=motion, tracker=tracker)


def recorder_policy(policy: Policy, state: ControlState) -> Policy:
    """The clip policy the recorder gets: paused while recording is off or privacy is on (an
    open clip is closed at once, the pre-roll stops filling)."""
    if state.privacy:
        return replace(policy, clips="paused", reason="privacy on")
    if not state.recording:
        return replace(policy, clips="paused", reason="recording off")
    return policy
