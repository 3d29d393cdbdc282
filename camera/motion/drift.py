"""Camera drift: keep the empty-scene model aligned with a camera that slowly moves.

A mount on a pole sways and settles, a bracket creeps with temperature, a camera on a window sill
gets nudged.  The neighbourhood difference in ``background.py`` tolerates one motion pixel; more
than that and every high-contrast edge of the scene (parking lines, window frames) differs from the
empty model, which only learns pixels that still match it.  Our car park clip drifts 2.7 motion
pixels in 30 s; without alignment a slightly more sensitive setting woke the detector on a third
of its empty frames.

So every ``PERIOD`` seconds the frame is phase-correlated with the empty model at half the motion
size (~0.12 ms on the dev box), and when the camera has moved by ``MIN_SHIFT`` or more the model
is moved along by that (sub-pixel) amount, the uncovered strip taken from the frame.  Whole-pixel
moves were tried first: phase correlation's sub-pixel estimate is biased towards whole numbers
(a 0.56 px drift read as 0.32), so corrections came only after ~0.8 px and the residual crossed
the one-pixel tolerance on sharp edges.  The slight blur of an interpolated shift heals as the
model keeps learning.  A weak correlation peak means the view is dominated by something moving
(a car filling the frame): no correction then.
"""

from __future__ import annotations

import cv2
import numpy as np

# Seconds between alignment checks.
PERIOD = 2.0
# Phase-correlation peak below which the estimate is not trusted (cars crossing the car park
# scored 0.1-0.3, the empty lot 0.7-1.0).
MIN_RESPONSE = 0.5
# Smaller moves (in motion pixels) are left to the one-pixel tolerance of the difference.  Low,
# because the estimate of a small move reads short (0.56 px as 0.32): with 0.3 the residual of a
# steady drift hovered around a pixel and a sharp wall edge woke the detector.
MIN_SHIFT = 0.15


class DriftEstimator:
    """Estimates how far the view has moved relative to a model, in motion pixels."""

    def __init__(self) -> None:
        self._window: np.ndarray | None = None

    def shift(
        self, model: np.ndarray, gray: np.ndarray, min_shift: float = MIN_SHIFT
    ) -> tuple[float, float] | None:
        """``(dx, dy)`` such that ``gray`` shows ``model`` moved by it, or ``None`` when there is
        no reliable move of at least ``min_shift``."""
        h, w = gray.shape
        size = (max(8, w // 2), max(8, h // 2))
        if self._window is None or self._window.shape != (size[1], size[0]):
            self._window = cv2.createHanningWindow(size, cv2.CV_32F)
        a = cv2.resize(model, size, interpolation=cv2.INTER_AREA)
        b = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        (dx, dy), response = cv2.phaseCorrelate(a, b, self._window)
        dx, dy = dx * w / size[0], dy * h / size[1]
        if response < MIN_RESPONSE or max(abs(dx), abs(dy)) < min_shift:
            return None
        if max(abs(dx), abs(dy)) > w / 4:
            return None  # not a drift: the camera was moved, or the estimate is garbage
        return dx, dy


def shifted(model: np.ndarray, dx: float, dy: float, fill: np.ndarray) -> np.ndarray:
    """``model`` moved by ``(dx, dy)`` pixels (bilinear); the uncovered strip comes from
    ``fill``."""
    h, w = model.shape
    out = fill.copy()
    move = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
    cv2.warpAffine(
        model, move, (w, h), dst=out, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
    )
    return out
