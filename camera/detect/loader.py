"""``load_detector``: from configuration to a ready detector, or one clear ModelError."""

from __future__ import annotations

from camera.detect.base import Detector
from camera.detect.config import DetectorConfig
from camera.detect.errors import ModelError
from camera.detect.manifest import bundled_manifest, read_manifest
from camera.detect.tflite import TFLiteDetector

# Backend by model file suffix: a new backend is one module plus one line here.
BACKENDS = {".tflite": TFLiteDetector.open}


def load_detector(config: DetectorConfig) -> Detector:
    """Read the manifest, verify every listed model, and load them all; raises ModelError."""
    path = config.manifest if config.manifest is not None else bundled_manifest()
    specs = read_manifest(path)
    suffixes = {spec.path.suffix for spec in specs}
    if len(suffixes) != 1 or next(iter(suffixes)) not in BACKENDS:
        raise ModelError(f"models manifest {path}: no backend for model files {sorted(suffixes)}")
    return BACKENDS[suffixes.pop()](specs, config)
