"""Greedy non-maximum suppression, used to merge what overlapping regions saw twice."""

from __future__ import annotations

import numpy as np


def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float,
    groups: np.ndarray | None = None,
    containment: float = 1.0,
) -> np.ndarray:
    """Indices of the boxes kept, best score first.

    A box is dropped when it overlaps an already kept, higher-scoring box by more than
    ``iou_threshold`` (intersection over union).  With ``groups`` (the region each box came from),
    a box is also dropped when more than ``containment`` of the smaller of the two boxes lies inside
    the other, for a kept box from another group: a region's edge cuts an object, so the cut box
    sits inside the whole one seen by the neighbouring region while their IoU can stay low.
    """
    order = np.argsort(-scores, kind="stable")
    areas = box_areas(boxes)
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        inter = intersections(boxes[best], boxes[rest])
        union = areas[best] + areas[rest] - inter
        drop = inter > iou_threshold * union
        if groups is not None:
            smaller = np.minimum(areas[best], areas[rest])
            drop |= (groups[rest] != groups[best]) & (inter > containment * smaller)
        order = rest[~drop]
    return np.asarray(keep, dtype=int)


def ious(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one ``[4]`` box with each of ``[N, 4]`` boxes (0 where both are empty)."""
    inter = intersections(box, others)
    union = box_areas(box[None])[0] + box_areas(others) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def box_areas(boxes: np.ndarray) -> np.ndarray:
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def intersections(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    width = np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0])
    height = np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1])
    return np.clip(width, 0, None) * np.clip(height, 0, None)
