"""The Hailo backend: the AI HAT+ / AI Kit (Hailo-8 or Hailo-8L on a Pi 5's PCIe) on motion crops.

Through picamera2's ``picamera2.devices.Hailo`` wrapper over HailoRT (``hailo-all`` from
Raspberry Pi OS), imported when the backend is chosen:

- ``Hailo(hef)`` opens the device (``/dev/hailo0``) and configures the network; its
  ``get_input_shape()`` is ``(height, width, 3)``, 640x640 for the ``hailo-models`` package's
  YOLOv8s and YOLOv6n;
- ``run(rgb)`` takes one uint8 RGB image of that shape and, for a network compiled with
  HailoRT's NMS on the chip (every detector of that package), returns one array per COCO class
  (80), each ``[k, 5]``: ``y0, x0, y1, x1`` in 0..1 of the input, then the score.

Each region is prepared as for the CPU (``camera.detect.crops``: cut, fitted into the input,
mapped back, merged across regions), so only the network and its input format differ: the
package's YOLO networks were trained on RGB letterboxed centred on grey 114 (Ultralytics' and
YOLOv6's training pipelines), so the crops go in that way (``INPUT_FORMAT``), not in the CPU
model's BGR on black.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from camera.detect.base import Capabilities, CropDetector
from camera.detect.coco import COCO80, classes_by_ids
from camera.detect.config import DetectorConfig
from camera.detect.crops import detect_on_crops
from camera.detect.decoding import Candidates
from camera.detect.errors import ModelError
from camera.detect.letterbox import InputFormat
from camera.types import Detection, ModelVariant, Precision, Region

log = logging.getLogger(__name__)

COCO_CLASSES = 80
INPUT_FORMAT = InputFormat(resize="letterbox", anchor="centre", pad=114, channels="RGB")


def import_hailo() -> Any:
    try:
        return importlib.import_module("picamera2.devices.hailo").Hailo
    except ImportError as error:
        raise ModelError(
            f"the Hailo accelerator needs HailoRT and picamera2 ({error}): sudo apt install "
            "hailo-all python3-picamera2"
        ) from None


class HailoDetector(CropDetector):
    """A ``.hef`` network with on-chip NMS, one crop per ``run`` (see the module docstring)."""

    def __init__(self, device: Any, hef: Path, config: DetectorConfig) -> None:
        self._device = device
        self._config = config
        self.hef = hef
        height, width, *_ = (int(v) for v in device.get_input_shape())
        if height != width:
            device.close()
            raise ModelError(f"Hailo: {hef.name} takes {width}x{height}; only square inputs")
        self._size = width
        self._classes = classes_by_ids(COCO80)
        self._variant = f"hailo-{hef.stem}"
        self._closed = False

    @classmethod
    def open(cls, hef: Path, config: DetectorConfig) -> HailoDetector:
        """Open the device and the network; raises ModelError (one line)."""
        hailo = import_hailo()
        try:
            device = hailo(str(hef))
        except Exception as error:  # HailoRT raises its own HailoRTException family
            text = " ".join(str(error).split())[:200] or type(error).__name__
            raise ModelError(f"Hailo: cannot open {hef}: {text}") from None
        log.info("loaded %s on the Hailo accelerator", hef.name)
        return cls(device, hef, config)

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            kind="hailo",
            device=f"Hailo, {self.hef.name}",
            scope="crops",
            input_size=self._size,
            labels=tuple(sorted({c.subclass for c in self._classes.values()})),
            cost="accelerator",
        )

    @property
    def precision(self) -> Precision:
        return "int8"  # Hailo's compiler quantizes every network to 8 bits

    @property
    def input_size(self) -> int:
        return self._size

    @property
    def backend(self) -> str:
        return "picamera2 Hailo"

    @property
    def variant(self) -> str:
        return self._variant

    @property
    def ladder(self) -> tuple[ModelVariant, ...]:
        return (ModelVariant(self._variant, "int8", self._size, cost="accelerator"),)

    def detect(self, image: np.ndarray, regions: Sequence[Region]) -> list[Detection]:
        if self._closed:
            raise RuntimeError("detector is closed")
        return detect_on_crops(
            image,
            regions,
            self._size,
            self._infer,
            self._classes,
            self._config.nms_iou,
            self._config.night_contrast,
            INPUT_FORMAT,
        )

    def _infer(self, rgb: np.ndarray) -> Candidates:
        output = self._device.run(np.ascontiguousarray(rgb))
        return nms_candidates(output, self._size, self._config.min_score, self._classes)

    def set_variant(self, name: str) -> None:
        if name != self._variant:
            log.warning("model variant %s is not on the Hailo; staying on %s", name, self._variant)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._device.close()


def nms_candidates(output: Any, size: int, min_score: float, keep: Collection[int]) -> Candidates:
    """HailoRT's NMS-by-class output (one ``[k, 5]`` array per class) as candidates of the
    ``keep`` classes in the pixels of a ``size`` square input."""
    if not isinstance(output, list | tuple) or len(output) != COCO_CLASSES:
        found = len(output) if isinstance(output, list | tuple) else type(output).__name__
        raise ModelError(
            f"Hailo: the network's output is not HailoRT's NMS by class ({found} entries, "
            f"expected {COCO_CLASSES}): use a .hef compiled with NMS (hailo-models)"
        )
    boxes, scores, class_ids = [], [], []
    for class_id in sorted(keep):
        rows = np.asarray(output[class_id], np.float32).reshape(-1, 5)
        rows = rows[rows[:, 4] >= min_score]
        if rows.size:
            y0, x0, y1, x1 = (rows[:, i] * size for i in range(4))
            boxes.append(np.stack([x0, y0, x1, y1], axis=1))
            scores.append(rows[:, 4])
            class_ids.append(np.full(len(rows), class_id))
    if not boxes:
        return Candidates.empty()
    return Candidates(np.concatenate(boxes), np.concatenate(scores), np.concatenate(class_ids))
