"""The motion detector: small gray frame in, persistent motion boxes (full-frame pixels) out.

Per frame, on a ~178x100 image:

1. shrink + 3x3 blur (``downscale.py``; the shrink is free when the Pi's lores Y plane is given);
2. measure the frame-to-frame global gain (``light.py``) and bring the frame to the backgrounds'
   exposure (``background.py``), so auto-exposure and cloud ramps cancel out;
3. compare with both backgrounds (``background.py``) at ``max(threshold, noise_factor * sigma)``
   (``noise.py``; in the dark the threshold follows the scene's brightness down, ``lowlight.py``)
   and drop masked pixels (``masks.py``);
4. a light change (one-frame brightness jump beyond ``light_step``, or more than
   ``light_change_fraction`` of the frame changed even after gain compensation) restarts the
   backgrounds from this frame and reports nothing for ``relearn_frames`` frames;
5. otherwise group changed pixels into blobs, drop blobs under ``min_area``, keep only blobs
   seen for ``persistence_frames`` consecutive frames (``persistence.py``), and of those drop
   (and absorb) blobs that are the old texture under new light (``shading.py``);
6. every ``LEARN_PERIOD``, learn the frame into the backgrounds, except pixels that changed
   since the previous frame.

A quiet frame exits after step 3 with nothing to group: about ten OpenCV calls on 18k pixels,
all writing into re-used arrays (``scratch.py``).
"""

from __future__ import annotations

import logging

import cv2  # type-ignores below: its stubs lack scalar-operand and None-kernel overloads
import numpy as np

from camera.motion.background import Scene
from camera.motion.config import MotionConfig
from camera.motion.downscale import motion_size, shrink
from camera.motion.light import GainTracker, is_light_step
from camera.motion.lowlight import SceneLevel, drift_min_shift
from camera.motion.masks import MaskCache
from camera.motion.noise import NoiseFloor
from camera.motion.persistence import Blob, Persistence, Sighting
from camera.motion.scratch import Scratch
from camera.motion.shading import is_lighting
from camera.types import Box, Frame, MotionResult

log = logging.getLogger(__name__)

# Frame interval assumed when timestamps do not advance (synthetic frames, broken clocks) or jump
# (pauses): 10 fps, the Pi camera's usual motion rate.
NOMINAL_DT = 0.1
MAX_DT = 2.0
# Per-frame blend weight while re-learning after a light change: halves the remaining difference
# each frame, so auto-exposure that keeps settling for a few frames is followed.
RELEARN_ALPHA = 0.5
# Blobs beyond this many (largest kept) are ignored: heavy rain or a shaken camera should not
# cost unbounded Python work; the frame is busy anyway.
MAX_BLOBS = 32
# Blobs touching the frame's edge need this many times ``min_area``.  A drifting or swaying camera
# brings new content in at the edges, which no background has seen and the neighbourhood
# tolerance cannot match; our car park clip drifts a white line into a corner, and with slightly
# more sensitive settings that corner woke the detector on 55 % of the empty frames.  A person
# walking in fills a large blob within a frame or two anyway.
EDGE_AREA_FACTOR = 2.0
# The backgrounds learn every this many seconds (with the weight of all the frames since), not
# every frame: a time constant of seconds does not need 10-30 updates per second, and the
# frames in between then skip the learning work.
LEARN_PERIOD = 0.2
# A reported blob's light-change verdict is re-checked after this many frames (a shadow can be
# joined by the person casting it without the blob changing much).
REJUDGE_FRAMES = 10
_BLUR = np.array([0.25, 0.5, 0.25], np.float32)


