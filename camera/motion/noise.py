"""Noise floor: keep the threshold above the sensor's current noise.

At night the sensor gain goes up and so does per-pixel noise; a fixed threshold tuned for daylight
then fires everywhere.  The noise is measured on the difference between *consecutive* frames,
which holds sensor noise (twice over) and frame-to-frame flicker but not slow scene changes that
a background lags behind (those are the background's business, and on our indoor clip they
inflated a background-based estimate threefold).  The 25th percentile is used: for Gaussian noise
``|d|`` is half-normal with q25 = 0.319 sigma_d, and the estimate stays honest while most of the
frame is moving.  A subsample of the pixels is plenty; an exponential average keeps it from
flickering with single frames.
"""

from __future__ import annotations

import math

import numpy as np

Q = 25
# q25 of |N(0, 2 sigma^2)| = 0.3186 * sqrt(2) * sigma.
Q_TO_SIGMA = 1.0 / (0.3186 * math.sqrt(2.0))
# Take every STRIDE-th pixel in each direction for the estimate (~1100 of a 178x100 frame).
STRIDE = 4
# Measure on every PERIOD-th frame only: noise changes with the light, over seconds.
PERIOD = 8
# Weight of the newest measurement.
SMOOTHING = 0.3


class NoiseFloor:
    """Running estimate of the per-pixel noise sigma of the motion frame."""

    def __init__(self) -> None:
        self.sigma = 0.0
        self._frames = 0

    def reset(self) -> None:
        self.sigma = 0.0
        self._frames = 0

    def update(self, gray: np.ndarray, previous: np.ndarray, gain: float = 1.0) -> float:
        """Fold the difference between two consecutive float32 frames into the estimate (every
        ``PERIOD`` frames); return the current sigma.  ``gain`` is the global brightness change
        between them, taken out first so that flicker and exposure steps are not called noise."""
        self._frames += 1
        if self._frames % PERIOD != 1:
            return self.sigma
        before = previous[::STRIDE, ::STRIDE]
        if gain != 1.0:
            before = before * np.float32(gain)
        sample = np.abs(gray[::STRIDE, ::STRIDE] - before).ravel()
        k = sample.size * Q // 100
        now = float(np.partition(sample, k)[k]) * Q_TO_SIGMA
        self.sigma = now if self._frames == 1 else self.sigma + SMOOTHING * (now - self.sigma)
        return self.sigma
