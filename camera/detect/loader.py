"""``load_detector``: from configuration to a ready detector, or one clear ModelError.

First the backend (``detector.backend``): ``auto`` takes the AI Camera's sensor when the
camera is one, else a Hailo accelerator, else the CPU (``camera.detect.devices`` finds them
without importing their drivers).  An accelerator that was asked for or found but cannot be
opened is one warning line, and the CPU runs instead: the camera keeps alerting.  The CPU
backend then chooses its model variant and ladder from the manifest and this device's timings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from camera.detect.base import BackendChoice, Detector
from camera.detect.config import DetectorConfig
from camera.detect.devices import NAMES, Probe, plan
from camera.detect.errors import ModelError
from camera.detect.fallback import FallingBack
from camera.detect.manifest import ModelSpec, bundled_manifest, read_manifest, verify_file
from camera.detect.memory import device_memory_bytes
from camera.detect.selection import select
from camera.detect.tflite import TFLiteDetector
from camera.detect.timing import Measure, device_timings, measure_latency

log = logging.getLogger(__name__)

# CPU backend by model file suffix.
BACKENDS = {".tflite": TFLiteDetector.open}


CpuLoader = Callable[[], Detector]
"""The CPU backend on one rung, loaded only when asked (the AI Camera's ``cpu_assist``)."""


def _open_imx500(config: DetectorConfig, probe: Probe, cpu: CpuLoader) -> Detector:
    from camera.detect.imx500 import Imx500Detector, Imx500Network

    assert probe.model is not None
    network = Imx500Network(config, probe.model)
    return Imx500Detector(network, cpu() if config.imx500.cpu_assist else None)


def _open_hailo(config: DetectorConfig, probe: Probe, cpu: CpuLoader) -> Detector:
    from camera.detect.hailo import HailoDetector

    assert probe.model is not None
    return HailoDetector.open(probe.model, config)


OPENERS: dict[str, Callable[[DetectorConfig, Probe, CpuLoader], Detector]] = {
    "imx500": _open_imx500,
    "hailo": _open_hailo,
}


def load_detector(
    config: DetectorConfig,
    cache_dir: Path | None = None,
    measure: Measure = measure_latency,
    rungs: int | None = None,
    *,
    pi_camera: bool = False,
) -> Detector:
    """The detector ``detector.backend`` asks for on this device (see the module docstring).

    ``pi_camera``: frames come from the Pi's camera through picamera2 (``ronda run`` with that
    source), the only way to the AI Camera's sensor network; replays never use it.  The
    detector's ``choice`` says what runs and why.  Raises ModelError only for the CPU backend
    (see ``load_cpu_detector``)."""
    wanted = config.backend
    chosen = plan(config, pi_camera)
    fallback = chosen.fallback
    if chosen.probe is not None:
        try:
            cpu = lambda: load_cpu_detector(config, cache_dir, measure, rungs=1)  # noqa: E731
            detector = OPENERS[chosen.kind](config, chosen.probe, cpu)
        except ModelError as error:
            fallback = f"{NAMES[chosen.kind]}: {error}"
        else:
            log.info("detector: %s (detector.backend %s)", chosen.probe.detail, wanted)
            choice = BackendChoice(wanted, detector.capabilities.kind, chosen.probe.detail)
            return _chosen(FallingBack(detector, cpu), choice)
    if fallback is not None:
        log.warning("%s; detecting on the CPU instead", fallback)
    detector = load_cpu_detector(config, cache_dir, measure, rungs)
    if wanted == "cpu":
        reason = "detector.backend cpu"
    elif fallback is not None:
        reason = "fallback"
    else:
        reason = f"auto: no accelerator ({chosen.missing()})"
    return _chosen(detector, BackendChoice(wanted, "cpu", reason, fallback))


def _chosen(detector: Detector, choice: BackendChoice) -> Detector:
    detector.choice = choice  # type: ignore[attr-defined]
    return detector


def load_cpu_detector(
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
