"""The live image: a small, rate-limited copy the frame loop hands over, only while watched.

The frame loop pays for the live view in one place, :meth:`LiveFeed.__call__` (a frame hook):
with nobody watching it returns after one integer test; with viewers it shrinks at most
``live_fps`` frames a second to ``live_width`` pixels (one ``cv2.resize``, which releases the
GIL) and swaps a reference.  JPEG encoding and drawing happen on the web server's side, once per
published frame whatever the number of viewers (``LiveEncoder``), in a worker thread so the
server's event loop stays responsive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from camera.pipeline import FrameOutcome
from camera.types import Box, Detection

DETECTIONS_SHOWN_S = 1.0
"""Detections stay drawn this long after the detector last ran (it does not run every frame)."""
JPEG_QUALITY = 75

Polygon = Sequence[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class LiveFrame:
    """One published frame: the reduced image and what the pipeline saw in it."""

    sequence: int
    image: np.ndarray
    scale: float
    """Reduced size / full size: multiply full-frame boxes by it."""
    wall_time: float
    motion: tuple[Box, ...]
    detections: tuple[Detection, ...]


@dataclass(frozen=True, slots=True)
class Areas:
    """The polygons drawn over the live image (relative 0..1 coordinates)."""

    masks: tuple[Polygon, ...] = ()
    zones: Mapping[str, Polygon] | None = None


class LiveFeed:
    """Frame hook on the loop's side, latest frame on the server's side."""

    def __init__(self, fps: float, width: int) -> None:
        self.period = 1.0 / fps
        self.width = width
        self.on_frame: Callable[[], None] | None = None
        """Called (from the frame loop) after each publish; the server wakes its viewers."""
        self._viewers = 0
        self._lock = threading.Lock()  # viewers only; the frame loop never takes it
        self._latest: LiveFrame | None = None
        self._next_due = 0.0
        self._sequence = 0
        self._detections: tuple[Detection, ...] = ()
        self._detections_at = 0.0
        self.last_frame: float | None = None
        self.privacy = False
        """The owner's privacy mode is on: no frame is shown (the page says "privacy")."""
        """``time.monotonic()`` when the loop last handed over a frame: the health check."""

    # -- server side -------------------------------------------------------------------------
    @property
    def viewers(self) -> int:
        return self._viewers

    @property
    def latest(self) -> LiveFrame | None:
        return self._latest

    def watch(self) -> None:
        with self._lock:
            self._viewers += 1

    def unwatch(self) -> None:
        with self._lock:
            self._viewers = max(0, self._viewers - 1)

    # -- frame loop side ---------------------------------------------------------------------
    def __call__(self, outcome: FrameOutcome) -> None:
        self.last_frame = now = time.monotonic()
        self.privacy = outcome.privacy
        if outcome.privacy:  # nothing of the picture leaves the loop, not even the last frame
            self._latest = None
            self._detections = ()
            return
        if not self._viewers:
            return
        if outcome.detector_ran:
            self._detections, self._detections_at = tuple(outcome.detections), now
        if now < self._next_due:
            return
        self._next_due = now + self.period
        image = outcome.frame.image
        height, width = image.shape[:2]
        scale = min(1.0, self.width / width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if scale < 1 else image
        if small is image:
            small = image.copy()  # the source may reuse its buffer
        detections = self._detections if now - self._detections_at < DETECTIONS_SHOWN_S else ()
        self._sequence += 1
        self._latest = LiveFrame(
            sequence=self._sequence,
            image=small,
            scale=scale,
            wall_time=time.time(),
            motion=outcome.motion.boxes if outcome.motion else (),
            detections=detections,
        )
        if self.on_frame is not None:
            self.on_frame()


class LiveEncoder:
    """JPEG of the latest frame, encoded once per frame and overlay choice."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[bool, tuple[int, bytes]] = {}

    def jpeg(self, frame: LiveFrame, overlay: bool, areas: Areas) -> bytes:
        with self._lock:
            cached = self._cache.get(overlay)
            if cached is not None and cached[0] == frame.sequence:
                return cached[1]
            image = draw_overlay(frame, areas) if overlay else frame.image
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                raise RuntimeError("JPEG encoding failed")
            data = encoded.tobytes()
            self._cache[overlay] = (frame.sequence, data)
            return data


MASK_COLOUR = (40, 40, 220)
ZONE_COLOUR = (230, 160, 30)
MOTION_COLOUR = (0, 215, 255)
DETECTION_COLOUR = (60, 200, 60)


def draw_overlay(frame: LiveFrame, areas: Areas) -> np.ndarray:
    """Masks (shaded red), zones (blue outlines with their names), motion boxes (yellow) and
    detections (green, with label and score) on a copy of the reduced image."""
    image = frame.image.copy()
    height, width = image.shape[:2]
    scale = np.array([width, height], dtype=np.float64)

    def pixels(polygon: Polygon) -> np.ndarray:
        return np.round(np.asarray(polygon, dtype=np.float64) * scale).astype(np.int32)

    if areas.masks:
        shade = image.copy()
        cv2.fillPoly(shade, [pixels(p) for p in areas.masks], MASK_COLOUR)
        cv2.addWeighted(shade, 0.45, image, 0.55, 0, dst=image)
    for name, polygon in (areas.zones or {}).items():
        points = pixels(polygon)
        cv2.polylines(image, [points], True, ZONE_COLOUR, 2)
        x, y = points.min(axis=0)
        _label(image, name, int(x) + 3, int(y) + 14, ZONE_COLOUR)
    for box in frame.motion:
        _box(image, box, frame.scale, MOTION_COLOUR, 1)
    for detection in frame.detections:
        x1, y1 = _box(image, detection.box, frame.scale, DETECTION_COLOUR, 2)
        _label(image, f"{detection.label} {detection.score:.2f}", x1 + 2, y1 - 4, DETECTION_COLOUR)
    return image


def _box(
    image: np.ndarray, box: Box, scale: float, colour: tuple[int, int, int], thick: int
) -> tuple[int, int]:
    x1, y1 = round(box.x1 * scale), round(box.y1 * scale)
    cv2.rectangle(image, (x1, y1), (round(box.x2 * scale), round(box.y2 * scale)), colour, thick)
    return x1, max(12, y1)


def _label(image: np.ndarray, text: str, x: int, y: int, colour: tuple[int, int, int]) -> None:
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
