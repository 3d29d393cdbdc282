"""The motion detector: small gray frame in, persistent motion boxes (full-frame pixels) out.

Per frame, on a ~178x100 image:

1. shrink + 3x3 blur (``downscale.py``; the shrink is free when the Pi's lores Y plane is given);
2. measure the frame-to-frame global gain (``light.py``) and rescale the backgrounds by it, so
   auto-exposure and cloud ramps cancel out;
3. compare with both backgrounds (``background.py``) at ``max(threshold, noise_factor * sigma)``
   (``noise.py``) and drop masked pixels (``masks.py``);
4. a light change (one-frame brightness jump beyond ``light_step``, or more than
   ``light_change_fraction`` of the frame changed even after gain compensation) restarts the
   backgrounds from this frame and reports nothing for ``relearn_frames`` frames;
5. otherwise group changed pixels into blobs, drop blobs under ``min_area``, keep only blobs
   seen for ``persistence_frames`` consecutive frames (``persistence.py``), and of those drop
   (and absorb) blobs that are the old texture under new light (``shading.py``);
6. learn the frame into the backgrounds, except inside blobs that are moving right now.

A static scene exits after step 3 with nothing to group: most frames cost ~20 OpenCV calls on
18k pixels.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from camera.motion.background import Scene
from camera.motion.config import MotionConfig
from camera.motion.downscale import motion_size, shrink
from camera.motion.light import GainTracker, is_light_step
from camera.motion.masks import MaskCache
from camera.motion.noise import NoiseFloor
from camera.motion.persistence import Blob, Persistence
from camera.motion.shading import is_lighting
from camera.types import Box, Frame, MotionResult

log = logging.getLogger(__name__)

# Frame interval assumed when timestamps do not advance (synthetic frames, broken clocks) or jump
# (pauses): 10 fps, the Pi camera's usual motion rate.
NOMINAL_DT = 0.1
MAX_DT = 2.0
# Per-frame blend weight while re-learning after a light change: halves the remaining difference
# each frame, so auto-exposure that keeps settling for a few frames is followed.
RELEARN_ALPHA = 0.5
# Blobs beyond this many (largest kept) are ignored: heavy rain or a shaken camera should not
# cost unbounded Python work; the frame is busy anyway.
MAX_BLOBS = 32
# A blob whose box contains at least this fraction of frame-to-frame change counts as moving and
# is not learned into the background this frame.
MOVING_FRACTION = 0.01


class MotionDetector:
    """Background-difference motion detection on a small grayscale frame.

    ``frame_size`` is the ``(width, height)`` of full frames; boxes are returned in that space.
    """

    def __init__(self, config: MotionConfig, frame_size: tuple[int, int]) -> None:
        self._params = config.resolve()
        self._frame_size = frame_size
        self._size = motion_size(frame_size, self._params.height)
        self._masks = MaskCache(config.masks)
        self._scene = Scene()
        self._gain = GainTracker()
        self._noise = NoiseFloor()
        self._persistence = Persistence(self._params.persistence_frames)
        self._previous: np.ndarray | None = None
        self._last_timestamp: float | None = None
        self._relearn_left = 0

    def reset(self) -> None:
        """Forget the backgrounds and all history (the camera moved, the stream reconnected)."""
        self._scene.reset()
        self._gain.reset()
        self._noise.reset()
        self._persistence.reset()
        self._previous = None
        self._last_timestamp = None
        self._relearn_left = 0

    def update(self, frame: Frame) -> MotionResult:
        """Process one frame and return the motion that persisted long enough to matter."""
        p = self._params
        gray = self._gray(frame)
        dt = self._interval(frame.timestamp)
        gain = self._gain.update(gray)
        previous, self._previous = self._previous, gray
        if previous is None or self._scene.shape != gray.shape:
            if previous is not None:
                log.info("motion frame shape changed to %s; starting over", gray.shape)
            self._scene.reset(gray)
            self._persistence.reset()
            return MotionResult()

        if gain != 1.0:
            self._scene.scale(gain)
        threshold = max(p.threshold, p.noise_factor * self._noise.update(gray, previous, gain))
        changed = self._scene.changes(gray, threshold)
        keep = self._masks.get(gray.shape)
        if keep is not None:
            cv2.bitwise_and(changed, keep, dst=changed)
        count = cv2.countNonZero(changed)
        fraction = count / max(1, self._masks.kept_pixels)

        if is_light_step(gain, p.light_step) or fraction > p.light_change_fraction:
            if self._relearn_left == 0:
                log.info("light change: gain %.2f, %.0f%% of frame changed", gain, 100 * fraction)
            self._scene.reset(gray)
            self._persistence.reset()
            self._relearn_left = p.relearn_frames
            return MotionResult(changed_fraction=fraction, light_change=True)
        if self._relearn_left > 0:
            self._relearn_left -= 1
            self._scene.relearn(gray, RELEARN_ALPHA)
            return MotionResult(changed_fraction=fraction, light_change=True)

        blobs = self._blobs(changed) if count else []
        confirmed = self._without_lighting(gray, changed, self._persistence.update(blobs))
        frozen = self._moving(gray, previous, blobs, threshold) if blobs else None
        self._scene.learn(gray, dt, p.learning_rate, frozen)
        return MotionResult(boxes=self._to_frame(confirmed, frame), changed_fraction=fraction)

    def _gray(self, frame: Frame) -> np.ndarray:
        """The blurred float32 motion frame: the supplied lores plane if any, else shrunk BGR."""
        if frame.gray_small is not None:
            src = frame.gray_small
            size = (src.shape[1], src.shape[0])
            if src.shape[0] > 2 * self._params.height:
                size = motion_size(size, self._params.height)
        else:
            src = frame.image
            size = self._size
        small = cv2.GaussianBlur(shrink(src, size), (3, 3), 0)
        return small.astype(np.float32)

    def _interval(self, timestamp: float) -> float:
        last, self._last_timestamp = self._last_timestamp, timestamp
        if last is None:
            return NOMINAL_DT
        dt = timestamp - last
        return dt if 0.0 < dt <= MAX_DT else NOMINAL_DT

    def _blobs(self, changed: np.ndarray) -> list[Blob]:
        """Connected changed areas with at least ``min_area`` changed pixels.

        A 3x3 dilation first joins the fragments one object leaves (legs, arms, a shirt the
        colour of the wall), but the area counts only pixels that really changed.  External
        contours are ~10x cheaper than labelling every pixel on these sparse maps.
        """
        grouped = cv2.dilate(changed, None)
        contours, _ = cv2.findContours(grouped, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_px = self._params.min_area * changed.shape[0] * changed.shape[1]
        blobs = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h < min_px:
                continue  # the box area bounds the changed pixels from above: skip the count
            area = cv2.countNonZero(changed[y : y + h, x : x + w])
            if area >= min_px:
                blobs.append(Blob(x, y, w, h, area))
        if len(blobs) > MAX_BLOBS:
            blobs = sorted(blobs, key=lambda b: b.area, reverse=True)[:MAX_BLOBS]
        return blobs

    def _without_lighting(
        self, gray: np.ndarray, changed: np.ndarray, blobs: list[Blob]
    ) -> list[Blob]:
        """``blobs`` minus local light changes (``shading.py``), which are absorbed instead."""
        kept = []
        for b in blobs:
            if is_lighting(gray, self._scene.empty, changed, b):
                self._scene.absorb(gray, changed, (b.x, b.y, b.w, b.h))
            else:
                kept.append(b)
        return kept

    @staticmethod
    def _moving(
        gray: np.ndarray, previous: np.ndarray, blobs: list[Blob], threshold: float
    ) -> np.ndarray:
        """Mask (255) covering every blob that changed since the previous frame: those are kept
        out of the backgrounds, while blobs that stand still are learned (and stop waking the
        detector once ``recent`` has absorbed them)."""
        step = cv2.compare(cv2.absdiff(gray, previous), threshold, cv2.CMP_GT)
        frozen = np.zeros_like(step)
        for b in blobs:
            window = step[b.y : b.y + b.h, b.x : b.x + b.w]
            if cv2.countNonZero(window) >= MOVING_FRACTION * b.w * b.h:
                frozen[b.y : b.y + b.h, b.x : b.x + b.w] = 255
        return frozen

    def _to_frame(self, blobs: list[Blob], frame: Frame) -> tuple[Box, ...]:
        if not blobs:
            return ()
        full_w, full_h = frame.size
        small_h, small_w = self._scene.shape or (1, 1)
        sx, sy = full_w / small_w, full_h / small_h
        return tuple(
            Box(
                float(b.x * sx),
                float(b.y * sy),
                float(min(full_w, (b.x + b.w) * sx)),
                float(min(full_h, (b.y + b.h) * sy)),
            )
            for b in blobs
        )
