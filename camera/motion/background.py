"""The background: what the scene looks like when nothing moves.

Why a background and not just the previous frame: a consecutive-frame difference sees only the
*edges* of motion and loses a person who stops, while a difference against a learned background
keeps seeing them for as long as they differ from the scene.

Why two backgrounds.  A single running average has to choose: learn fast, and a person standing
at a table soaks into it, leaving a "ghost" that wakes the detector for seconds after they walk
out (our indoor footage: 40 frames of motion in an empty room after each long stay); or learn
slowly, and every parked car or moved chair wakes the detector for minutes.  So the stage keeps:

* ``recent`` - absorbs anything that stops changing, with a time constant of
  ``1 / learning_rate`` seconds (a stationary person is then kept by the tracker's refresh
  regions, not by motion);
* ``empty`` - the scene as last seen *without* foreground: it learns only pixels that match it,
  and absorbs a lasting change over minutes (``EMPTY_SETTLE_RATE``).

A pixel is motion only when it differs from both.  Where it differs from ``recent`` but matches
``empty``, what changed was ``recent``'s memory of an object that has left (a ghost): ``recent``
snaps back to the frame there.

Why selective learning: pixels that changed since the previous frame are learned by neither
model, so a walking person never smears into the background.

Why a neighbourhood difference against ``empty``: a pixel differs from it only when it lies
outside the range of the model's 3x3 neighbourhood (plus the threshold).  That is blind to shifts
of up to one motion pixel (~1 % of the frame): a camera on a pole swaying in the wind, fine
texture shimmering as it is downsampled, the first pixel of a slow drift (larger drifts are
followed by realigning ``empty``, see ``drift.py``).  An object has to differ from everything
around where it stands, which people, pets and cars do; a one-pixel-wide limb still does, because
the range is taken over the model, not over the frame.  Since motion needs both models to
differ, ``recent`` can use the cheap plain difference, and the range of ``empty`` (which changes
only every ``MAINTENANCE_PERIOD``) is cached.
"""

from __future__ import annotations

import logging
import math

import cv2  # type-ignores below: its stubs lack scalar-operand and None-kernel overloads
import numpy as np

from camera.motion.drift import MIN_SHIFT as DRIFT_MIN_SHIFT
from camera.motion.drift import PERIOD as DRIFT_PERIOD
from camera.motion.drift import DriftEstimator, shifted
from camera.motion.scratch import Scratch

log = logging.getLogger(__name__)

# Per second, how fast the empty-scene model absorbs a lasting change (a parked car, a moved
# chair): minutes, so a person standing at a door for a minute does not soak into it.
EMPTY_SETTLE_RATE = 1.0 / 300.0
# The empty model (and the ghost repair) is maintained every this many seconds rather than every
# frame: it changes slowly by design, and this keeps most frames down to a handful of calls.
# Ghost pixels never show as motion meanwhile (they match the empty model).
MAINTENANCE_PERIOD = 1.0
# Exposure changes are followed by dividing each frame by the gain accumulated since the models
# were last rescaled (one multiplication), and the two models are only rescaled (and their cached
# range rebuilt, ~8 calls) once that gain passes RESCALE_AFTER.  In between, the threshold acts
# on the models' exposure: at most 10 % off, and in the direction the scene's contrast moved too.
RESCALE_AFTER = 0.1
# Gains within this of 1 leave the frame as it is (at most ~1 grey level off): a static scene,
# or an auto-exposure hunting by a few tenths of a percent, costs nothing.
GAIN_TOLERANCE = 0.005
# An exposure that has stayed off for this many frames has settled: the models are rescaled
# once rather than every frame divided (our indoor clip's exposure sat 1-3 % off for the length
# of each visit).
SETTLED_FRAMES = 10


