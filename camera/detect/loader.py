"""``load_detector``: from configuration to a ready detector, or one clear ModelError."""

from __future__ import annotations

import logging
from pathlib import Path

from camera.detect.config import DetectorConfig
from camera.detect.errors import ModelError
from camera.detect.manifest import bundled_manifest, read_manifest, verify_file
from camera.detect.selection import select
from camera.detect.tflite import TFLiteDetector
from camera.detect.timing import Measure, device_timings, measure_latency

log = logging.getLogger(__name__)

# Backend by model file suffix: a new backend is one module plus one line here.
BACKENDS = {".tflite": TFLiteDetector.open}


def load_detector(
    config: DetectorConfig,
    cache_dir: Path | None = None,
    measure: Measure = measure_latency,
    rungs: int | None = None,
) -> TFLiteDetector:
    """Read and verify the manifest, time the variants on this device (or read the cached
    timings from ``cache_dir``), choose the normal variant and load its ladder, at most
    ``rungs`` of it (the normal variant and the cheaper ones the governor may ask for).

    Raises ModelError.  The detector's ``selection`` and ``timings`` tell how it was chosen.
    """
    path = config.manifest if config.manifest is not None else bundled_manifest()
    specs = read_manifest(path)
    suffixes = {spec.path.suffix for spec in specs}
    if len(suffixes) != 1 or next(iter(suffixes)) not in BACKENDS:
        raise ModelError(f"models manifest {path}: no backend for model files {sorted(suffixes)}")
    for spec in specs:
        verify_file(spec)
    timings = device_timings(specs, config.threads, cache_dir, measure)
    selection = select(specs, timings.timings_ms, config.variant, config.budget_ms)
    detector = BACKENDS[suffixes.pop()](selection.ladder[: rungs or None], config)
    log.info(  # once loaded: a model that fails to load is said in its one error line
        "model %s: %s; ladder %s",
        selection.normal.name,
        selection.reason,
        " -> ".join(s.name for s in selection.ladder),
    )
    detector.selection = selection
    detector.timings = timings
    return detector
