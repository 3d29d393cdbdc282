"""The background: what the scene looks like when nothing moves.

Why a background and not just the previous frame: a consecutive-frame difference sees only the
*edges* of motion and loses a person who stops, while a difference against a learned background
keeps seeing them for as long as they differ from the scene.

Why two backgrounds.  A single running average has to choose: learn fast, and a person standing
at a table soaks into it, leaving a "ghost" that wakes the detector for seconds after they walk
out (our indoor footage: 40 frames of motion in an empty room after each long stay); or learn
slowly, and every parked car or moved chair wakes the detector for minutes.  So the stage keeps:

* ``recent`` - absorbs anything that stops changing within a few ``1 / learning_rate`` seconds
  (stationary people are then kept by the tracker's refresh regions, not by motion);
* ``empty`` - the scene as last seen *without* foreground: it learns only pixels that match it,
  and absorbs a lasting change over minutes (``EMPTY_SETTLE_RATE``).

A pixel is motion only when it differs from both.  Where it differs from ``recent`` but matches
``empty``, what changed was ``recent``'s memory of an object that has left (a ghost): ``recent``
snaps back to the frame there.

Why selective learning: pixels inside blobs that are moving right now are learned by neither
model, so a walking person never smears into the background.

Why a neighbourhood difference against ``empty``: a pixel differs from it only when it lies
outside the range of the model's 3x3 neighbourhood (plus the threshold).  That is blind to shifts
of up to one motion pixel (~1 % of the frame): a camera on a pole swaying in the wind, a slowly
drifting mount (our car park clip drifts a few pixels in 30 s, which lit up every white parking
line), or fine texture shimmering as it is downsampled.  An object has to differ from everything
around where it stands, which people, pets and cars do; a one-pixel-wide limb still does, because
the range is taken over the model, not over the frame.  Since motion needs both models to
differ, ``recent`` can use the cheap plain difference, and the range of ``empty`` (which changes
only every ``MAINTENANCE_PERIOD``) is cached.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# Per second, how fast the empty-scene model absorbs a lasting change (a parked car, a moved
# chair): minutes, so a person standing at a door for a minute does not soak into it.
EMPTY_SETTLE_RATE = 1.0 / 300.0
# The empty model (and the ghost repair) is maintained every this many seconds rather than every
# frame: it changes slowly by design, and this saves ~a third of the per-frame work.  Ghost
# pixels never show as motion meanwhile (they match the empty model).
MAINTENANCE_PERIOD = 0.3


class Scene:
    """The ``recent`` and ``empty`` float32 backgrounds, kept in step (see the module docstring)."""

    def __init__(self) -> None:
        self._recent: np.ndarray | None = None
        self._empty: np.ndarray | None = None
        self._differs_recent: np.ndarray | None = None
        self._threshold = 0.0
        self._since_maintenance = 0.0
        # The empty model's widened 3x3 range, cached: it only changes on maintenance, rescaling
        # or a new threshold, and recomputing it is a third of the per-frame work.
        self._empty_range: tuple[np.ndarray, np.ndarray, float] | None = None

    @property
    def shape(self) -> tuple[int, int] | None:
        return None if self._recent is None else self._recent.shape[:2]

    def reset(self, gray: np.ndarray | None = None) -> None:
        """Forget everything; with ``gray`` (float32), start over from that frame."""
        self._recent = None if gray is None else gray.copy()
        self._empty = None if gray is None else gray.copy()
        self._differs_recent = None
        self._since_maintenance = 0.0
        self._empty_range = None

    @property
    def empty(self) -> np.ndarray:
        """The empty-scene model (read it, do not write it)."""
        assert self._empty is not None
        return self._empty

    def absorb(self, gray: np.ndarray, changed: np.ndarray, box: tuple[int, int, int, int]) -> None:
        """Take ``gray`` into ``recent`` at once where ``changed`` within ``box`` (x, y, w, h): a
        local light change is accepted as the new look of the scene, not learned over seconds."""
        assert self._recent is not None
        x, y, w, h = box
        window = (slice(y, y + h), slice(x, x + w))
        cv2.copyTo(gray[window], changed[window], self._recent[window])

    def scale(self, gain: float) -> None:
        """Multiply both models by a global gain (exposure change), saturating like a sensor."""
        assert self._recent is not None and self._empty is not None
        for model in (self._recent, self._empty):
            np.multiply(model, np.float32(gain), out=model)
            np.minimum(model, 255.0, out=model)
        self._empty_range = None

    def changes(self, gray: np.ndarray, threshold: float) -> np.ndarray:
        """uint8 map (255) of pixels of ``gray`` that differ by more than ``threshold`` from the
        3x3 neighbourhood range of both models."""
        assert self._recent is not None and self._empty is not None
        self._threshold = threshold
        self._differs_recent = cv2.compare(cv2.absdiff(gray, self._recent), threshold, cv2.CMP_GT)
        if self._empty_range is None or self._empty_range[2] != threshold:
            self._empty_range = (*_range(self._empty, threshold), threshold)
        near_empty = cv2.inRange(gray, self._empty_range[0], self._empty_range[1])
        # 255 - 255 and 0 - x saturate to 0: "differs from recent and not near empty".
        return cv2.subtract(self._differs_recent, near_empty)

    def learn(self, gray: np.ndarray, dt: float, rate: float, frozen: np.ndarray | None) -> None:
        """Update the models from ``gray`` after ``changes``.

        ``recent`` learns at ``rate`` per second; every ``MAINTENANCE_PERIOD`` the ghosts in
        ``recent`` are repaired and ``empty`` learns where it matches (at ``rate``) and where a
        change has settled into ``recent`` (at ``EMPTY_SETTLE_RATE``).  Nothing is learned where
        ``frozen`` (uint8, 255 = moving right now) is set.  ``dt`` is the frame interval in s.
        """
        assert self._recent is not None and self._empty is not None
        free = None if frozen is None else cv2.bitwise_not(frozen)
        cv2.accumulateWeighted(gray, self._recent, alpha_for(rate, dt), mask=free)
        self._since_maintenance += dt
        if self._since_maintenance >= MAINTENANCE_PERIOD:
            self._maintain(gray, self._since_maintenance, rate, free)
            self._since_maintenance = 0.0

    def relearn(self, gray: np.ndarray, alpha: float) -> None:
        """Blend ``gray`` into both models everywhere with weight ``alpha`` (light change)."""
        assert self._recent is not None and self._empty is not None
        cv2.accumulateWeighted(gray, self._recent, alpha)
        cv2.accumulateWeighted(gray, self._empty, alpha)
        self._empty_range = None

    def _maintain(self, gray: np.ndarray, dt: float, rate: float, free: np.ndarray | None) -> None:
        assert self._recent is not None and self._empty is not None
        assert self._differs_recent is not None
        # Plain (not neighbourhood) match: on a textured floor a dark trouser leg lies inside the
        # floor's local range and would slowly leak into the empty model.
        matches_empty = _within(gray, self._empty, self._threshold)
        ghost = cv2.bitwise_and(matches_empty, self._differs_recent)
        cv2.copyTo(gray, ghost, self._recent)
        settled = cv2.bitwise_not(cv2.bitwise_or(matches_empty, self._differs_recent))
        if free is not None:
            cv2.bitwise_and(matches_empty, free, dst=matches_empty)
            cv2.bitwise_and(settled, free, dst=settled)
        cv2.accumulateWeighted(gray, self._empty, alpha_for(rate, dt), mask=matches_empty)
        cv2.accumulateWeighted(gray, self._empty, alpha_for(EMPTY_SETTLE_RATE, dt), mask=settled)
        self._empty_range = None


def alpha_for(rate_per_second: float, dt: float) -> float:
    """Per-frame blend weight for a background time constant of ``1 / rate`` seconds.

    Expressed per second, not per frame, so the background forgets at the same speed whether
    the governor runs the camera at 2 fps or 30 fps.
    """
    return 1.0 - math.exp(-rate_per_second * dt)


def _range(model: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``model``'s 3x3 neighbourhood min and max, widened by ``threshold``: a frame pixel inside
    it does not differ from the model."""
    low = cv2.erode(model, None)
    high = cv2.dilate(model, None)
    cv2.subtract(low, threshold, dst=low)
    cv2.add(high, threshold, dst=high)
    return low, high


def _within(gray: np.ndarray, model: np.ndarray, threshold: float) -> np.ndarray:
    """uint8 map (255) where ``|gray - model| <= threshold``."""
    return cv2.compare(cv2.absdiff(gray, model), threshold, cv2.CMP_LE)
