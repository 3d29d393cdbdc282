"""An accelerator that fails while the camera runs hands detection to the CPU, for good.

At start a missing or failing accelerator is already one line and the CPU (``load_detector``).
This covers the rest of the run: a Hailo whose ``run`` raises (a PCIe error, a reset device),
or an AI Camera whose frames keep coming without its network's output (``AcceleratorFailed``
from ``camera.detect.imx500``).  The first failure is one warning line; the CPU model is loaded
then (a second or so, during which frames are dropped as stale, as when the loop is busy) and
runs until the service restarts, when the accelerator is tried again.  Listeners hear of the
switch: the runtime gives the governor the CPU's ladder, so a hot Pi pauses the CPU as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from camera.detect.base import BackendChoice, Capabilities, Detector, choice_of
from camera.types import Detection, Frame, ModelVariant, Precision, Region

log = logging.getLogger(__name__)


class AcceleratorFailed(Exception):
    """The accelerator stopped working while the camera runs (one line: what it did)."""


class FallingBack:
    """``accelerator`` until its first failure, then the CPU detector ``cpu()`` builds."""

    def __init__(self, accelerator: Detector, cpu: Callable[[], Detector]) -> None:
        self.accelerator = accelerator
        self.current = accelerator
        self._cpu = cpu
        self.failed: str | None = None
        self.listeners: list[Callable[[Detector], None]] = []
        """Told the CPU detector once it took over."""

    @property
    def choice(self) -> BackendChoice | None:
        return choice_of(self.current)

    @choice.setter
    def choice(self, value: BackendChoice) -> None:
        self.accelerator.choice = value  # type: ignore[attr-defined]

    @property
    def network(self) -> object | None:
        """The AI Camera's network, while it is the one detecting."""
        return getattr(self.accelerator, "network", None) if self.failed is None else None

    @property
    def capabilities(self) -> Capabilities:
        return self.current.capabilities

    @property
    def precision(self) -> Precision:
        return self.current.precision

    @property
    def input_size(self) -> int:
        return self.current.input_size

    @property
    def backend(self) -> str:
        return self.current.backend

    @property
    def variant(self) -> str:
        return self.current.variant

    @property
    def ladder(self) -> tuple[ModelVariant, ...]:
        return self.current.ladder

    def detect_frame(self, frame: Frame, regions: Sequence[Region]) -> list[Detection]:
        if self.failed is None:
            try:
                return self.accelerator.detect_frame(frame, regions)
            except Exception as error:  # HailoRT's exceptions, AcceleratorFailed, anything
                self._fall_back(error)
        return self.current.detect_frame(frame, regions)

    def _fall_back(self, error: Exception) -> None:
        was = self.accelerator.capabilities.device
        text = " ".join(str(error).split())[:200] or type(error).__name__
        self.failed = f"{was} failed while running: {text}"
        log.warning("%s; detecting on the CPU until the service restarts", self.failed)
        wanted = choice_of(self.accelerator)
        cpu = self._cpu()
        cpu.choice = BackendChoice(  # type: ignore[attr-defined]
            wanted.wanted if wanted else "auto", "cpu", "fallback while running", self.failed
        )
        self.current = cpu
        try:
            self.accelerator.close()
        except Exception as problem:  # a failed device often fails this too
            log.debug("closing the failed accelerator: %s", problem)
        for listener in self.listeners:
            listener(cpu)

    def set_variant(self, name: str) -> None:
        self.current.set_variant(name)

    def close(self) -> None:
        self.current.close()
