"""What every crop backend does around its inference: cut each region out of the frame,
fit it into the network's input as its manifest says (``InputFormat``: letterbox or stretch,
BGR or RGB), map the boxes back to frame pixels, merge across regions.

The CPU (TFLite) and Hailo backends differ only in ``infer``: a prepared crop in,
``Candidates`` in model-input pixels out.  Keeping the rest here means a crop is prepared, and
its boxes merged, the same way whatever runs the network.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from camera.detect.decoding import Candidates
from camera.detect.infrared import model_view
from camera.detect.letterbox import InputFormat, prepare
from camera.detect.manifest import DEFAULT_FORMAT, ClassMapping
from camera.detect.merge import merge_detections
from camera.types import Box, Detection, Region

MIN_CROP = 2  # pixels; a thinner crop carries nothing the model can use

Infer = Callable[[np.ndarray], Candidates]
"""A prepared ``[size, size, 3]`` crop -> candidates in its pixels."""


def crop_bounds(box: Box, width: int, height: int) -> tuple[int, int, int, int] | None:
    """Integer pixel bounds of ``box`` inside the frame, or None if too thin to use."""
    clipped = box.clip(width, height)
    x1, y1 = math.floor(clipped.x1), math.floor(clipped.y1)
    x2, y2 = math.ceil(clipped.x2), math.ceil(clipped.y2)
    if x2 - x1 < MIN_CROP or y2 - y1 < MIN_CROP:
        return None
    return x1, y1, x2, y2


def detect_on_crops(
    image: np.ndarray,
    regions: Sequence[Region],
    size: int,
    infer: Infer,
    classes: Mapping[int, ClassMapping],
    nms_iou: float,
    night_contrast: bool = False,
    fmt: InputFormat = DEFAULT_FORMAT,
) -> list[Detection]:
    """Persons and pets in ``regions`` of the BGR frame ``image``, in frame pixels; a
    monochrome crop goes in as grey in three channels (``camera.detect.infrared``)."""
    height, width = image.shape[:2]
    found: list[tuple[int, np.ndarray, float, int]] = []
    for index, region in enumerate(regions):
        crop = crop_bounds(region.box, width, height)
        if crop is None:
            continue
        hits = _detect_crop(image, crop, size, infer, night_contrast, fmt)
        found.extend((index, *hit) for hit in hits)
    if not found:
        return []
    groups, boxes, scores, class_ids = zip(*found, strict=True)
    return merge_detections(
        np.asarray(boxes, dtype=np.float32),
        np.asarray(scores, dtype=np.float32),
        np.asarray(class_ids, dtype=int),
        np.asarray(groups),
        classes,
        nms_iou,
    )


def _detect_crop(
    image: np.ndarray,
    crop: tuple[int, int, int, int],
    size: int,
    infer: Infer,
    night_contrast: bool,
    fmt: InputFormat,
) -> Iterator[tuple[np.ndarray, float, int]]:
    x1, y1, x2, y2 = crop
    pixels = model_view(image[y1:y2, x1:x2], night_contrast)
    model_input, placement = prepare(pixels, size, fmt)
    candidates = infer(model_input)
    boxes = placement.to_source(candidates.boxes) + np.array([x1, y1, x1, y1], np.float32)
    boxes[:, 0::2] = np.clip(boxes[:, 0::2], x1, x2)
    boxes[:, 1::2] = np.clip(boxes[:, 1::2], y1, y2)
    return zip(boxes, candidates.scores, candidates.class_ids, strict=True)
