"""What the pipeline needs from any detector backend, and what a backend says it can do.

Three kinds of backend stand behind one interface:

- ``cpu``: TFLite on the Pi's own cores (``camera.detect.tflite``), on motion crops;
- ``hailo``: a Hailo-8/8L accelerator (the AI HAT+ / AI Kit), also on motion crops;
- ``imx500``: the AI Camera's sensor, whose network sees the whole frame, every frame, at no CPU
  cost; its detections come with the frame (``Frame.inferred``).

The pipeline asks every backend the same question, ``detect_frame(frame, regions)``, and hands
the answer to the same tracker.  A whole-frame backend answers it with the sensor's detections
that lie inside the regions (``within_regions``): motion still decides where an event can
start and the tracker sees exactly what a crop backend would have shown it, so a still object
is not alerted on just because the sensor looks at it for free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict

import numpy as np

from camera.types import Detection, Frame, InferenceCost, ModelVariant, Precision, Region

BackendKind = Literal["cpu", "imx500", "hailo"]
Scope = Literal["crops", "frame"]
"""``crops``: the backend runs on each motion region, at its input size; ``frame``: it has
already looked at the whole frame (a sensor's network) and only filters by region."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do: where it looks, at what size, which labels, at what cost."""

    kind: BackendKind
    device: str
    """For people: ``CPU (ai_edge_litert, 2 threads)``, ``AI Camera (IMX500)``, ``Hailo-8L``."""
    scope: Scope
    input_size: int
    """The network's input side in pixels (the region planner sizes crops to it)."""
    labels: tuple[str, ...]
    """The model classes Ronda keeps (``person``, ``cat``, ``dog``: see the manifest)."""
    cost: InferenceCost
    """``cpu`` (heat, charge), ``accelerator`` (its own power, a little CPU to prepare crops and
    read results) or ``sensor`` (nothing the Pi pays for: pausing it would save nothing)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "device": self.device,
            "scope": self.scope,
            "input_size": self.input_size,
            "labels": list(self.labels),
            "cost": self.cost,
        }


@dataclass(frozen=True, slots=True)
class BackendChoice:
    """Which backend runs, and why: what ``ronda doctor``, ``ronda models``, the stats and the
    page report."""

    wanted: str
    """``detector.backend`` as configured (``auto``, ``cpu``, ``imx500``, ``hailo``)."""
    kind: BackendKind
    """What runs."""
    reason: str
    fallback: str | None = None
    """Why the accelerator that was asked for or found does not run (then ``kind`` is cpu)."""

    def as_dict(self) -> dict[str, object]:
        return {"wanted": self.wanted, "kind": self.kind, "reason": self.reason,
                "fallback": self.fallback}  # fmt: skip


def choice_of(detector: object) -> BackendChoice | None:
    """The detector's ``BackendChoice`` (set by ``load_detector``; None on a test double)."""
    choice = getattr(detector, "choice", None)
    return choice if isinstance(choice, BackendChoice) else None


class Detector(Protocol):
    """Finds persons and pets inside regions of a frame, in full-frame pixels.

    ``detect_frame`` is what the pipeline calls; crop backends also offer ``detect`` on a bare
    image (the doctor, the benchmarks).  ``set_variant`` is safe between any two frames; a
    variant off the ladder is refused with a warning, never an error.
    """

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def precision(self) -> Precision: ...

    @property
    def input_size(self) -> int: ...

    @property
    def backend(self) -> str: ...

    @property
    def variant(self) -> str: ...

    @property
    def ladder(self) -> tuple[ModelVariant, ...]: ...

    def detect_frame(self, frame: Frame, regions: Sequence[Region]) -> list[Detection]: ...

    def set_variant(self, name: str) -> None: ...

    def close(self) -> None: ...


class CropDetector:
    """Base of the backends that run on crops: ``detect_frame`` is ``detect`` on the image."""

    def detect(self, image: np.ndarray, regions: Sequence[Region]) -> list[Detection]:
        raise NotImplementedError

    def detect_frame(self, frame: Frame, regions: Sequence[Region]) -> list[Detection]:
        return self.detect(frame.image, regions)


def within_regions(detections: Sequence[Detection], regions: Sequence[Region]) -> list[Detection]:
    """The whole-frame ``detections`` whose box centre lies inside one of ``regions``.

    The centre, not any overlap: a crop backend's box of an object is clipped to its crop, so
    its centre is always inside; an object a region only grazes is not that region's."""
    kept = []
    for detection in detections:
        x, y = detection.box.center
        if any(r.box.x1 <= x < r.box.x2 and r.box.y1 <= y < r.box.y2 for r in regions):
            kept.append(detection)
    return kept


class DetectorReport(TypedDict):
    """What the stats message, the page and ``ronda status`` say about the detector."""

    kind: str
    device: str
    scope: str
    cost: str
    input_size: int
    wanted: str | None
    reason: str | None
    fallback: str | None
    sensor_outputs: int | None
    """AI Camera only: frames that carried the network's output so far (0 while it uploads)."""


def detector_report(detector: Detector) -> DetectorReport:
    capabilities = detector.capabilities
    choice = choice_of(detector)
    network = getattr(detector, "network", None)
    outputs = getattr(network, "outputs", None)
    return DetectorReport(
        kind=capabilities.kind,
        device=capabilities.device,
        scope=capabilities.scope,
        cost=capabilities.cost,
        input_size=capabilities.input_size,
        wanted=choice.wanted if choice else None,
        reason=choice.reason if choice else None,
        fallback=choice.fallback if choice else None,
        sensor_outputs=outputs if isinstance(outputs, int) else None,
    )
