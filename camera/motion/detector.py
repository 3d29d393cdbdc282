"""The motion detector: small gray frame in, persistent motion boxes (full-frame pixels) out.

Per frame, on a ~178x100 image (a few tens of microseconds per step):

1. shrink + 3x3 blur (``downscale.py``; free when the Pi's lores Y plane is supplied);
2. follow the global gain (``light.py``), so exposure changes and cloud ramps cancel out;
3. difference against the running background, threshold at ``max(threshold, noise_factor *
   sigma)`` (``noise.py``), drop masked pixels;
4. a light change (one-frame brightness jump > ``light_step``, or more than
   ``light_change_fraction`` of the frame changed even after gain compensation) restarts the
   background from this frame and reports nothing for ``relearn_frames`` frames;
5. otherwise group changed pixels into blobs, drop blobs under ``min_area``, and report only blobs
   seen for ``persistence_frames`` consecutive frames (``persistence.py``);
6. learn the frame into the background, except inside blobs that are moving right now.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from camera.motion.background import Background, alpha_for
from camera.motion.config import MotionConfig
from camera.motion.downscale import motion_size, shrink
from camera.motion.light import is_light_step
from camera.motion.masks import MaskCache
from camera.motion.noise import NoiseFloor
from camera.motion.persistence import Blob, Persistence
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

_KERNEL = np.ones((3, 3), np.uint8)


class MotionDetector:
    """Running-background motion detection on a small grayscale frame.

    ``frame_size`` is the ``(width, height)`` of full frames; boxes are returned in that space.
    """

    def __init__(self, config: MotionConfig, frame_size: tuple[int, int]) -> None:
        self._params = config.resolve()
        self._frame_size = frame_size
        self._size = motion_size(frame_size, self._params.height)
        self._masks = MaskCache(config.masks)
        self._background = Background()
        self._noise = NoiseFloor()
        self._persistence = Persistence(self._params.persistence_frames)
        self._previous: np.ndarray | None = None
        self._last_timestamp: float | None = None
        self._relearn_left = 0

    def reset(self) -> None:
        """Forget the background and all history (e.g. after the camera moved or reconnected)."""
        self._background.reset()
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
        if self._background.shape != gray.shape:
            if self._background.ready:
                log.info("motion frame shape changed to %s; starting over", gray.shape)
            self.reset()
            self._background.reset(gray)
            self._previous = gray
            return MotionResult()

        gain = self._background.follow_gain(gray)
        diff = self._background.difference(gray)
        threshold = max(p.threshold, p.noise_factor * self._noise.update(diff))
        changed = _binary(diff, threshold)
        keep = self._masks.get(gray.shape)
        if keep is not None:
            cv2.bitwise_and(changed, keep, dst=changed)
        fraction = cv2.countNonZero(changed) / max(1, self._masks.kept_pixels)

        if is_light_step(gain, p.light_step) or fraction > p.light_change_fraction:
            if self._relearn_left == 0:
                log.info("light change: gain %.2f, %.0f%% of frame changed", gain, 100 * fraction)
            self._background.reset(gray)
            self._persistence.reset()
            self._relearn_left = p.relearn_frames
            self._previous = gray
            return MotionResult(changed_fraction=fraction, light_change=True)
        if self._relearn_left > 0:
            self._relearn_left -= 1
            self._background.learn(gray, RELEARN_ALPHA, frozen=None)
            self._previous = gray
            return MotionResult(changed_fraction=fraction, light_change=True)

        blobs = self._blobs(changed)
        confirmed = self._persistence.update(blobs)
        frozen = self._moving(gray, blobs, threshold) if blobs else None
        self._background.learn(gray, alpha_for(p.learning_rate, dt), frozen)
        self._previous = gray
        return MotionResult(boxes=self._to_frame(confirmed, frame), changed_fraction=fraction)

    def _gray(self, frame: Frame) -> np.ndarray:
        """The blurred float32 motion frame: the supplied lores plane if any, else shrunk BGR."""
        if frame.gray_small is not None:
            src = frame.gray_small
            size = (
                motion_size((src.shape[1], src.shape[0]), self._params.height)
                if src.shape[0] > 2 * self._params.height
                else (src.shape[1], src.shape[0])
            )
        else:
            src = frame.image
            size = self._size
        small = shrink(src, size)
        return cv2.GaussianBlur(small, (3, 3), 0).astype(np.float32)

    def _interval(self, timestamp: float) -> float:
        last, self._last_timestamp = self._last_timestamp, timestamp
        if last is None:
            return NOMINAL_DT
        dt = timestamp - last
        return dt if 0.0 < dt <= MAX_DT else NOMINAL_DT

    def _blobs(self, changed: np.ndarray) -> list[Blob]:
        """Connected changed areas of at least ``min_area``; a 3x3 dilation first joins the
        fragments one object leaves (legs, arms, a shirt the colour of the wall)."""
        grouped = cv2.dilate(changed, _KERNEL)
        count, _, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
        min_px = self._params.min_area * changed.shape[0] * changed.shape[1]
        blobs = [
            Blob(int(x), int(y), int(w), int(h), int(a))
            for x, y, w, h, a in stats[1:count]
            if a >= min_px
        ]
        if len(blobs) > MAX_BLOBS:
            blobs = sorted(blobs, key=lambda b: b.area, reverse=True)[:MAX_BLOBS]
        return blobs

    def _moving(self, gray: np.ndarray, blobs: list[Blob], threshold: float) -> np.ndarray:
        """Mask (255) covering every blob that changed since the previous frame: those are kept
        out of the background, while blobs that stand still are slowly learned."""
        assert self._previous is not None
        step = _binary(cv2.absdiff(gray, self._previous), threshold)
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
        small_h, small_w = self._background.shape or (1, 1)
        sx, sy = full_w / small_w, full_h / small_h
        return tuple(
            Box(b.x * sx, b.y * sy, min(full_w, (b.x + b.w) * sx), min(full_h, (b.y + b.h) * sy))
            for b in blobs
        )


def _binary(diff: np.ndarray, threshold: float) -> np.ndarray:
    """uint8 0/255 map of ``diff > threshold``."""
    return cv2.compare(diff, threshold, cv2.CMP_GT)
