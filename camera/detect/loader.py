"""``load_detector``: from configuration to a ready detector, or one clear ModelError."""

from __future__ import annotations

import logging
from pathlib import Path

from camera.detect.config import DetectorConfig
from camera.detect.errors import ModelError
from camera.detect.manifest import ModelSpec, bundled_manifest, read_manifest, verify_file
from camera.detect.memory import device_memory_bytes
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

    A variant that cannot be used (its file missing or corrupt, its timing failed) is skipped
    with one warning line: the camera runs on the others.  Only a pinned variant
    (``detector.variant``) that cannot be used, or none usable at all, is fatal.

    Raises ModelError.  The detector's ``selection`` and ``timings`` tell how it was chosen.
    """
    path = config.manifest if config.manifest is not None else bundled_manifest()
    specs = read_manifest(path)
    suffixes = {spec.path.suffix for spec in specs}
    if len(suffixes) != 1 or next(iter(suffixes)) not in BACKENDS:
        raise ModelError(f"models manifest {path}: no backend for model files {sorted(suffixes)}")
    failed: dict[str, str] = {}
    for spec in specs:
        try:
            verify_file(spec)
        except ModelError as error:
            failed[spec.name] = str(error)
    intact = [s for s in specs if s.name not in failed]
    timings = device_timings(intact, config.threads, cache_dir, measure)
    failed.update(timings.failed)
    usable = [s for s in intact if s.name in timings.timings_ms]
    _refuse_or_skip(config.variant, usable, failed)
    selection = select(
        usable, timings.timings_ms, config.variant, config.budget_ms, device_memory_bytes()
    )
    detector = BACKENDS[suffixes.pop()](selection.ladder[: rungs or None], config)
    log.info(  # once loaded: a model that fails to load is said in its one error line
        "model %s: %s; ladder %s",
        selection.normal.name,
        selection.reason,
        " -> ".join(s.name for s in selection.ladder),
    )
    detector.selection = selection
    detector.timings = timings
    detector.skipped = failed
    return detector


def _refuse_or_skip(variant: str, usable: list[ModelSpec], failed: dict[str, str]) -> None:
    """Raise ModelError when the pinned variant, or every variant, failed; else log each
    failed variant in one line and carry on without it."""
    if variant in failed:
        raise ModelError(f"detector.variant {variant} cannot be used: {failed[variant]}")
    if not usable:
        first = next(iter(failed.values()), "the manifest lists no variant")
        more = f" (and {len(failed) - 1} other variant(s) failed too)" if len(failed) > 1 else ""
        raise ModelError(f"{first}{more}")
    for name, reason in failed.items():
        log.warning("model variant %s skipped: %s", name, reason)
