"""Getting a small grayscale frame cheaply.

On the Pi the lores Y plane arrives ready (``Frame.gray_small``) and costs nothing.  Otherwise the
full BGR image must be shrunk, and that is most of the motion stage's cost.  Measured (thread CPU
time, median, car-park frames scaled to 1280x720, one OpenCV thread, caches flushed before each
call as a frame decode would, on this project's shared 2-core x86 dev box) for 1280x720 BGR ->
178x100 gray:

* ``INTER_AREA`` in one step (non-integer factor): 1-4 ms, more than everything else together;
* anything that reads every pixel (``cvtColor`` at full size, ``pyrDown``): 0.45-0.9 ms;
* bilinear to twice the size, then OpenCV's fast exact 2x2 area average: ~0.47 ms;
* bilinear straight to the target: 0.23 ms; it reads 2 of every 7 rows;
* bilinear from a view of every 7th row (no copy; a numpy row stride is an OpenCV row step):
  0.17 ms, and the same 2x2 taps per output pixel (sensor noise 20 -> 8.9 after the gray
  conversion, as above).  Chosen.  Nearest neighbour costs about the same but keeps the noise
  (20 -> 13.5).

Two taps per axis alias more than a true area average: on a synthetic fine texture with 1-2 pixel
camera shake and sigma 8 noise the measured noise floor came out about twice that of the
area-averaged variants; the noise floor (``noise.py``) absorbs that by raising the threshold (by
up to 40 % in that worst case), and no false motion resulted in any variant.  The 3x3 blur that
follows averages further.  The colour conversion runs on the small image (0.01 ms instead of
0.45 ms at full size).
"""

from __future__ import annotations

import cv2
import numpy as np

from camera.motion.scratch import Scratch


def motion_size(frame_size: tuple[int, int], height: int) -> tuple[int, int]:
    """``(width, height)`` of the motion frame for full frames of ``frame_size`` (w, h).

    Never upscales: a source smaller than ``height`` is used at its own size.
    """
    width, full_height = frame_size
    h = min(height, full_height)
    w = max(1, round(h * width / full_height))
    return (w, h)


def shrink(image: np.ndarray, size: tuple[int, int], scratch: Scratch | None = None) -> np.ndarray:
    """``image`` (BGR or gray) resized to ``size`` (w, h), as uint8 gray (written into
    ``scratch`` arrays when given, so nothing is allocated)."""
    w, h = size
    src_h, src_w = image.shape[:2]
    channels = image.shape[2:]
    out = None if scratch is None else scratch.get("small", (h, w, *channels), np.uint8)
    if (src_w, src_h) == (w, h):
        small = image
    elif src_w >= 3 * w and src_h >= 3 * h:
        step = src_h // h  # every step-th row still leaves >= h rows to interpolate between
        rows = image[step // 2 :: step]
        small = cv2.resize(rows, (w, h), dst=out, interpolation=cv2.INTER_LINEAR)
    else:
        # A source within 3x of the target is small: a true area average is affordable.
        small = cv2.resize(image, (w, h), dst=out, interpolation=cv2.INTER_AREA)
    if small.ndim == 3:
        gray = None if scratch is None else scratch.get("small_gray", (h, w), np.uint8)
        small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY, dst=gray)
    return small
