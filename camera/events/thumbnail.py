"""Thumbnails: the object cropped with some context, its box drawn, a small JPEG.

A phone notification shows a few tens of KB well; a full 720p frame is both larger and harder to
read at a glance.  The crop keeps context around the object (where it is matters), and the JPEG
quality steps down until the picture fits the byte budget.
"""

from __future__ import annotations

import cv2
import numpy as np
from pydantic import Field

from camera.section import Section
from camera.types import Box

_COLOURS = {"person": (40, 40, 230), "pet": (40, 180, 40), "motion": (0, 200, 230)}


class ThumbnailConfig(Section):
    """Size of the event thumbnail."""

    max_bytes: int = Field(40_000, ge=4_000, le=500_000)
    """JPEG size budget: the quality steps down until the thumbnail fits."""
    max_side: int = Field(480, ge=96, le=1920)
    """Longest side of the thumbnail in px."""
    context: float = Field(0.5, ge=0.0, le=4.0)
    """Extra margin around the object, as a share of its size on each side."""


def _crop_box(box: Box, width: int, height: int, context: float) -> tuple[int, int, int, int]:
    margin_x = box.width * context
    margin_y = box.height * context
    side = max(box.width + 2 * margin_x, box.height + 2 * margin_y, 64.0)
    cx, cy = box.center
    x1 = int(max(0, min(width - side, cx - side / 2)))
    y1 = int(max(0, min(height - side, cy - side / 2)))
    x2 = int(min(width, x1 + side))
    y2 = int(min(height, y1 + side))
    return x1, y1, x2, y2


def render_thumbnail(image: np.ndarray, box: Box, label: str, config: ThumbnailConfig) -> bytes:
    """JPEG bytes of ``box`` on ``image`` (full frame, BGR), at most ``config.max_bytes``."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = _crop_box(box, width, height, config.context)
    crop = image[y1:y2, x1:x2].copy()
    colour = _COLOURS.get(label, (255, 255, 255))
    thickness = max(1, round(max(crop.shape[:2]) / 200))
    cv2.rectangle(
        crop,
        (round(box.x1) - x1, round(box.y1) - y1),
        (round(box.x2) - x1, round(box.y2) - y1),
        colour,
        thickness,
    )
    scale = config.max_side / max(crop.shape[:2])
    if scale < 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    encoded = b""
    for quality in (85, 75, 65, 55, 45, 35):
        ok, buffer = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, quality])
        encoded = buffer.tobytes() if ok else b""
        if encoded and len(encoded) <= config.max_bytes:
            return encoded
    # Still too large at low quality (huge max_side, noisy scene): shrink until it fits.
    while len(encoded) > config.max_bytes and min(crop.shape[:2]) > 32:
        crop = cv2.resize(crop, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)
        ok, buffer = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 35])
        encoded = buffer.tobytes()
    return encoded
