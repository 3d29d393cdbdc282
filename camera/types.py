"""Small value types shared by every stage of the pipeline.

Stages import these and nothing of each other's internals, so the data flow stays one-directional
(source -> motion -> regions -> detector -> tracker -> sinks).  Everything here is plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypedDict

import numpy as np

Label = Literal["person", "pet", "motion"]
"""``motion`` is used only for motion-only events, while the governor pauses the detector."""
Precision = Literal["int8", "float32"]
PRECISIONS: tuple[Precision, ...] = ("int8", "float32")
ClipMode = Literal["full", "reduced", "paused"]
"""What event clips may do: record at their own rate, at ``clips.reduced_fps``, or not at all."""
CLIP_MODES: tuple[ClipMode, ...] = ("full", "reduced", "paused")
"""From least to most restrictive."""


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned box in full-frame pixel coordinates, ``x2``/``y2`` exclusive."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return max(0.0, self.x2 - self.x1)

    @property
    def height(self) -> float:
        return max(0.0, self.y2 - self.y1)

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)

    def iou(self, other: Box) -> float:
        """Intersection over union; 0 for disjoint or empty boxes."""
        inter = self.intersection(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def intersection(self, other: Box) -> float:
        w = min(self.x2, other.x2) - max(self.x1, other.x1)
        h = min(self.y2, other.y2) - max(self.y1, other.y1)
        return w * h if w > 0 and h > 0 else 0.0

    def clip(self, width: int, height: int) -> Box:
        return Box(
            min(max(self.x1, 0.0), width),
            min(max(self.y1, 0.0), height),
            min(max(self.x2, 0.0), width),
            min(max(self.y2, 0.0), height),
        )

    def union(self, other: Box) -> Box:
        return Box(
            min(self.x1, other.x1),
            min(self.y1, other.y1),
            max(self.x2, other.x2),
            max(self.y2, other.y2),
        )

    def as_list(self) -> list[int]:
        """Rounded ``[x1, y1, x2, y2]`` as published in event JSON."""
        return [round(self.x1), round(self.y1), round(self.x2), round(self.y2)]


@dataclass(frozen=True, slots=True)
class SensorReading:
    """What the camera's own metering said about one frame (picamera2's request metadata);
    each field None when the camera does not report it."""

    lux: float | None = None
    """The ISP's estimate of the scene's illuminance (libcamera ``Lux``)."""
    exposure_us: float | None = None
    """Exposure time in microseconds (``ExposureTime``)."""
    analogue_gain: float | None = None
    """``AnalogueGain``; with ``digital_gain`` (``DigitalGain``), how far the sensor is pushed."""
    digital_gain: float | None = None


@dataclass(slots=True)
class Frame:
    """One captured frame.

    ``image`` is the full-resolution BGR picture used for detector crops and thumbnails.
    ``gray_small`` is an optional grayscale frame already at motion size (the Pi's lores Y plane);
    when it is ``None`` the motion stage downscales ``image`` itself.  ``timestamp`` is seconds on
    the source's clock: the video's own timeline in replay, wall-clock time live.
    """

    image: np.ndarray
    timestamp: float
    index: int
    gray_small: np.ndarray | None = None
    captured: float | None = None
    """``time.monotonic()`` when the frame was captured (live sources and realtime replays), so
    the pipeline can tell how old a frame is when it gets to it; ``None`` for an unpaced replay."""
    inferred: tuple[Detection, ...] | None = None
    """What the camera's own network found in this frame (the AI Camera's IMX500), in frame
    pixels; ``None`` when the camera runs no network."""
    sensor: SensorReading | None = None
    """The camera's own light metering for this frame (picamera2); None for other sources."""

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the full-resolution image."""
        return (int(self.image.shape[1]), int(self.image.shape[0]))


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """One H.264 access unit (Annex B, headers repeated at keyframes) and the time of its frame
    on the source's clock: what a camera with its own encoder hands the clip recorder."""

    data: bytes
    time: float
    keyframe: bool


@dataclass(frozen=True, slots=True)
class MotionResult:
    """What the motion stage saw in one frame.

    ``boxes`` are in full-frame pixels and only contain motion that persisted long enough to
    matter; ``active`` is True when that motion should wake the detector.  ``light_change`` marks a
    frame where a global brightness change was detected and absorbed instead of reported.
    """

    boxes: tuple[Box, ...] = ()
    changed_fraction: float = 0.0
    light_change: bool = False

    @property
    def active(self) -> bool:
        return bool(self.boxes)


@dataclass(frozen=True, slots=True)
class Region:
    """A square crop of the full frame that the detector should look at."""

    box: Box
    reason: Literal["motion", "track", "scan"] = "motion"
    """Why: motion there, a tracked object, or the start scan (``camera.motion.scan``)."""


@dataclass(frozen=True, slots=True)
class Detection:
    """One detected object: ``label`` is person/pet, ``subclass`` the model's own class name."""

    label: Label
    subclass: str
    score: float
    box: Box


InferenceCost = Literal["cpu", "accelerator", "sensor"]
"""Where a detector's work is done: the Pi's CPU, an accelerator beside it, or the camera's
sensor (nothing the Pi pays for in heat or charge)."""


@dataclass(frozen=True, slots=True)
class ModelVariant:
    """One detector model variant as the governor and the stats see it (no file, no weights)."""

    name: str
    precision: Precision
    input_size: int
    cost: InferenceCost = "cpu"
    """``sensor``: pausing this variant saves the Pi nothing, so the governor never pauses it."""


class ReadingsDict(TypedDict):
    """One poll of every sensor as published (stats message, ``Policy.readings``); ``None``
    means unknown."""

    soc_temp_c: float | None
    temp_source: str | None
    throttled: str | None
    under_voltage: bool | None
    battery_pct: float | None
    charging: bool | None
    battery_source: str | None


class GovernorReadings(ReadingsDict):
    """The readings the governor decides on: the sensors plus the frame loop's load (percent
    of the time between frames the loop needs, ``None`` before the first frames)."""

    load_pct: float | None


class PolicyDict(TypedDict):
    """``Policy.as_dict()``: the one published shape of the governor's decision."""

    level: str
    fps: float | None
    variant: str | None
    precision: Precision | None
    detect: bool
    reason: str
    clips: ClipMode


@dataclass(frozen=True, slots=True)
class Policy:
    """What the governor allows right now; the pipeline applies it at the next frame.

    ``fps`` of ``None`` means the source's native rate.  ``variant`` names the detector model to
    run (a rung of the device's model ladder, see ``camera.detect.selection``) and ``precision``
    is that model's; ``None`` when no detector is known.  With ``detect`` False the detector is
    paused and motion alone produces (motion-only) events.  ``clips`` says how event clips may
    be recorded (the recorder applies it at the next frame, like everything else here).
    """

    level: str = "normal"
    fps: float | None = None
    precision: Precision | None = None
    detect: bool = True
    reason: str = "start"
    clips: ClipMode = "full"
    readings: GovernorReadings | None = field(default=None, compare=False)
    variant: str | None = None

    def as_dict(self) -> PolicyDict:
        """The published form (stats message, ``ronda status``): one shape wherever it goes."""
        return {
            "level": self.level,
            "fps": self.fps,
            "variant": self.variant,
            "precision": self.precision,
            "detect": self.detect,
            "reason": self.reason,
            "clips": self.clips,
        }
