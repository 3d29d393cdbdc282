"""Global brightness: how much the whole scene got brighter or darker since the previous frame.

Auto-exposure, clouds and dimmers change every pixel by roughly the same *factor*: a change of
exposure multiplies linear light, and the camera's gamma curve keeps a product a product.  So the
motion stage estimates one gain per frame and rescales its backgrounds by it before differencing.
The estimate must ignore the object that caused the change (a white car entering our car park clip
made the auto-exposure halve the brightness of the empty asphalt around it, in steps of up to 8 %
per frame), so it is the *median* of per-point ratios over a 32x18 grid of samples of the
(already blurred) motion frame: anything covering fewer than half the points does not move it.
Dark points are compared against a floor level, because their own ratio is mostly noise.

Why samples and not cell means: an 8x6 grid of true cell means gave the same gains (within 0.5 %,
95th percentile 0.23 %, over the car park's exposure swings) but cost ~3x more, because OpenCV's
area resize to a tiny size rebuilds its tables on every call (~60 us with cold caches).

The gain is measured frame to frame (not against the background): that is what a "sudden jump"
means for light-change detection, and it needs no statistics of the background.
"""

from __future__ import annotations

import math

import cv2  # type-ignores below: its stubs lack scalar-operand and None-kernel overloads
import numpy as np

# Sample grid for the gain estimate: 576 points, ~1 per 30 motion pixels.
GRID = (32, 18)
# Levels below this (0..255) are mostly noise and black level: ratios are taken against it.
MIN_LEVEL = 12.0


class GainTracker:
    """Robust frame-to-frame global gain."""

    def __init__(self) -> None:
        self._previous: np.ndarray | None = None
        self.points: np.ndarray | None = None
        """This frame's 32x18 grid of brightness samples, as measured (``lowlight.py`` reads
        the scene's brightness from them)."""

    def reset(self) -> None:
        self._previous = None
        self.points = None

    def update(self, gray: np.ndarray) -> float:
        """Gain ``g`` such that ``gray ~= g * previous frame`` for most of the scene (1.0 for the
        first frame)."""
        points = self.points = cv2.resize(gray, GRID, interpolation=cv2.INTER_LINEAR)
        previous, self._previous = self._previous, cv2.max(points, MIN_LEVEL)  # type: ignore[call-overload,unused-ignore]
        if previous is None:
            return 1.0
        # Dark points are divided by MIN_LEVEL rather than their own noisy level, so they cannot
        # produce wild ratios; five calls in all, since each numpy call on a cold cache costs
        # more than the arithmetic.
        ratios = cv2.divide(points, previous).ravel()
        middle = ratios.size // 2
        return float(np.partition(ratios, middle)[middle])


def is_light_step(gain: float, step: float) -> bool:
    """True when one frame's global change is larger than ``step`` in either direction.

    Symmetric in log terms, so brightening by 15 % and darkening to 1/1.15 count the same.
    """
    return abs(math.log(gain)) > math.log1p(step)
