"""The running background: what the scene looks like when nothing moves.

Why a background and not just the previous frame: a consecutive-frame difference sees only the
*edges* of motion and loses a person who stops, while a difference against a slowly learned
background keeps seeing them for as long as they differ from the empty scene.

Why selective learning: pixels that are changing right now (someone walking) are not learned, so a
moving person never smears into the background; pixels that changed and then stay still (a parked
car, a person standing for a long time, a moved chair) are learned at the normal rate and stop
waking the detector after a while.  A standing person is then kept by the tracker's periodic
refresh regions, not by motion.

Why gain tracking: see ``light.py``; the background is multiplied by the frame's global gain before
each difference, so auto-exposure and cloud ramps never show up as motion.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from camera.motion.light import cell_means, estimate_gain


class Background:
    """Float32 running average of the motion frame with gain tracking and selective learning."""

    def __init__(self) -> None:
        self._model: np.ndarray | None = None
        self._cells: np.ndarray | None = None

    @property
    def ready(self) -> bool:
        return self._model is not None

    @property
    def shape(self) -> tuple[int, int] | None:
        return None if self._model is None else self._model.shape[:2]

    def reset(self, gray: np.ndarray | None = None) -> None:
        """Forget everything; with ``gray``, start over from that frame (instant re-learn)."""
        if gray is None:
            self._model = None
            self._cells = None
        else:
            self._model = gray.astype(np.float32, copy=True)
            self._cells = cell_means(self._model)

    def follow_gain(self, gray: np.ndarray) -> float:
        """Estimate the global gain of ``gray`` against the background and apply it to the
        background, so the difference that follows is exposure-neutral.  Returns the gain."""
        assert self._model is not None and self._cells is not None
        frame_cells = cell_means(gray)
        gain = estimate_gain(frame_cells, self._cells)
        if abs(gain - 1.0) > 1e-3:
            np.multiply(self._model, np.float32(gain), out=self._model)
            np.minimum(self._model, 255.0, out=self._model)
            self._cells = self._cells * gain
        return gain

    def difference(self, gray: np.ndarray) -> np.ndarray:
        """Absolute difference of ``gray`` (float32) from the background, float32."""
        assert self._model is not None
        return cv2.absdiff(gray, self._model)

    def learn(self, gray: np.ndarray, alpha: float, frozen: np.ndarray | None) -> None:
        """Blend ``gray`` into the background with weight ``alpha`` except where ``frozen``
        (uint8, non-zero = moving right now) is set."""
        assert self._model is not None
        if frozen is None:
            cv2.accumulateWeighted(gray, self._model, alpha)
        else:
            cv2.accumulateWeighted(gray, self._model, alpha, mask=cv2.bitwise_not(frozen))
        self._cells = cell_means(self._model)


def alpha_for(rate_per_second: float, dt: float) -> float:
    """Per-frame blend weight for a background time constant of ``1 / rate`` seconds.

    Expressed per second, not per frame, so the background forgets at the same speed whether
    the governor runs the camera at 2 fps or 30 fps.
    """
    return 1.0 - math.exp(-rate_per_second * dt)
