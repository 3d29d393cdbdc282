"""Noise floor: keep the threshold above the sensor's current noise.

At night the sensor gain goes up and so does per-pixel noise; a fixed threshold tuned for daylight
then fires everywhere.  The noise is measured on the difference between *consecutive* frames,
which holds sensor noise (twice over) and frame-to-frame flicker but not slow scene changes that
a background lags behind (those are the background's business, and on our indoor clip they
inflated a background-based estimate threefold).  The 25th percentile is used: for Gaussian noise
``|d|`` is half-normal with q25 = 0.319 sigma_d, and the estimate stays honest while most of the
frame is moving.  A subsample of the pixels is plenty; an exponential average keeps it from
flickering with single frames.

At night that is not enough.  A compressed stream (RTSP, a recording) repeats most of a static
scene from frame to frame (the encoder's skipped blocks) and changes its noise pattern at each
keyframe, so consecutive frames hardly differ while every frame differs from the background by
the pattern of its group of pictures: day footage re-exposed at 10 lux and streamed at a camera's
bitrate (``tests/lowlight.py``) measured a consecutive-frame sigma of 0.4 against 2.6 from the
background.  With ``background``, the estimate is also taken from ``|frame - background|`` (the
same q25) and the larger of the two counts.  Only on quiet frames, when motion reported nothing:
while people walk through, the difference from the background grew threefold on our footage
(the encoder, short of bits for the moving parts, coarsens the rest; a background lags), and a
threshold raised by it lost the second visitor of an infrared lawn clip.  Between two quiet
frames the last measurement holds.  By day this changes nothing (2.5 sigma x 5 stays under the
22 grey levels of the daylight threshold, on every footage clip); in the dark, where the
threshold follows the scene's brightness down (``lowlight.py``), it is what keeps the encoder's
blocks from waking motion.
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
    """Running estimate of the per-pixel noise sigma of the motion frame: the larger of the
    consecutive-frame estimate and, once measured, the estimate against the background."""

    def __init__(self) -> None:
        self.sigma = 0.0
        self.temporal = 0.0
        self.background: float | None = None
        self._frames = 0

    def reset(self) -> None:
        self.sigma = self.temporal = 0.0
        self.background = None
        self._frames = 0

    def update(
        self,
        gray: np.ndarray,
        previous: np.ndarray,
        gain: float = 1.0,
        *,
        seen: np.ndarray | None = None,
        background: np.ndarray | None = None,
    ) -> float:
        """Fold the difference between two consecutive float32 frames into the estimate (every
        ``PERIOD`` frames); return the current sigma.  ``gain`` is the global brightness change
        between them, taken out first so that flicker and exposure steps are not called noise.
        With ``background`` (and ``seen``, the frame at the background's exposure), the
        difference from the background is measured too; the caller gives it on quiet frames
        only, and the last measurement holds in between."""
        self._frames += 1
        if self._frames % PERIOD != 1:
            return self.sigma
        before = previous[::STRIDE, ::STRIDE]
        if gain != 1.0:
            before = before * np.float32(gain)
        now = _sigma(gray[::STRIDE, ::STRIDE] - before)
        self.temporal = now if self._frames == 1 else _smoothed(self.temporal, now)
        if background is not None and seen is not None:
            # |x - b| is half-normal with sigma (not sigma * sqrt 2): the background is an average.
            lag = _sigma(seen[::STRIDE, ::STRIDE] - background[::STRIDE, ::STRIDE]) * SQRT2
            self.background = lag if self.background is None else _smoothed(self.background, lag)
        self.sigma = max(self.temporal, self.background or 0.0)
        return self.sigma


def _smoothed(old: float, new: float) -> float:
    return old + SMOOTHING * (new - old)


SQRT2 = math.sqrt(2.0)


def _sigma(difference: np.ndarray) -> float:
    """Sigma of the frames from the q25 of ``|difference|`` between two of them."""
    sample = np.abs(difference).ravel()
    k = sample.size * Q // 100
    return float(np.partition(sample, k)[k]) * Q_TO_SIGMA
