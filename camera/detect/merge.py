"""From raw candidates of every region to one Detection per object.

Two rules, each from what the footage showed:
- per label NMS across regions, where a box cut by one region's edge also merges into the whole
  box a neighbouring region saw (see ``nms``); cat and dog are both ``pet``, one box per animal;
- one object, one label: NanoDet scores every class of a cell independently, so one object can
  come out as a person and a pet with the very same box.  On the footage, a person seen from
  behind with long hair scored as a dog up to 0.6 with the person at 0.47 or more (person at 0.77
  to 0.84 of the pet score, or above it); a real cat or dog had a person echo of at most 0.23,
  never more than 0.43 of the pet score (dog clip, chelsea, cat still).  So a pet box coinciding
  with a person box that scores at least ``ECHO_RATIO`` of the pet is the person's echo and is
  dropped, while a strong pet with a faint person echo stays a pet.
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
# A coinciding person scoring at least this share of the pet's score makes the pet an echo.
ECHO_RATIO = 0.6


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
        people = kept["person"]
        kept["pet"] = np.array(
            [i for i in kept["pet"] if not _is_echo(i, people, boxes, scores)], dtype=int
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


def _is_echo(pet: int, people: np.ndarray, boxes: np.ndarray, scores: np.ndarray) -> bool:
    """True when a person box coincides with the pet box and scores close to it or higher."""
    same = ious(boxes[pet], boxes[people]) >= SAME_OBJECT_IOU
    return bool(np.any(same & (scores[people] >= ECHO_RATIO * scores[pet])))
