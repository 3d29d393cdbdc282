"""Low light: the threshold follows the scene's brightness down, and the noise holds it up.

Why the daylight threshold fails at night.  A camera's picture is gamma-encoded: when the light
falls by a factor ``b`` after auto-exposure has run out of gain, every grey level - and so every
*difference* between a person and the ground behind them - shrinks by about ``b ** (1 / 2.2)``.
Day footage re-exposed at 1 lux in the sensor model of ``tests/lowlight.py`` keeps 36 % of its
grey levels: a person who stood 40 levels off the floor stands 14 off it, under the 22 of the
medium preset, and motion never wakes (a person walking through a dark yard: 0 of 565 frames).

So the threshold's floor scales with the scene's brightness, ``threshold * level / REFERENCE``
(never below ``MIN_FACTOR`` of it), where ``level`` is the median of the 32x18 grid the gain is
measured on (``light.py``), smoothed.  Every daylight clip of the footage sits above
``REFERENCE`` (medians 113-140), so by day nothing changes.  A relative floor keeps the same
decisions for everything that dims with the light - texture shimmer, a swaying branch's
contrast, the local light changes of ``shading.py`` - exactly as by day.  What does not dim is
sensor and compression noise, and that is the other half of the threshold: ``noise_factor``
sigmas of the noise measured against the background (``noise.py``), which at night is what
decides how faint a person may be and still be seen.

The same factor raises the smallest camera drift that is followed (``drift.py``), as
``MIN_SHIFT / factor``: on a noisy picture with faint texture the phase correlation jitters by
itself and leans towards whatever stands in the room.  Day footage re-exposed at 1 lux read a
still camera as moving by up to 0.21 px on empty frames, and the corrections, pulled by people
standing at a table, walked the empty model 2-3 px off the scene within 100 s; each visit then
left the room's edges waking motion.  At 1 lux (factor 0.44) only moves of 0.34 px are
followed, still well inside the one-pixel tolerance of the background difference.
"""

from __future__ import annotations

import numpy as np

from camera.motion.drift import MIN_SHIFT

# Median grey level (0..255) of a scene at or above which the full threshold applies.  The
# footage's daylight scenes measure 113-140 and auto-exposure aims at about 100-130.
REFERENCE = 100.0
# The floor never drops below this share of the threshold (22 -> 4.4 grey levels, the size of
# the 8-bit rounding and blur left on a dark picture).
MIN_FACTOR = 0.2
# Measured every this many frames: light changes over seconds.
PERIOD = 8
SMOOTHING = 0.3


class SceneLevel:
    """The scene's median brightness, and the share of the threshold it allows."""

    def __init__(self) -> None:
        self.level: float | None = None
        self._frames = 0

    def reset(self) -> None:
        self.level = None
        self._frames = 0

    def factor(self, points: np.ndarray | None) -> float:
        """The threshold's share for this frame, from its brightness grid ``points``
        (re-measured every ``PERIOD`` frames)."""
        self._frames += 1
        if points is not None and (self.level is None or self._frames % PERIOD == 1):
            middle = points.size // 2
            now = float(np.partition(points.ravel(), middle)[middle])
            self.level = now if self.level is None else self.level + SMOOTHING * (now - self.level)
        if self.level is None:
            return 1.0
        return min(1.0, max(MIN_FACTOR, self.level / REFERENCE))


def drift_min_shift(factor: float) -> float:
    """The smallest camera move to follow at a threshold ``factor`` (see the module docstring)."""
    return min(MAX_DRIFT_MIN_SHIFT, MIN_SHIFT / factor)


# Never wait for more than this (motion pixels) before following a drift: the background
# difference tolerates one.
MAX_DRIFT_MIN_SHIFT = 0.5