class MotionDetector:
    """Background-difference motion detection on a small grayscale frame.

    ``frame_size`` is the ``(width, height)`` of full frames; boxes are returned in that space.
    """

    def __init__(self, config: MotionConfig, frame_size: tuple[int, int]) -> None:
        self._params = config.resolve()
        self._size = motion_size(frame_size, self._params.height)
        self._masks = MaskCache(config.masks)
        self._scene = Scene()
        self._scene.night_guards = self._params.low_light
        self._gain = GainTracker()
        self._noise = NoiseFloor()
        self._level = SceneLevel()
        self._quiet = True  # the previous frame reported no motion (``noise.py``)
        self._persistence = Persistence(self._params.persistence_frames)
        self._previous: np.ndarray | None = None
        self._last_timestamp: float | None = None
        self._relearn_left = 0
        self._unlearned = 0.0  # seconds of frames since the backgrounds last learned
        self._scratch = Scratch()
        self._flip = False  # which of two scratch arrays holds this frame (the other: previous)

    def set_masks(self, polygons: list[list[tuple[float, float]]]) -> None:
        """Use new ignore-masks from the next frame on, keeping the learned backgrounds."""
        self._masks = MaskCache(polygons)

    def reconfigure(self, config: MotionConfig) -> bool:
        """Take new options from the next frame on, keeping the learned backgrounds (a change
        of sensitivity at nightfall must not blind motion while it re-learns the scene).
        False, and nothing changed, when the motion frame's height differs: the caller builds
        a new detector then."""
        params = config.resolve()
        if params.height != self._params.height:
            return False
        self._masks = MaskCache(config.masks)  # rasterised again at the next frame: cheap
        self._params = params
        self._scene.night_guards = params.low_light
        self._persistence.frames = params.persistence_frames
        return True

    def reset(self) -> None:
        """Forget the backgrounds and all history (the camera moved, the stream reconnected)."""
        self._scene.reset()
        self._gain.reset()
        self._noise.reset()
        self._level.reset()
        self._quiet = True
        self._persistence.reset()
        self._previous = None
        self._last_timestamp = None
        self._relearn_left = 0
        self._unlearned = 0.0

    def update(self, frame: Frame) -> MotionResult:
        """Process one frame and return the motion that persisted long enough to matter."""
        result = self._update(frame)
        self._quiet = not result.boxes and not result.light_change
        return result

    def _update(self, frame: Frame) -> MotionResult:
        p = self._params
        gray = self._gray(frame)
        dt = self._interval(frame.timestamp)
        gain = self._gain.update(gray)
        previous, self._previous = self._previous, gray
        if previous is None or self._scene.shape != gray.shape:
            if previous is not None:
                log.info("motion frame shape changed to %s; starting over", gray.shape)
            self._scene.reset(gray)
            self._persistence.reset()
            return MotionResult()

        seen = self._scene.follow(gray, gain)  # gray at the backgrounds' exposure
        threshold = self._threshold(gray, previous, seen, gain)
        changed = self._scene.changes(seen, threshold)
        count = 0
        if changed is not None:
            keep = self._masks.get(gray.shape)
            if keep is not None:
                cv2.bitwise_and(changed, keep, dst=changed)
            count = cv2.countNonZero(changed)
        fraction = count / self._masks.kept_pixels(gray.shape)

        if is_light_step(gain, p.light_step) or fraction > p.light_change_fraction:
            if self._relearn_left == 0:
                log.debug("light change: gain %.2f, %.0f%% of frame changed", gain, 100 * fraction)
            self._scene.reset(gray)
            self._persistence.reset()
            self._relearn_left = p.relearn_frames
            return MotionResult(changed_fraction=fraction, light_change=True)
        if self._relearn_left > 0:
            self._relearn_left -= 1
            self._scene.relearn(seen, RELEARN_ALPHA)
            return MotionResult(changed_fraction=fraction, light_change=True)

        self._unlearned += dt
        learn = self._unlearned >= LEARN_PERIOD
        if not count:
            self._persistence.update([])
            if learn:
                self._learn(seen, None)
            return MotionResult(changed_fraction=fraction)
        assert changed is not None
        sightings = self._persistence.update(self._blobs(changed))
        reported = [s.blob for s in sightings if self._reportable(s, seen, changed)]
        if learn:
            self._learn(seen, self._free(gray, previous, threshold))
        return MotionResult(boxes=self._to_frame(reported, frame), changed_fraction=fraction)

    def _threshold(
        self, gray: np.ndarray, previous: np.ndarray, seen: np.ndarray, gain: float
    ) -> float:
        """``max(floor, noise_factor * sigma)``: the floor is ``threshold``, scaled down with
        the scene's brightness in low light (``lowlight.py``), where the noise is also measured
        against the background (``noise.py``)."""
        p = self._params
        if not p.low_light:
            return max(p.threshold, p.noise_factor * self._noise.update(gray, previous, gain))
        recent = self._scene.recent if self._quiet else None
        sigma = self._noise.update(gray, previous, gain, seen=seen, background=recent)
        factor = self._level.factor(self._gain.points)
        self._scene.drift_min_shift = drift_min_shift(factor)
        return max(p.threshold * factor, p.noise_factor * sigma)

    def _learn(self, gray: np.ndarray, free: np.ndarray | None) -> None:
        self._scene.learn(gray, self._unlearned, self._params.learning_rate, free)
        self._unlearned = 0.0

    def _gray(self, frame: Frame) -> np.ndarray:
        """The blurred float32 motion frame: the supplied lores plane if any, else shrunk BGR."""
        if frame.gray_small is not None:
            src = frame.gray_small
            size = (src.shape[1], src.shape[0])
            if src.shape[0] > 2 * self._params.height:
                size = motion_size(size, self._params.height)
        else:
            src = frame.image
            size = self._size
        # 3x3 binomial blur and conversion to float32 in one call: divides sensor noise by ~2.5
        # (without it, night noise raised the threshold to twice its daylight value) but keeps
        # more texture than a 3x3 mean, and texture is what tells light from objects
        # (``shading.py``; with a 3x3 mean the cloud-shadow test woke on 16 of 80 frames).
        small = shrink(src, size, self._scratch)
        self._flip = not self._flip
        out = self._scratch.get(f"frame{int(self._flip)}", small.shape, np.float32)
        return cv2.sepFilter2D(small, cv2.CV_32F, _BLUR, _BLUR, dst=out)

    def _interval(self, timestamp: float) -> float:
        last, self._last_timestamp = self._last_timestamp, timestamp
        if last is None:
            return NOMINAL_DT
        dt = timestamp - last
        return dt if 0.0 < dt <= MAX_DT else NOMINAL_DT

    def _blobs(self, changed: np.ndarray) -> list[Blob]:
        """Connected changed areas with at least ``min_area`` changed pixels (twice that at the
        frame's edge).

        A 3x3 dilation first joins the fragments one object leaves (legs, arms, a shirt the
        colour of the wall), but the area counts only pixels that really changed.  External
        contours are ~10x cheaper than labelling every pixel on these sparse maps.
        """
        grouped = cv2.dilate(  # type: ignore[call-overload,unused-ignore]
            changed, None, dst=self._scratch.get("grouped", changed.shape, np.uint8)
        )
        contours, _ = cv2.findContours(grouped, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        height, width = changed.shape
        min_px = self._params.min_area * height * width
        blobs = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            at_edge = x == 0 or y == 0 or x + w == width or y + h == height
            need = min_px * EDGE_AREA_FACTOR if at_edge else min_px
            if w * h < need:
                continue  # the box area bounds the changed pixels from above: skip the count
            area = cv2.countNonZero(changed[y : y + h, x : x + w])
            if area >= need:
                blobs.append(Blob(x, y, w, h, area))
        if len(blobs) > MAX_BLOBS:
            blobs = sorted(blobs, key=lambda b: b.area, reverse=True)[:MAX_BLOBS]
        return blobs

    def _reportable(self, sighting: Sighting, gray: np.ndarray, changed: np.ndarray) -> bool:
        """Persisted long enough, and not a local light change (``shading.py``; judged once per
        blob and again every ``REJUDGE_FRAMES``).  Light changes are absorbed instead."""
        if sighting.hits < self._persistence.frames:
            return False
        if sighting.light is None or sighting.hits - sighting.judged_at >= REJUDGE_FRAMES:
            sighting.light = is_lighting(gray, self._scene.empty, changed, sighting.blob)
            sighting.judged_at = sighting.hits
        if sighting.light:
            b = sighting.blob
            self._scene.absorb(gray, changed, (b.x, b.y, b.w, b.h))
        return not sighting.light

    def _free(self, gray: np.ndarray, previous: np.ndarray, threshold: float) -> np.ndarray:
        """Mask (255) of where the backgrounds may learn: everywhere except pixels that changed
        since the previous frame.  Moving things never smear into the backgrounds, while
        whatever stands still - a parked car, the still parts of a person standing at a table -
        is learned, and stops waking the detector once ``recent`` has absorbed it; the parts
        that keep moving (a gesturing hand) stay motion."""
        step = cv2.absdiff(gray, previous, dst=self._scratch.get("step", gray.shape, np.float32))
        free = self._scratch.get("free", gray.shape, np.uint8)
        return cv2.compare(step, threshold, cv2.CMP_LE, dst=free)  # type: ignore[call-overload,unused-ignore]

    def _to_frame(self, blobs: list[Blob], frame: Frame) -> tuple[Box, ...]:
        if not blobs:
            return ()
        full_w, full_h = frame.size
        small_h, small_w = self._scene.shape or (1, 1)
        sx, sy = full_w / small_w, full_h / small_h
        return tuple(
            Box(
                float(b.x * sx),
                float(b.y * sy),
                float(min(full_w, (b.x + b.w) * sx)),
                float(min(full_h, (b.y + b.h) * sy)),
            )
            for b in blobs
        )
