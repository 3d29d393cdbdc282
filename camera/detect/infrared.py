"""Infrared and dark crops, made into the picture a COCO detector was trained on.

A camera at night with its IR lamp on gives a monochrome picture, often dark and flat: the lamp
lights what is near, and the sensor's gain lifts the noise.  Every detector Ronda ships was
trained on colour daylight photos, so such a crop is handed to it as grey replicated into three
channels (a one-channel Y plane from the Pi's lores stream too), and, when ``night_contrast`` is
on, with its contrast spread by CLAHE (contrast-limited adaptive histogram equalisation): a
person lit only by the lamp's fringe or a cat in a dark corner gets back the edges a daylight
photo would show, without the noise of a plain global stretch.  Colour crops are never touched:
equalising a daylight picture only moves it away from what the model knows.

Whether it helps is measured, not assumed: ``bench/detector.py`` scores the eval set's infrared
parts with and without (``docs/models.md``, "Infrared and dark frames").
"""

from __future__ import annotations

import cv2
import numpy as np

MONOCHROME_SPREAD = 6.0
"""Mean largest difference between a pixel's channels (0-255) below which a crop is grey: an IR
picture encoded as colour keeps a few levels of chroma noise from the encoder, a colour scene
at dusk has tens."""
CLAHE_CLIP = 2.0
CLAHE_TILES = 8
_SAMPLE_STEP = 4  # every 4th row and column: enough to tell grey from colour, 16x cheaper


def is_monochrome(pixels: np.ndarray) -> bool:
    """True for a one-channel crop, or a three-channel one whose channels (nearly) agree."""
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        return True
    sample = pixels[::_SAMPLE_STEP, ::_SAMPLE_STEP].astype(np.int16)
    spread = sample.max(axis=2) - sample.min(axis=2)
    return float(spread.mean()) < MONOCHROME_SPREAD


def model_view(pixels: np.ndarray, night_contrast: bool) -> np.ndarray:
    """The crop as the detector should see it: BGR, three channels.  A one-channel crop is
    replicated; with ``night_contrast`` a monochrome crop has its contrast spread by CLAHE
    first.  A colour crop, or a monochrome one without ``night_contrast``, is handed over as it
    is (an IR picture stored as colour already is its grey in three channels)."""
    one_channel = pixels.ndim == 2 or pixels.shape[2] == 1
    if not night_contrast or not is_monochrome(pixels):
        return cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR) if one_channel else pixels
    grey = (
        pixels.reshape(pixels.shape[:2])
        if one_channel
        else cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    )
    clahe = cv2.createCLAHE(clipLimit=CLAHE_CLIP, tileGridSize=(CLAHE_TILES, CLAHE_TILES))
    return cv2.cvtColor(clahe.apply(np.ascontiguousarray(grey)), cv2.COLOR_GRAY2BGR)
