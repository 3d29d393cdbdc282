"""Day footage made dark the way a camera makes it dark: a small-sensor model, calibrated in lux.

Used by ``bench/night_motion.py`` (the light-level table in docs/motion.md) and by the motion
tests (a clip darkened at small size).  A day clip is taken as what the camera delivered at a
comfortable exposure; at ``lux`` the same scene is re-exposed on a model of a Pi Camera v2 class
sensor (IMX219: 1.12 um pixels, f/2.0):

1. **Exposure.** The sensor integrates for at most one frame (``max_exposure_s``, 1/10 s at
   10 fps); auto-exposure raises the analogue gain to keep the picture at the day level, up to
   ``max_gain``.  Below ``lux_at_max_gain`` the picture darkens in proportion.  The calibration:
   the day exposure (1/10 s, gain 1, about ISO 100 on this sensor class) is the incident-light
   exposure equation E = 250 N^2 / (t S) at f/2.0: 100 lux.  With ``max_gain`` 10.7 (the
   IMX219's analogue ceiling) the picture stays at the day level down to about 9 lux.
2. **Shot and read noise.** The linear light of each channel (the day clip's values through the
   inverse of a 2.2 gamma) becomes electrons: ``full_well_e`` at saturation at gain 1, times the
   light's share of the day exposure; Poisson noise on those, plus ``read_noise_e`` of Gaussian
   read noise, then the gain.  Channels get independent noise (each is its own photosite).
3. **Gamma and 8 bits.** Back through the 2.2 gamma to 8 bits: the dark end of the curve is
   steep, which is why night noise looks worse than the electron count alone suggests.
4. **Compression.** H.264 (libx264, yuv420p, ``crf``), as an RTSP camera or a recording
   delivers it, decoded again: compression smears noise into blocks and crawling patterns that
   change at every keyframe, the hardest part of real night footage for a motion detector.

What the model leaves out (so the measured floor is, if anything, pessimistic): the ISP's own
denoising (the Pi's ISP denoises spatially, and on a Pi 5 temporally), dark current, fixed
pattern noise, and light that is not uniform (a porch lamp, headlights).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

GAMMA = 2.2
BPP = 0.3
"""Bitrate cap in bits per pixel and frame: 1 Mbit/s for 768x432 at 10 fps, a camera's
substream (a 720p main stream at 15 fps and 2 Mbit/s is 0.14).  At night the noise fills it,
and the encoder quantises coarsely: that is the blocky, crawling noise of real night video."""


@dataclass(frozen=True, slots=True)
class Sensor:
    """A small camera sensor and its auto-exposure ceiling (defaults: Pi Camera v2 class)."""

    full_well_e: float = 4000.0
    """Electrons at saturation, at unity gain."""
    read_noise_e: float = 2.5
    """Read noise, electrons rms (input-referred, as at high gain)."""
    max_gain: float = 10.7
    """Auto-exposure's analogue gain ceiling."""
    day_lux: float = 100.0
    """Scene illuminance at which the day clip's exposure needs gain 1 at ``max_exposure_s``."""
    max_exposure_s: float = 0.1

    def gain(self, lux: float) -> float:
        """The analogue gain auto-exposure settles on at ``lux``."""
        return min(self.max_gain, max(1.0, self.day_lux / lux))

    def brightness(self, lux: float) -> float:
        """The picture's linear level relative to the day clip (1 until the gain is maxed)."""
        return min(1.0, lux * self.gain(lux) / self.day_lux)

    @property
    def lux_at_max_gain(self) -> float:
        return self.day_lux / self.max_gain


@dataclass(frozen=True, slots=True)
class Exposure:
    """What the model says about one light level (printed in the table)."""

    lux: float
    gain: float
    brightness: float
    """Linear level relative to the day picture."""
    mid_grey_electrons: float
    """Electrons a mid-grey (18 %) pixel collects: its shot noise is the square root."""


def exposure(lux: float, sensor: Sensor = Sensor()) -> Exposure:
    electrons = 0.18 * sensor.full_well_e * lux / sensor.day_lux
    return Exposure(lux, sensor.gain(lux), sensor.brightness(lux), electrons)


