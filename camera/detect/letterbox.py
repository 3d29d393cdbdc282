"""Fit an image into the model's square input without distorting it.

A plain stretch changes an object's proportions, and NanoDet then mistakes a stretched cat for a
person; so the picture is scaled to fit, centred, and the rest padded with black (NanoDet's own
pre-processing pads with zeros before normalisation).  The same function prepares the int8
calibration set in ``models/build_nanodet.py``, so this module imports nothing but numpy and cv2.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 0


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a source image landed inside the model input: ``model = source * scale + offset``."""

    scale_x: float
    scale_y: float
    offset_x: float
    offset_y: float

    def to_source(self, boxes: np.ndarray) -> np.ndarray:
        """Map ``[N, 4]`` boxes (x1, y1, x2, y2) from model pixels back to source pixels."""
        out = np.asarray(boxes, dtype=np.float32).copy()
        out[:, 0::2] = (out[:, 0::2] - self.offset_x) / self.scale_x
        out[:, 1::2] = (out[:, 1::2] - self.offset_y) / self.scale_y
        return out


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, Placement]:
    """Return ``image`` scaled to fit a ``size`` x ``size`` canvas, centred, and its placement.

    Area interpolation when shrinking (it averages instead of skipping pixels, so small far-away
    details survive), linear when enlarging.
    """
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"cannot letterbox an empty image of shape {image.shape}")
    scale = size / max(height, width)
    new_w = max(1, min(size, round(width * scale)))
    new_h = max(1, min(size, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    if resized.ndim == 2:
        resized = resized[:, :, None]
    offset_x = (size - new_w) // 2
    offset_y = (size - new_h) // 2
    canvas = np.full((size, size, resized.shape[2]), PAD_VALUE, dtype=image.dtype)
    canvas[offset_y : offset_y + new_h, offset_x : offset_x + new_w] = resized
    placement = Placement(new_w / width, new_h / height, float(offset_x), float(offset_y))
    return canvas, placement
