"""Fit an image into the model's square input the way the model was trained to see it.

Families differ, and a model fed the wrong way loses accuracy without any error, so the manifest
states each variant's ``InputFormat`` and this module applies it:

- ``letterbox`` (scaled to fit, the rest padded with ``pad``), ``anchor`` ``centre`` or
  ``top-left``: NanoDet pads centred with black (a plain stretch made NanoDet read a stretched
  cat as a person), YOLOX to the top-left with grey 114, as each was trained;
- ``stretch``: a plain resize to the square, as PP-PicoDet and DEIMv2 were trained;
- ``channels``: ``BGR`` (the camera's frames) or ``RGB``.

Area interpolation when shrinking (it averages instead of skipping pixels, so small far-away
details survive), linear when enlarging.  The same function prepares the int8 calibration set in
``models/calibration.py``, so this module imports nothing but numpy and cv2.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 0
RESIZES = ("letterbox", "stretch")
ANCHORS = ("centre", "top-left")
CHANNELS = ("BGR", "RGB")


@dataclass(frozen=True, slots=True)
class InputFormat:
    """How a variant wants its pixels: see the module docstring."""

    resize: str = "letterbox"
    anchor: str = "centre"
    pad: int = PAD_VALUE
    channels: str = "BGR"

    def __post_init__(self) -> None:
        for value, allowed in (
            (self.resize, RESIZES),
            (self.anchor, ANCHORS),
            (self.channels, CHANNELS),
        ):
            if value not in allowed:
                raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        if not 0 <= self.pad <= 255:
            raise ValueError(f"pad {self.pad} is not a pixel value 0..255")


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


def prepare(
    image: np.ndarray, size: int, fmt: InputFormat = InputFormat()
) -> tuple[np.ndarray, Placement]:
    """``image`` (BGR, or one channel) as a ``size`` x ``size`` model input in ``fmt``, and
    where it landed."""
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"cannot fit an empty image of shape {image.shape}")
    if fmt.resize == "stretch":
        new_w = new_h = size
    else:
        scale = size / max(height, width)
        new_w = max(1, min(size, round(width * scale)))
        new_h = max(1, min(size, round(height * scale)))
    shrinking = new_w * new_h < width * height
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    if resized.ndim == 2:
        resized = resized[:, :, None]
    if fmt.anchor == "centre":
        offset_x, offset_y = (size - new_w) // 2, (size - new_h) // 2
    else:
        offset_x = offset_y = 0
    canvas = np.full((size, size, resized.shape[2]), fmt.pad, dtype=image.dtype)
    canvas[offset_y : offset_y + new_h, offset_x : offset_x + new_w] = resized
    if fmt.channels == "RGB" and canvas.shape[2] == 3:
        canvas = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)
    placement = Placement(new_w / width, new_h / height, float(offset_x), float(offset_y))
    return canvas, placement


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, Placement]:
    """``image`` scaled to fit a ``size`` x ``size`` canvas, centred on black (NanoDet's
    format, the default ``InputFormat``), and its placement."""
    return prepare(image, size)