def darken(
    image: np.ndarray, lux: float, rng: np.random.Generator, sensor: Sensor = Sensor()
) -> np.ndarray:
    """``image`` (uint8, BGR or gray, a day exposure) as the sensor delivers it at ``lux``,
    before compression: linear light, electrons with shot and read noise, gain, gamma, 8 bits.

    Shot noise is drawn as Gaussian with the Poisson variance (exact enough from a few
    electrons up, and ten times cheaper); gamma both ways through lookup tables."""
    scale = sensor.full_well_e * lux / sensor.day_lux
    electrons = _LINEAR[image] * np.float32(scale)
    noise = rng.standard_normal(image.shape, dtype=np.float32)
    noise *= np.sqrt(electrons + np.float32(sensor.read_noise_e**2))
    electrons += noise
    electrons *= np.float32((_CODES - 1) * sensor.gain(lux) / sensor.full_well_e)
    np.clip(electrons, 0, _CODES - 1, out=electrons)
    return _ENCODE[electrons.astype(np.int32)]


_CODES = 4096
_LINEAR = ((np.arange(256, dtype=np.float32) / 255.0) ** GAMMA).astype(np.float32)
_ENCODE = np.round(255.0 * (np.arange(_CODES) / (_CODES - 1)) ** (1.0 / GAMMA)).astype(np.uint8)


def write_h264(
    frames: Iterable[np.ndarray], path: Path, fps: float, crf: int = 26, bpp: float = BPP
) -> int:
    """Encode BGR ``frames`` to an H.264 MP4 at ``path`` as a camera streams: a keyframe every
    2 s, no B-frames, a middling quality (``crf``) under a bitrate cap of ``bpp`` bits per
    pixel and frame.  Returns the number of frames written."""
    count = 0
    with av.open(str(path), "w") as container:
        stream = None
        for image in frames:
            if stream is None:
                height, width = image.shape[:2]
                stream = container.add_stream("libx264", rate=Fraction(round(fps * 1000), 1000))
                stream.width, stream.height = width - width % 2, height - height % 2
                stream.pix_fmt = "yuv420p"
                stream.codec_context.gop_size = max(1, round(2 * fps))
                rate = round(bpp * stream.width * stream.height * fps)
                stream.options = {
                    "crf": str(crf),
                    "maxrate": str(rate),
                    "bufsize": str(2 * rate),
                    "preset": "veryfast",
                    "tune": "zerolatency",
                }
            crop = np.ascontiguousarray(image[: stream.height, : stream.width])
            for packet in stream.encode(av.VideoFrame.from_ndarray(crop, format="bgr24")):
                container.mux(packet)
            count += 1
        if stream is not None:
            for packet in stream.encode(None):
                container.mux(packet)
    return count


def read_frames(path: Path, limit: int | None = None) -> Iterator[np.ndarray]:
    """Decoded BGR frames of a video file (OpenCV, as the replay source reads them)."""
    capture = cv2.VideoCapture(str(path))
    try:
        count = 0
        while limit is None or count < limit:
            ok, image = capture.read()
            if not ok:
                return
            yield image
            count += 1
    finally:
        capture.release()


def write_night_clip(
    source: Path,
    path: Path,
    lux: float,
    fps: float,
    *,
    seed: int = 1,
    sensor: Sensor = Sensor(),
    crf: int = 26,
    bpp: float = BPP,
    size: tuple[int, int] | None = None,
    limit: int | None = None,
) -> int:
    """The day clip ``source`` as a camera at ``lux`` would have recorded it, written to
    ``path``; ``size`` (w, h) shrinks the frames first (a test's small copy)."""
    rng = np.random.default_rng(seed)
    frames = read_frames(source, limit)
    if size is not None:
        frames = (cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames)
    return write_h264((darken(f, lux, rng, sensor) for f in frames), path, fps, crf, bpp)


def mid_grey_snr(lux: float, sensor: Sensor = Sensor()) -> float:
    """Signal-to-noise ratio of a mid-grey pixel at ``lux`` (shot and read noise)."""
    electrons = exposure(lux, sensor).mid_grey_electrons
    return electrons / math.sqrt(electrons + sensor.read_noise_e**2)
