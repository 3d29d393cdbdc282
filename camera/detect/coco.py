"""Which class ids of an accelerator's COCO network are Ronda's person and pets.

The CPU models say it in their manifest; the accelerators' networks come from Raspberry Pi OS
packages with their own numbering, of two kinds: the 80 COCO classes in order (NanoDet, YOLO:
cat 15, dog 16) and the 91 ids of TensorFlow's object detection models less one, with gaps
(SSD MobileNet, EfficientDet: cat 16, dog 17), which Raspberry Pi's demos list with ``-`` in
the gaps.  A network that carries its own label names is mapped by name instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from camera.detect.manifest import ClassMapping

KEPT: dict[str, ClassMapping] = {
    "person": ClassMapping("person", "person"),
    "cat": ClassMapping("pet", "cat"),
    "dog": ClassMapping("pet", "dog"),
}
COCO80 = {"person": 0, "cat": 15, "dog": 16}
COCO91 = {"person": 0, "cat": 16, "dog": 17}


def classes_by_name(labels: Sequence[str]) -> dict[int, ClassMapping]:
    """Ronda's classes among ``labels`` (one name per class id, ``-`` for unused ids)."""
    return {index: KEPT[name] for index, name in enumerate(labels) if name in KEPT}


def classes_by_ids(ids: dict[str, int]) -> dict[int, ClassMapping]:
    return {index: KEPT[name] for name, index in ids.items()}
