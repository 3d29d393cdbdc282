"""Noise floor: keep the threshold above the sensor's current noise.

At night the sensor gain goes up and so does per-pixel noise; a fixed threshold tuned for daylight
then fires everywhere.  The noise sigma is estimated from the *25th percentile* of the difference
image: for pure Gaussian noise ``|d|`` is half-normal with q25 = 0.319 sigma, and the estimate
stays honest while up to 75 % of the frame is genuinely moving (a median would be fooled by an
object covering half the frame close to the lens).  A subsample of the pixels is plenty and keeps
it at a few microseconds; an exponential average keeps it from flickering with single frames.
"""

from __future__ import annotations

import numpy as np

Q = 25
Q_TO_SIGMA = 1.0 / 0.3186
# Take every STRIDE-th pixel in each direction for the estimate.
STRIDE = 3
# Per-frame weight of the newest estimate.
SMOOTHING = 0.1


class NoiseFloor:
    """Running estimate of the noise sigma of the background difference."""

    def __init__(self) -> None:
        self.sigma: float | None = None

    def reset(self) -> None:
        self.sigma = None

    def update(self, diff: np.ndarray) -> float:
        """Fold this frame's difference image into the estimate; return the current sigma."""
        sample = diff[::STRIDE, ::STRIDE].ravel()
        k = sample.size * Q // 100
        now = float(np.partition(sample, k)[k]) * Q_TO_SIGMA
        self.sigma = now if self.sigma is None else self.sigma + SMOOTHING * (now - self.sigma)
        return self.sigma
