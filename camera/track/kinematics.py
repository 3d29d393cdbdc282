"""Where a tracked object will be: a small Kalman filter per axis, in units of the object's size.

Why a filter at all: between two detections a dog running across the frame moves several times
its own width, so "the new box overlaps the old one" (the old rule, and IoU trackers without
prediction) loses it and a new event starts.  Predicting the position from the velocity seen so
far, and widening the search with the time since the object was last seen, keeps it.

Why this filter:

* **Per axis, two states (position, velocity).**  With independent noise on x and y, the usual
  4-state constant-velocity filter splits exactly into two 2-state ones; a step is a dozen float
  operations in plain Python, no matrices (Norfair's "optimized" filter makes the same split).
  Box width and height are smoothed on their own.
* **A velocity that fades while unobserved** (an Ornstein-Uhlenbeck velocity, the "Singer
  model"): ``v(t + dt) = v * exp(-dt / tau)``.  A pure constant-velocity filter extrapolates for
  ever, so a person who stops behind a hedge would be predicted to walk on out of the picture;
  with a fading velocity the prediction travels at most ``v * tau``, and the uncertainty then
  grows like a random walk: the search widens with the time unseen.
* **Noise in object sizes, time in seconds.**  A person 400 px tall jitters and moves by more
  pixels than one 40 px tall, so every noise term is a multiple of the object's size (with a
  pixel floor for tiny boxes), and the filter steps by the real time between frames: frames the
  governor or motion gating dropped are simply a longer step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from camera.types import Box


@dataclass(frozen=True, slots=True)
class MotionNoise:
    """The filter's assumptions, in object sizes (``sqrt(w * h)``) and seconds."""

    measurement: float = 0.08
    """Detector jitter of a box centre, as a share of the object's size (1 sigma)."""
    measurement_px: float = 1.5
    """Pixel floor of that jitter: a 10 px box still wobbles by a pixel or two."""
    speed: float = 1.5
    """Spread of speeds, in object sizes per second (1 sigma): the velocity prior of a new
    track, and how far a velocity may change within ``velocity_memory_s``."""
    velocity_memory_s: float = 1.0
    """Time constant with which an unobserved velocity fades to zero."""
    size_gain: float = 0.5
    """How much of a new box's width and height is taken at each detection (smoothing)."""


DEFAULT_NOISE = MotionNoise()


@dataclass(slots=True)
class AxisState:
    """Position and velocity along one axis, with covariance ``[[pp, pv], [pv, vv]]`` (px, s)."""

    position: float
    velocity: float
    pp: float
    pv: float
    vv: float

    def stepped(self, dt: float, tau: float, speed_var: float) -> AxisState:
        """The state ``dt`` seconds later (exact transition and noise of the OU velocity)."""
        if dt <= 0:
            return AxisState(self.position, self.velocity, self.pp, self.pv, self.vv)
        fade = math.exp(-dt / tau)
        reach = tau * (1.0 - fade)
        pp = self.pp + 2.0 * reach * self.pv + reach * reach * self.vv
        pv = fade * (self.pv + reach * self.vv)
        vv = fade * fade * self.vv
        one_minus = 1.0 - fade
        pp += speed_var * tau * tau * (2.0 * dt / tau - 3.0 + 4.0 * fade - fade * fade)
        pv += speed_var * tau * one_minus * one_minus
        vv += speed_var * (1.0 - fade * fade)
        return AxisState(self.position + self.velocity * reach, self.velocity * fade, pp, pv, vv)

    def corrected(self, measured: float, noise_var: float) -> AxisState:
        """The state after observing the position ``measured`` with variance ``noise_var``."""
        innovation_var = self.pp + noise_var
        gain_p = self.pp / innovation_var
        gain_v = self.pv / innovation_var
        residual = measured - self.position
        return AxisState(
            self.position + gain_p * residual,
            self.velocity + gain_v * residual,
            (1.0 - gain_p) * self.pp,
            (1.0 - gain_p) * self.pv,
            self.vv - gain_v * self.pv,
        )


@dataclass(frozen=True, slots=True)
class Prediction:
    """Where the object should be now: centre, smoothed size and the centre's variance per axis
    (filter uncertainty plus the jitter of a new detection, i.e. the innovation variance)."""

    cx: float
    cy: float
    width: float
    height: float
    var_x: float
    var_y: float

    @property
    def box(self) -> Box:
        half_w, half_h = self.width / 2.0, self.height / 2.0
        return Box(self.cx - half_w, self.cy - half_h, self.cx + half_w, self.cy + half_h)

    def distance2(self, cx: float, cy: float) -> float:
        """Squared Mahalanobis distance of a detection's centre from the prediction."""
        dx, dy = cx - self.cx, cy - self.cy
        return dx * dx / self.var_x + dy * dy / self.var_y


class Kinematics:
    """One object's motion state; ``predict(t)`` is pure, ``observe(box, t)`` moves it on."""

    __slots__ = ("_cached", "_cached_at", "height", "noise", "time", "width", "x", "y")

    def __init__(self, box: Box, time: float, noise: MotionNoise = DEFAULT_NOISE) -> None:
        self.noise = noise
        self.width, self.height = max(box.width, 1.0), max(box.height, 1.0)
        self.time = time
        cx, cy = box.center
        meas = self._measurement_var()
        speed_var = self._speed_var()
        self.x = AxisState(cx, 0.0, meas, 0.0, speed_var)
        self.y = AxisState(cy, 0.0, meas, 0.0, speed_var)
        self._cached: tuple[AxisState, AxisState, Prediction] | None = None
        self._cached_at = math.nan

    @property
    def size(self) -> float:
        """The object's scale, ``sqrt(width * height)`` of its smoothed box."""
        return math.sqrt(self.width * self.height)

    @property
    def velocity(self) -> tuple[float, float]:
        """Estimated velocity in pixels per second at the last observation."""
        return (self.x.velocity, self.y.velocity)

    def _measurement_var(self) -> float:
        sigma = max(self.noise.measurement * self.size, self.noise.measurement_px)
        return sigma * sigma

    def _speed_var(self) -> float:
        sigma = self.noise.speed * self.size
        return sigma * sigma

    def _stepped(self, time: float) -> tuple[AxisState, AxisState, Prediction]:
        """Both axes moved on to ``time``, and the prediction they make (cached per time: every
        detection of a frame asks, and the observation that follows reuses it)."""
        if self._cached is not None and self._cached_at == time:
            return self._cached
        dt = max(0.0, time - self.time)  # a live clock may jitter backwards: never predict back
        tau, speed_var = self.noise.velocity_memory_s, self._speed_var()
        x, y = self.x.stepped(dt, tau, speed_var), self.y.stepped(dt, tau, speed_var)
        meas = self._measurement_var()
        prediction = Prediction(
            x.position, y.position, self.width, self.height, x.pp + meas, y.pp + meas
        )
        self._cached, self._cached_at = (x, y, prediction), time
        return self._cached

    def predict(self, time: float) -> Prediction:
        """Where the object should be at ``time``."""
        return self._stepped(time)[2]

    def observe(self, box: Box, time: float) -> None:
        """Fold a detection at ``time`` into the state."""
        x, y, _ = self._stepped(time)
        meas = self._measurement_var()
        cx, cy = box.center
        self.x = x.corrected(cx, meas)
        self.y = y.corrected(cy, meas)
        gain = self.noise.size_gain
        self.width += gain * (max(box.width, 1.0) - self.width)
        self.height += gain * (max(box.height, 1.0) - self.height)
        self.time = max(self.time, time)
        self._cached = None
