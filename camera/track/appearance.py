"""A cheap appearance cue: the colour histogram of the middle of an object's box.

Used to re-attach an object to its track after it was hidden for a moment (behind a pillar, a
car, another person) and to keep two objects that cross each other apart.  A colour histogram
of a few hundred pixels costs tens of microseconds, needs no model and works on any detector
box; it cannot tell two people in the same clothes apart, so it only ever confirms what position
and time already allow (see ``camera.track.association``).

The histogram is taken over hue, saturation and value (8 x 3 x 4 bins) of the central part of
the box (the box's edges are mostly background), sampled on a grid of about 16 x 32 pixels.
At night, in infrared, every pixel is grey: hue and saturation carry nothing and the value bins
still separate a dark coat from a light one.
"""

from __future__ import annotations

import cv2
import numpy as np

from camera.types import Box

_BINS = [8, 3, 4]
_RANGES = [0, 180, 0, 256, 0, 256]
_CORE_X, _CORE_Y = 0.2, 0.1  # share of the box trimmed on each side (mostly background there)
_SAMPLE = (16, 32)  # (columns, rows) of the pixel grid the histogram is taken from
_MIN_SIDE = 4  # pixels: below this a box carries no usable colour


def colour_histogram(image: np.ndarray | None, box: Box) -> np.ndarray | None:
    """Normalised HSV histogram (sums to 1) of the core of ``box`` in the BGR ``image``; None
    when there is no image or the box is too small to say anything."""
    if image is None or image.ndim != 3:
        return None
    height, width = image.shape[:2]
    x1 = int(max(0.0, box.x1 + _CORE_X * box.width))
    x2 = int(min(float(width), box.x2 - _CORE_X * box.width))
    y1 = int(max(0.0, box.y1 + _CORE_Y * box.height))
    y2 = int(min(float(height), box.y2 - _CORE_Y * box.height))
    if x2 - x1 < _MIN_SIDE or y2 - y1 < _MIN_SIDE:
        return None
    # Every n-th pixel, not a resize: a histogram needs a fair sample of the colours, not a
    # smooth picture, and a strided view costs nothing where an area resize of a 300 px box
    # costs more than everything else the tracker does.
    step_x = max(1, (x2 - x1) // _SAMPLE[0])
    step_y = max(1, (y2 - y1) // _SAMPLE[1])
    core = np.ascontiguousarray(image[y1:y2:step_y, x1:x2:step_x])
    hsv = cv2.cvtColor(core, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, _BINS, _RANGES).ravel()
    total = float(hist.sum())
    return hist / total if total > 0 else None


def similarity(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """Bhattacharyya coefficient of two histograms: 1 identical, 0 disjoint; None if unknown."""
    if a is None or b is None:
        return None
    return float(np.sqrt(a * b).sum())


def blend(model: np.ndarray | None, new: np.ndarray | None, weight: float) -> np.ndarray | None:
    """A track's appearance after seeing ``new``: a running mean, so one odd frame (a person
    half behind a car) does not replace what the track looked like."""
    if new is None:
        return model
    if model is None:
        return new
    return (1.0 - weight) * model + weight * new
