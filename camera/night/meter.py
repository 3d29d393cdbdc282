"""What one frame says about the light: how bright it is and whether it has colour at all.

Two numbers from block means of the full picture (64 blocks wide), taken about once a second
of frame time (``NightConfig.sample_s``), so they cost nothing per frame:

* **luma**, the mean brightness (0..255, Rec. 601 weights).  A camera's auto-exposure holds the
  picture near its target brightness until it runs out of exposure time and gain; below that,
  the picture darkens with the light.  So a low luma means "darker than the camera can
  compensate", which is night for a colour camera.
* **colourfulness**: each pixel's spread between its largest and smallest channel, after
  grey-world balancing (every channel scaled to the same mean), averaged and divided by the
  mean luma.  A camera in infrared mode delivers grey (R = G = B) or a grey with a tint (a
  NoIR sensor under IR light is magenta): balancing takes the tint out, so both read ~0, while
  any daylight scene, even grey asphalt, keeps its colours (measured in docs/motion.md).
  Block means, not single pixels: they average sensor noise and the encoder's half-resolution
  chroma away, so what is left is the scene's colour.

picamera2's own metering (``SensorReading``: the ISP's lux estimate, exposure time and gains),
when the source has it, rides along: the sensor knows it is dark before the picture shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from camera.types import Frame, SensorReading

# Block means over a grid this many blocks wide (36 high for 16:9): each block averages a few
# hundred pixels, so sensor noise and the encoder's half-resolution chroma average out and only
# the scene's real colour is left (tried: single pixels read a tinted, noisy infrared picture
# as colourful as grey asphalt by day).
BLOCKS_W = 64
# Below this mean luma the picture is too black for colour to be measured, and below this spread
# of block brightness it is too flat (a covered lens, a test pattern): a flat picture of any one
# colour balances to grey.
MIN_LUMA_FOR_COLOUR = 4.0
MIN_CONTRAST_FOR_COLOUR = 2.0
_LUMA_WEIGHTS = np.array([0.114, 0.587, 0.299], np.float32)  # B, G, R


@dataclass(frozen=True, slots=True)
class LightSample:
    """One look at the light: from the picture, and from the sensor when it says."""

    timestamp: float
    luma: float
    colourfulness: float | None
    """None when the picture is gray only or too dark to tell."""
    sensor: SensorReading | None = None


def sample(frame: Frame) -> LightSample:
    """Measure ``frame``'s light from block means of its full-resolution picture."""
    image = frame.image
    height, width = image.shape[:2]
    size = (max(1, min(width, BLOCKS_W)), max(1, min(height, round(BLOCKS_W * height / width))))
    blocks = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    pixels = blocks.reshape(-1, *image.shape[2:]).astype(np.float32)
    if pixels.ndim == 1 or pixels.shape[1] < 3:
        return LightSample(frame.timestamp, float(pixels.mean()), None, frame.sensor)
    means = pixels.mean(axis=0)
    luma = float(means @ _LUMA_WEIGHTS)
    flat = float((pixels @ _LUMA_WEIGHTS).std()) < MIN_CONTRAST_FOR_COLOUR
    if luma < MIN_LUMA_FOR_COLOUR or flat or float(means.min()) <= 0.0:
        return LightSample(frame.timestamp, luma, None, frame.sensor)
    balanced = pixels * (means.mean() / means)
    spread = balanced.max(axis=1) - balanced.min(axis=1)
    return LightSample(frame.timestamp, luma, float(spread.mean()) / luma, frame.sensor)
