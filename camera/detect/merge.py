"""From raw candidates of every region to one Detection per object.

Two rules, each from what the footage showed:
- per label NMS across regions, where a box cut by one region's edge also merges into the whole
  box a neighbouring region saw (see ``nms``); cat and dog are both ``pet``, one box per animal;
- one object, one label: NanoDet scores every class of a cell independently, and a person seen
  from behind with long hair also scores as cat or dog with the very same box (up to 0.6 on the
  one-by-one clip).  The reverse never happened: no frame of the dog clip had a person at 0.3.
  So a pet box that coincides with a person box is the person's echo and is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from camera.detect.manifest import ClassMapping
from camera.detect.nms import ious, nms
from camera.types import Box, Detection

# Share of the smaller box inside the other above which boxes from two regions are one object.
CROSS_REGION_CONTAINMENT = 0.8
# IoU above which a pet box is the same object as a person box.
SAME_OBJECT_IOU = 0.7


def merge_detections(
    boxes: np.ndarray,
    scores: np.ndarray,
    class_ids: np.ndarray,
    groups: np.ndarray,
    classes: Mapping[int, ClassMapping],
    nms_iou: float,
) -> list[Detection]:
    """Detections, best first, from candidate arrays (frame pixels; ``groups`` = region index)."""
    labels = np.array([classes[int(c)].label for c in class_ids])
    kept: dict[str, np.ndarray] = {}
    for label in ("person", "pet"):
        idx = np.flatnonzero(labels == label)
        keep = nms(boxes[idx], scores[idx], nms_iou, groups[idx], CROSS_REGION_CONTAINMENT)
        kept[label] = idx[keep]
    if kept["person"].size and kept["pet"].size:
        kept["pet"] = np.array(
            [
                i
                for i in kept["pet"]
                if ious(boxes[i], boxes[kept["person"]]).max() < SAME_OBJECT_IOU
            ],
            dtype=int,
        )
    detections = [
        Detection(
            classes[int(class_ids[i])].label,
            classes[int(class_ids[i])].subclass,
            float(scores[i]),
            Box(*(float(v) for v in boxes[i])),
        )
        for i in np.concatenate([kept["person"], kept["pet"]])
    ]
    detections.sort(key=lambda d: d.score, reverse=True)
    return detections
