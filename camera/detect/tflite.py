"""The TFLite detector backend: crops regions, runs the model, maps boxes back to the frame.

Every variant of the device's model ladder (``camera.detect.selection``) is loaded and checked at
start, so a governor's switch is a reference swap between two frames: no reload, no pause, no
dropped frame.  Variants off the ladder are never loaded (memory matters on a 512 MB Pi).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from camera.detect.config import DetectorConfig
from camera.detect.decoding import Decoder, decoder_for
from camera.detect.errors import ModelError
from camera.detect.letterbox import letterbox
from camera.detect.manifest import ModelSpec, verify_file
from camera.detect.merge import merge_detections
from camera.detect.runtime import LoadedModel, load_model
from camera.detect.selection import Selection
from camera.detect.timing import DeviceTimings
from camera.types import Box, Detection, ModelVariant, Precision, Region

log = logging.getLogger(__name__)

_MIN_CROP = 2  # pixels; a thinner crop carries nothing the model can use


@dataclass
class _Variant:
    spec: ModelSpec
    model: LoadedModel
    decoder: Decoder
    lock: threading.Lock


def _decoder_for(spec: ModelSpec, model: LoadedModel) -> Decoder:
    shapes = {
        name: tuple(int(d) for d in detail["shape"])
        for name, detail in model.runner.get_output_details().items()
    }
    return decoder_for(spec, shapes)


class TFLiteDetector:
    """Detector backed by TFLite interpreters, one per variant of the device's ladder, all loaded
    up front so the governor can switch between two frames."""

    def __init__(self, variants: dict[str, _Variant], config: DetectorConfig, active: str) -> None:
        self._variants = variants
        self._config = config
        self._active = variants[active]
        self._closed = False
        self.selection: Selection | None = None
        """How the ladder was chosen (set by ``load_detector``; None when opened directly)."""
        self.timings: DeviceTimings | None = None
        self.skipped: dict[str, str] = {}
        """Variants left out because they cannot be used here, with why (``load_detector``)."""

    @classmethod
    def open(
        cls, specs: Sequence[ModelSpec], config: DetectorConfig, active: str | None = None
    ) -> TFLiteDetector:
        """Verify and load every variant of ``specs`` (the ladder, best first); ``active`` (default
        the first) runs until ``set_variant``.  Raises ModelError."""
        if not specs:
            raise ModelError("no model variant to load")
        variants: dict[str, _Variant] = {}
        for spec in specs:
            verify_file(spec)
            model = load_model(spec.path, config.threads)
            variants[spec.name] = _Variant(spec, model, _decoder_for(spec, model), threading.Lock())
            log.info(
                "loaded %s (%.1f MB, sha256 ok) with %s, %d threads",
                spec.name,
                spec.size / 1e6,
                model.backend,
                config.threads,
            )
        return cls(variants, config, active or specs[0].name)

    @property
    def precision(self) -> Precision:
        return self._active.spec.precision

    @property
    def input_size(self) -> int:
        return self._active.spec.input_size

    @property
    def backend(self) -> str:
        return self._active.model.backend

    @property
    def variant(self) -> str:
        return self._active.spec.name

    @property
    def ladder(self) -> tuple[ModelVariant, ...]:
        """Every loaded variant, in the order given at ``open`` (the governor's rungs)."""
        return tuple(
            ModelVariant(v.spec.name, v.spec.precision, v.spec.input_size)
            for v in self._variants.values()
        )

    def set_variant(self, name: str) -> None:
        """Use ``name`` from the next ``detect`` call on; a frame in flight keeps its model.

        A variant that was not loaded is refused with a warning (``variant`` keeps telling what
        runs), so a governor's request can never stop the camera.
        """
        variant = self._variants.get(name)
        if variant is None:
            log.warning("model variant %s is not loaded; staying on %s", name, self.variant)
            return
        if variant is not self._active:
            log.info("detector model %s -> %s", self.variant, name)
            self._active = variant

    def detect(self, image: np.ndarray, regions: Sequence[Region]) -> list[Detection]:
        """Persons and pets in ``regions`` of the BGR frame ``image``, in frame pixels."""
        if self._closed:
            raise RuntimeError("detector is closed")
        variant = self._active  # one model for the whole frame, whatever set_variant does
        height, width = image.shape[:2]
        found: list[tuple[int, np.ndarray, float, int]] = []
        for index, region in enumerate(regions):
            crop = _crop_bounds(region.box, width, height)
            if crop is None:
                continue
            found.extend((index, *hit) for hit in self._detect_crop(variant, image, crop))
        return self._merge(variant, found)

    def _detect_crop(
        self, variant: _Variant, image: np.ndarray, crop: tuple[int, int, int, int]
    ) -> Iterator[tuple[np.ndarray, float, int]]:
        x1, y1, x2, y2 = crop
        pixels = image[y1:y2, x1:x2]
        if pixels.ndim == 2:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
        model_input, placement = letterbox(pixels, variant.spec.input_size)
        with variant.lock:
            outputs = variant.model.run(model_input)
        candidates = variant.decoder.decode(outputs, self._config.min_score)
        boxes = placement.to_source(candidates.boxes) + np.array([x1, y1, x1, y1], np.float32)
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], x1, x2)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], y1, y2)
        return zip(boxes, candidates.scores, candidates.class_ids, strict=True)

    def _merge(
        self, variant: _Variant, found: list[tuple[int, np.ndarray, float, int]]
    ) -> list[Detection]:
        if not found:
            return []
        groups, boxes, scores, class_ids = zip(*found, strict=True)
        return merge_detections(
            np.asarray(boxes, dtype=np.float32),
            np.asarray(scores, dtype=np.float32),
            np.asarray(class_ids, dtype=int),
            np.asarray(groups),
            variant.spec.classes,
            self._config.nms_iou,
        )

    def close(self) -> None:
        """Release the interpreters; ``detect`` raises afterwards."""
        self._closed = True
        self._variants.clear()


def _crop_bounds(box: Box, width: int, height: int) -> tuple[int, int, int, int] | None:
    """Integer pixel bounds of ``box`` inside the frame, or None if too thin to use."""
    clipped = box.clip(width, height)
    x1, y1 = math.floor(clipped.x1), math.floor(clipped.y1)
    x2, y2 = math.ceil(clipped.x2), math.ceil(clipped.y2)
    if x2 - x1 < _MIN_CROP or y2 - y1 < _MIN_CROP:
        return None
    return x1, y1, x2, y2
