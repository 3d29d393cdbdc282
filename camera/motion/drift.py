"""Camera drift: keep the empty-scene model aligned with a camera that slowly moves.

A mount on a pole sways and settles, a bracket creeps with temperature, a camera on a window sill
gets nudged.  The neighbourhood difference in ``background.py`` tolerates one motion pixel; more
than that and every high-contrast edge of the scene (parking lines, window frames) differs from the
empty model, which only learns pixels that still match it.  Our car park clip drifts 2.7 motion
pixels in 30 s; without alignment a slightly more sensitive setting woke the detector on a third
of its empty frames.

So every ``PERIOD`` seconds the frame is phase-correlated with the empty model at half the motion
size (~0.12 ms on the dev box; within 0.3 px of the full-size estimate on that clip), and when the
camera has moved by a whole motion pixel or more the model is shifted by whole pixels (an exact
copy, no interpolation blur), the uncovered strip taken from the frame.  A weak correlation peak
means the view is dominated by something moving (a car filling the frame): no correction then.
"""

from __future__ import annotations

import cv2
import numpy as np

# Seconds between alignment checks.
PERIOD = 2.0
# Phase-correlation peak below which the estimate is not trusted (cars crossing the car park
# scored 0.1-0.3, the empty lot 0.7-1.0).
MIN_RESPONSE = 0.5


class DriftEstimator:
    """Estimates how far the view has moved relative to a model, in motion pixels."""

    def __init__(self) -> None:
        self._window: np.ndarray | None = None

    def shift(self, model: np.ndarray, gray: np.ndarray) -> tuple[int, int] | None:
        """Whole-pixel ``(dx, dy)`` such that ``gray`` shows ``model`` moved by it, or ``None``
        when there is no reliable shift of a pixel or more."""
        h, w = gray.shape
        size = (max(8, w // 2), max(8, h // 2))
        if self._window is None or self._window.shape != (size[1], size[0]):
            self._window = cv2.createHanningWindow(size, cv2.CV_32F)
        a = cv2.resize(model, size, interpolation=cv2.INTER_AREA)
        b = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        (dx, dy), response = cv2.phaseCorrelate(a, b, self._window)
        dx, dy = round(dx * w / size[0]), round(dy * h / size[1])
        if response < MIN_RESPONSE or (dx == 0 and dy == 0) or max(abs(dx), abs(dy)) > w // 4:
            return None
        return dx, dy


def shifted(model: np.ndarray, dx: int, dy: int, fill: np.ndarray) -> np.ndarray:
    """``model`` moved by whole pixels ``(dx, dy)``; the uncovered strip comes from ``fill``."""
    h, w = model.shape
    out = fill.copy()
    src_x, dst_x = (
        (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    )
    src_y, dst_y = (
        (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    )
    out[dst_y, dst_x] = model[src_y, src_x]
    return out
