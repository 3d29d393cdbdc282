"""The TFLite detector backend: crops regions, runs the model, maps boxes back to the frame.

Only the running variant of the device's model ladder (``camera.detect.selection``) is in
memory.  The other rungs are checked at start (file, size, sha256; their timing child loaded and
ran them) and loaded when the governor asks for one: the running interpreter is released first,
then the new one loaded, so memory never holds two.  On a 512 MB Pi Zero 2 W that matters more
than the switch: keeping float32 416 and int8 416 both loaded cost about 20 MB of resident
memory all the time (float32 alone about 60 MB once XNNPACK has packed it), for a switch that
happens a few times a day, when the SoC gets hot, and costs one model load (tens of ms on a
Pi 4, up to a second or two for float32 on a Zero: stale frames are dropped meanwhile, as when
the loop is busy).  A rung that cannot be loaded then is logged and the previous one comes back:
a governor's request never stops the camera.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from camera.detect.base import Capabilities, CropDetector
from camera.detect.config import DetectorConfig
from camera.detect.crops import detect_on_crops
from camera.detect.decoding import Candidates, Decoder, decoder_for
from camera.detect.errors import ModelError
from camera.detect.manifest import ModelSpec, verify_file
from camera.detect.runtime import LoadedModel, load_model, release_freed_memory
from camera.detect.selection import Selection
from camera.detect.timing import DeviceTimings
from camera.types import Detection, ModelVariant, Precision, Region

log = logging.getLogger(__name__)


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


def _load_variant(spec: ModelSpec, config: DetectorConfig) -> _Variant:
    model = load_model(spec.path, config.threads)
    variant = _Variant(spec, model, _decoder_for(spec, model), threading.Lock())
    log.info(
        "loaded %s (%.1f MB, sha256 ok) with %s, %d threads",
        spec.name,
        spec.size / 1e6,
        model.backend,
        config.threads,
    )
    return variant


class TFLiteDetector(CropDetector):
    """Detector backed by one TFLite interpreter at a time, for one variant of the device's
    ladder; the governor switches rungs with ``set_variant`` (see the module docstring)."""

    def __init__(self, specs: dict[str, ModelSpec], config: DetectorConfig, active: str) -> None:
        self._specs = specs
        self._config = config
        self._active: _Variant | None = _load_variant(specs[active], config)
        self._running = specs[active]
        """What runs (kept when the interpreter is released at ``close``)."""
        self._backend = self._active.model.backend
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
        """Verify every variant of ``specs`` (the ladder, best first) and load ``active``
        (default the first), which runs until ``set_variant``.  Raises ModelError."""
        if not specs:
            raise ModelError("no model variant to load")
        for spec in specs:
            verify_file(spec)
        return cls({spec.name: spec for spec in specs}, config, active or specs[0].name)

    @property
    def capabilities(self) -> Capabilities:
        """The CPU on motion crops, at the running variant's input size."""
        spec = self._running
        return Capabilities(
            kind="cpu",
            device=f"CPU ({self._backend}, {self._config.threads} threads)",
            scope="crops",
            input_size=spec.input_size,
            labels=tuple(sorted({c.subclass for c in spec.classes.values()})),
            cost="cpu",
        )

    @property
    def precision(self) -> Precision:
        return self._running.precision

    @property
    def input_size(self) -> int:
        return self._running.input_size

    @property
    def backend(self) -> str:
        return self._backend

    @property
    def variant(self) -> str:
        return self._running.name

    @property
    def ladder(self) -> tuple[ModelVariant, ...]:
        """Every variant it may run, in the order given at ``open`` (the governor's rungs)."""
        return tuple(
            ModelVariant(spec.name, spec.precision, spec.input_size)
            for spec in self._specs.values()
        )

    def set_variant(self, name: str) -> None:
        """Run ``name`` from the next ``detect`` call on (call it between frames: the loop does).

        The running interpreter is released, then ``name`` loaded.  A variant off the ladder, or
        one that fails to load, is refused with a warning and the running one stays (``variant``
        keeps telling what runs), so a governor's request can never stop the camera.
        """
        spec = self._specs.get(name)
        if spec is None:
            log.warning("model variant %s is not loaded; staying on %s", name, self.variant)
            return
        if self._closed or spec is self._running:
            return
        previous = self._running
        self._active = None  # the last reference: its interpreter is freed before the next load
        release_freed_memory()
        try:
            self._active = _load_variant(spec, self._config)
        except ModelError as error:
            log.warning("cannot switch to model %s (%s); staying on %s", name, error, previous.name)
            self._active = _load_variant(previous, self._config)
            return
        self._running = spec
        log.info("detector model %s -> %s", previous.name, name)

    def detect(self, image: np.ndarray, regions: Sequence[Region]) -> list[Detection]:
        """Persons and pets in ``regions`` of the BGR frame ``image``, in frame pixels."""
        variant = self._active  # one model for the whole frame, whatever set_variant does
        if self._closed or variant is None:
            raise RuntimeError("detector is closed")

        def infer(model_input: np.ndarray) -> Candidates:
            with variant.lock:
                outputs = variant.model.run(model_input)
            return variant.decoder.decode(outputs, self._config.min_score)

        spec = variant.spec
        return detect_on_crops(
            image,
            regions,
            spec.input_size,
            infer,
            spec.classes,
            self._config.nms_iou,
            self._config.night_contrast,
            spec.input_format,
        )

    def close(self) -> None:
        """Release the interpreter; ``detect`` raises afterwards."""
        self._closed = True
        self._active = None
        release_freed_memory()