class Scene:
    """The ``recent`` and ``empty`` float32 backgrounds, kept in step (see the module docstring)."""

    def __init__(self) -> None:
        self._recent: np.ndarray | None = None
        self._empty: np.ndarray | None = None
        self._threshold = 0.0
        self._since_maintenance = 0.0
        self._since_drift_check = 0.0
        self._drift = DriftEstimator()
        self.night_guards = False
        """Follow a drift only when it improves the match and learn ``empty`` only where a 5x5
        neighbourhood matches (below): for low light (``motion.low_light``); off, the daylight
        behaviour is unchanged."""
        self.drift_min_shift = DRIFT_MIN_SHIFT
        """Smallest camera move followed, in motion pixels; raised on a noisy night picture,
        whose drift estimate jitters by itself (``lowlight.py``)."""
        self._scratch = Scratch()
        self._pending_gain = 1.0
        self._frames_off = 0  # consecutive frames the pending gain was beyond the tolerance
        # Where this frame differs from ``recent``; computed only when needed.
        self._differs_recent: np.ndarray | None = None
        # The empty model's widened 3x3 range, cached: it only changes on maintenance, rescaling
        # or a new threshold.
        self._empty_range: tuple[np.ndarray, np.ndarray, float] | None = None

    @property
    def shape(self) -> tuple[int, int] | None:
        if self._recent is None:
            return None
        height, width = self._recent.shape[:2]
        return height, width

    @property
    def recent(self) -> np.ndarray:
        """The recent model (read it, do not write it)."""
        assert self._recent is not None
        return self._recent

    @property
    def empty(self) -> np.ndarray:
        """The empty-scene model (read it, do not write it)."""
        assert self._empty is not None
        return self._empty

    def reset(self, gray: np.ndarray | None = None) -> None:
        """Forget everything; with ``gray`` (float32), start over from that frame."""
        self._recent = None if gray is None else gray.copy()
        self._empty = None if gray is None else gray.copy()
        self._differs_recent = None
        self._since_maintenance = 0.0
        self._since_drift_check = 0.0
        self._pending_gain = 1.0
        self._frames_off = 0
        self._empty_range = None

    def follow(self, gray: np.ndarray, gain: float) -> np.ndarray:
        """Account for the global gain (exposure change) since the previous frame; return
        ``gray`` brought to the models' exposure, which is what ``changes`` and ``learn`` take."""
        self._pending_gain *= gain
        if abs(self._pending_gain - 1.0) <= GAIN_TOLERANCE:
            self._frames_off = 0
            return gray
        self._frames_off += 1
        if abs(math.log(self._pending_gain)) > RESCALE_AFTER or self._frames_off >= SETTLED_FRAMES:
            self._scale(self._pending_gain)
            self._pending_gain, self._frames_off = 1.0, 0
            return gray
        seen = self._scratch.get("seen", gray.shape, np.float32)
        return cv2.multiply(gray, 1.0 / self._pending_gain, dst=seen)  # type: ignore[call-overload,unused-ignore]

    def changes(self, gray: np.ndarray, threshold: float) -> np.ndarray | None:
        """uint8 map (255) of pixels of ``gray`` that differ by more than ``threshold`` from the
        ``recent`` model and from the 3x3 neighbourhood range of the ``empty`` model; ``None``
        when nothing differs from the empty scene (most frames: one comparison, no map)."""
        assert self._recent is not None and self._empty is not None
        self._threshold = threshold
        self._differs_recent = None
        if self._empty_range is None or self._empty_range[2] != threshold:
            self._empty_range = (*_range(self._empty, threshold), threshold)
        scratch, shape = self._scratch, gray.shape
        near_empty = scratch.get("near_empty", shape, np.uint8)
        cv2.inRange(gray, self._empty_range[0], self._empty_range[1], dst=near_empty)
        if cv2.countNonZero(near_empty) == near_empty.size:
            return None
        difference = cv2.absdiff(gray, self._recent, dst=scratch.get("diff", shape, np.float32))
        self._differs_recent = cv2.compare(  # type: ignore[call-overload,unused-ignore]
            difference, threshold, cv2.CMP_GT, dst=scratch.get("differs", shape, np.uint8)
        )
        # 255 - 255 and 0 - x saturate to 0: "differs from recent and not near empty".
        changed = scratch.get("changed", shape, np.uint8)
        return cv2.subtract(self._differs_recent, near_empty, dst=changed)

    def absorb(self, gray: np.ndarray, changed: np.ndarray, box: tuple[int, int, int, int]) -> None:
        """Take ``gray`` into ``recent`` at once where ``changed`` within ``box`` (x, y, w, h): a
        local light change is accepted as the new look of the scene, not learned over seconds."""
        assert self._recent is not None
        x, y, w, h = box
        window = (slice(y, y + h), slice(x, x + w))
        cv2.copyTo(gray[window], changed[window], self._recent[window])

    def learn(self, gray: np.ndarray, dt: float, rate: float, free: np.ndarray | None) -> None:
        """Update the models from ``gray`` after ``changes``; ``dt`` seconds have passed since
        they last learned.

        ``recent`` learns at ``rate`` per second; every ``MAINTENANCE_PERIOD`` the ghosts in
        ``recent`` are repaired and ``empty`` learns where it matches (at ``rate``) and where a
        change has settled into ``recent`` (at ``EMPTY_SETTLE_RATE``); every ``DRIFT_PERIOD``
        ``empty`` is realigned if the camera moved.  With ``free`` (uint8), nothing is learned
        where it is 0 (pixels moving right now).
        """
        assert self._recent is not None and self._empty is not None
        cv2.accumulateWeighted(gray, self._recent, alpha_for(rate, dt), mask=free)
        self._since_maintenance += dt
        self._since_drift_check += dt
        if self._since_maintenance >= MAINTENANCE_PERIOD:
            self._maintain(gray, self._since_maintenance, rate, free)
            self._since_maintenance = 0.0
        if self._since_drift_check >= DRIFT_PERIOD:
            self._follow_drift(gray)
            self._since_drift_check = 0.0

    def relearn(self, gray: np.ndarray, alpha: float) -> None:
        """Blend ``gray`` into both models everywhere with weight ``alpha`` (light change)."""
        assert self._recent is not None and self._empty is not None
        cv2.accumulateWeighted(gray, self._recent, alpha)
        cv2.accumulateWeighted(gray, self._empty, alpha)
        self._empty_range = None

    def _scale(self, gain: float) -> None:
        """Multiply both models by a global gain, saturating like a sensor does."""
        assert self._recent is not None and self._empty is not None
        for model in (self._recent, self._empty):
            np.multiply(model, np.float32(gain), out=model)
            np.minimum(model, 255.0, out=model)
        self._empty_range = None

    def _follow_drift(self, gray: np.ndarray) -> None:
        """Move ``empty`` along when the camera has moved (``drift.py``), if the moved model
        matches the frame better than the unmoved one.

        That check is for the night: where the scene's texture is faint, the phase correlation
        leans towards whatever stands in it.  On day footage re-exposed at 1 lux
        (``tests/lowlight.py``) people standing at a table pulled the empty model 2-3 px off
        the room within 100 s (at 0.5 lux, 7.6 px), and after each visit every edge of the room
        woke motion.  The match is the mean difference with each pixel's capped at the
        threshold, so the person (a large difference either way) weighs the same both ways and
        the scene's edges decide."""
        assert self._empty is not None
        moved = self._drift.shift(self._empty, gray, self.drift_min_shift)
        if moved is None:
            return
        candidate = shifted(self._empty, *moved, fill=gray)
        if self.night_guards and self._mismatch(gray, candidate) >= self._mismatch(
            gray, self._empty
        ):
            log.debug("drift of (%.1f, %.1f) px not followed: it matches the frame worse", *moved)
            return
        log.debug("camera moved by (%.1f, %.1f) motion pixels; empty scene realigned", *moved)
        self._empty = candidate
        self._empty_range = None

    def _mismatch(self, gray: np.ndarray, model: np.ndarray) -> float:
        """Mean ``min(|gray - model|, threshold)`` after a Gaussian blur of both (sigma 1 px, so
        the slight blur an interpolated shift leaves does not count against it), leaving out a
        2-pixel border (a shift fills it from the frame)."""
        inner = np.s_[2:-2, 2:-2]
        a = cv2.GaussianBlur(gray, (5, 5), 1.0)[inner]
        b = cv2.GaussianBlur(model, (5, 5), 1.0)[inner]
        cap = max(1.0, self._threshold)
        return float(cv2.min(cv2.absdiff(a, b), cap).mean())  # type: ignore[call-overload,unused-ignore]

    def _maintain(self, gray: np.ndarray, dt: float, rate: float, free: np.ndarray | None) -> None:
        assert self._recent is not None and self._empty is not None
        differs_recent = self._differs_recent
        if differs_recent is None:
            differs_recent = _beyond(gray, self._recent, self._threshold)
        matches_empty = cv2.bitwise_not(_beyond(gray, self._empty, self._threshold))
        ghost = cv2.bitwise_and(matches_empty, differs_recent)
        cv2.copyTo(gray, ghost, self._recent)
        settled = cv2.bitwise_not(cv2.bitwise_or(matches_empty, differs_recent))
        # ``empty`` follows the scene only where the frame matches it plainly.  Not where it is
        # merely within the neighbourhood range: on a textured floor a dark trouser leg lies
        # inside the floor's local range, and learning it widens the range and lets more of the
        # leg in (tried: a standing visitor soaked into the empty model, and 19 % of the indoor
        # clip's empty frames woke).  Camera drift is followed by ``_follow_drift`` instead.
        # And only where the whole 5x5 neighbourhood matches: at night, when the threshold has
        # to stand near a person's faint contrast, the pixels of a standing person that happen
        # to match are scattered among those that do not, and learning them pulled the model a
        # little towards the person each second until all of them matched (day footage
        # re-exposed at 1 lux: a visitor who stood 28 s soaked in, and 3 s of the empty room
        # after they left woke motion).  Plain ground matches as a whole and keeps learning.
        learn = cv2.erode(matches_empty, _NEIGHBOURHOOD) if self.night_guards else matches_empty
        if free is not None:
            cv2.bitwise_and(learn, free, dst=learn)
            cv2.bitwise_and(settled, free, dst=settled)
        cv2.accumulateWeighted(gray, self._empty, alpha_for(rate, dt), mask=learn)
        cv2.accumulateWeighted(gray, self._empty, alpha_for(EMPTY_SETTLE_RATE, dt), mask=settled)
        self._empty_range = None


_NEIGHBOURHOOD = np.ones((5, 5), np.uint8)


def alpha_for(rate_per_second: float, dt: float) -> float:
    """Per-frame blend weight for a background time constant of ``1 / rate`` seconds.

    Expressed per second, not per frame, so the background forgets at the same speed whether
    the governor runs the camera at 2 fps or 30 fps.
    """
    return 1.0 - math.exp(-rate_per_second * dt)


def _range(model: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``model``'s 3x3 neighbourhood min and max, widened by ``threshold``: a frame pixel inside
    it does not differ from the model."""
    low = cv2.erode(model, None)  # type: ignore[call-overload,unused-ignore]
    high = cv2.dilate(model, None)  # type: ignore[call-overload,unused-ignore]
    cv2.subtract(low, threshold, dst=low)  # type: ignore[call-overload,unused-ignore]
    cv2.add(high, threshold, dst=high)  # type: ignore[call-overload,unused-ignore]
    return low, high


def _beyond(gray: np.ndarray, model: np.ndarray, threshold: float) -> np.ndarray:
    """uint8 map (255) where ``|gray - model| > threshold``."""
    return cv2.compare(cv2.absdiff(gray, model), threshold, cv2.CMP_GT)  # type: ignore[call-overload,unused-ignore]
