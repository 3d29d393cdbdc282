"""Where the person is, and whether they move, by a deliberately simple independent reference.

It only works because the footage clips have a static camera and an empty first frame: the
person is the largest blob of ``|frame - empty first frame|`` (exposure-normalised), and "the
person moves" means the plain consecutive-frame difference shows at least a small blob's worth
of change.  Used by the footage tests and by ``bench/night_motion.py``, which takes it from the
*day* frames as the ground truth for the darkened ones.
"""

from __future__ import annotations

import cv2
import numpy as np

from camera.types import Box

REF_SIZE = (192, 108)
REF_FOREGROUND = 40.0
REF_MIN_BLOB = 30
REF_STEP = 15.0
REF_MOVING_PIXELS = 15


class PersonReference:
    """Feed day frames in order; each call says where the foreground is and if it moves."""

    def __init__(self) -> None:
        self.empty: np.ndarray | None = None
        self.previous: np.ndarray | None = None

    def update(self, image: np.ndarray) -> tuple[Box | None, bool]:
        gray = reference_gray(image)
        self.empty = gray if self.empty is None else self.empty
        person = largest_foreground(gray, self.empty, image.shape[1] / REF_SIZE[0])
        previous, self.previous = self.previous, gray
        step = 0 if previous is None else int(np.count_nonzero(np.abs(gray - previous) > REF_STEP))
        return person, step >= REF_MOVING_PIXELS


def reference_gray(image: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return cv2.resize(gray, REF_SIZE, interpolation=cv2.INTER_AREA)


def largest_foreground(gray: np.ndarray, empty: np.ndarray, scale: float) -> Box | None:
    gain = float(np.median(gray) / max(1.0, float(np.median(empty))))
    mask = (np.abs(gray - empty * gain) > REF_FOREGROUND).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    if count < 2:
        return None
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h, area = (int(v) for v in stats[k])
    if area < REF_MIN_BLOB:
        return None
    return Box(x * scale, y * scale, (x + w) * scale, (y + h) * scale)
