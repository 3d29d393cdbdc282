"""Getting a small grayscale frame cheaply.

On the Pi the lores Y plane arrives ready (``Frame.gray_small``) and costs nothing.  Otherwise the
full BGR image must be shrunk, and that is most of the motion stage's cost: a single
``INTER_AREA`` resize by a non-integer factor (1280x720 -> 178x100) measured 1-4 ms here, more than
everything else together.  Two steps are ~10x cheaper and nearly as clean: a bilinear resize to
twice the target size (samples 2x2 pixels per output, some anti-aliasing), then an exact 2x2 box
average (OpenCV's fast path for ``INTER_AREA`` at factor 2), then the colour conversion on the
small image.  Averaging also cuts sensor noise before any differencing happens.
"""

from __future__ import annotations

import cv2
import numpy as np


def motion_size(frame_size: tuple[int, int], height: int) -> tuple[int, int]:
    """``(width, height)`` of the motion frame for full frames of ``frame_size`` (w, h).

    Never upscales: a source smaller than ``height`` is used at its own size.
    """
    width, full_height = frame_size
    h = min(height, full_height)
    w = max(1, round(h * width / full_height))
    return (w, h)


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` (BGR or gray) resized to ``size`` (w, h) with anti-aliasing, as uint8 gray."""
    w, h = size
    src_h, src_w = image.shape[:2]
    if (src_w, src_h) == (w, h):
        small = image
    elif src_w >= 4 * w and src_h >= 4 * h:
        half = cv2.resize(image, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR)
        small = cv2.resize(half, (w, h), interpolation=cv2.INTER_AREA)
    else:
        small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    if small.ndim == 3:
        small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return small
