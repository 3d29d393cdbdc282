"""Ignore-masks: relative polygons rasterised once per motion-frame size.

Polygons are stored in relative 0..1 coordinates so a mask drawn for one resolution keeps working
after the stream size changes; the pixel mask is rebuilt only when the motion frame's shape does.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Polygon = Sequence[tuple[float, float]]


def rasterize(polygons: Sequence[Polygon], shape: tuple[int, int]) -> np.ndarray | None:
    """A uint8 map of ``shape`` (h, w): 255 where motion counts, 0 inside any polygon.

    Returns ``None`` when there are no polygons, so the hot path can skip masking entirely.
    """
    if not polygons:
        return None
    height, width = shape
    keep = np.full((height, width), 255, dtype=np.uint8)
    # Relative 1.0 maps to the last pixel's far edge; fillPoly works on pixel centres, so scale by
    # the size (not size - 1) and let cv2 clip.
    scale = np.array([width, height], dtype=np.float64)
    pts = [np.round(np.asarray(p, dtype=np.float64) * scale).astype(np.int32) for p in polygons]
    cv2.fillPoly(keep, pts, 0)  # type: ignore[call-overload,unused-ignore]
    return keep


class MaskCache:
    """Keeps the rasterised mask for the current motion-frame shape."""

    def __init__(self, polygons: Sequence[Polygon]) -> None:
        self._polygons = [list(p) for p in polygons]
        self._shape: tuple[int, int] | None = None
        self._mask: np.ndarray | None = None
        self._kept_pixels = 0

    def get(self, shape: tuple[int, int]) -> np.ndarray | None:
        """Mask for ``shape`` (255 = counts), or ``None`` when nothing is masked."""
        if shape != self._shape:
            self._shape = shape
            self._mask = rasterize(self._polygons, shape)
            self._kept_pixels = (
                int(cv2.countNonZero(self._mask)) if self._mask is not None else shape[0] * shape[1]
            )
        return self._mask

    def kept_pixels(self, shape: tuple[int, int]) -> int:
        """Number of pixels outside every mask at ``shape`` (the denominator of
        ``changed_fraction``)."""
        self.get(shape)
        return max(1, self._kept_pixels)
