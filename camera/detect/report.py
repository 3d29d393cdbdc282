"""What ``ronda doctor`` and ``ronda models`` say about the detector backends of this device.

Both ask the same probes ``load_detector`` asks at start (``camera.detect.devices``), and say
what ``ronda run`` would choose with this configuration.  Neither hands a network to the AI
Camera: that uploads firmware to the sensor, which the camera check does (it opens the camera,
which the service must not hold), so here the sensor's network is only found, not run.  A Hailo
is opened and runs one inference, which says whether HailoRT, the driver and the ``.hef``
really work together.
"""

from __future__ import annotations

import time
from typing import Literal

import numpy as np

from camera.detect.base import CropDetector
from camera.detect.config import DetectorConfig
from camera.detect.devices import NAMES, plan
from camera.detect.errors import ModelError
from camera.types import Box, Region

Status = Literal["ok", "warn", "FAIL", "skip"]


def inference_ms(detector: CropDetector, image: np.ndarray, size: int) -> float:
    """One inference of a ``size`` crop of ``image``, timed after an untimed one (the first
    call allocates, or configures the device)."""
    region = [Region(Box(0, 0, size, size))]
    detector.detect(image, region)
    started = time.perf_counter()
    detector.detect(image, region)
    return (time.perf_counter() - started) * 1000


def backend_check(
    config: DetectorConfig, pi_camera: bool
) -> tuple[Status, str, str, tuple[str, ...]]:
    """``(status, detail, fix, more lines)`` of the doctor's detector check."""
    chosen = plan(config, pi_camera)
    how = f"detector.backend {config.backend}"
    if chosen.fallback is not None:
        return (
            "warn",
            f"{how}, but {chosen.fallback}: ronda run detects on the CPU",
            "install what the line says, or set detector.backend: auto",
            chosen.lines(),
        )
    if chosen.kind == "cpu":
        return "ok", f"the CPU ({how}; see the runtime line)", "", chosen.lines()
    assert chosen.probe is not None and chosen.probe.model is not None
    if chosen.kind == "imx500":
        return (
            "ok",
            f"{chosen.probe.detail}: runs on the sensor ({how}); the camera line opens it",
            "",
            chosen.lines(),
        )
    from camera.detect.hailo import HailoDetector

    try:
        detector = HailoDetector.open(chosen.probe.model, config)
    except ModelError as error:
        return (
            "warn",
            f"{error}: ronda run detects on the CPU",
            "the Hailo serves one process: stop the service first (sudo systemctl stop ronda); "
            "else sudo apt install hailo-all and reboot",
            chosen.lines(),
        )
    try:
        size = detector.input_size
        ms = inference_ms(detector, np.zeros((size, size, 3), np.uint8), size)
    finally:
        detector.close()
    detail = f"{chosen.probe.detail}: one {size} px inference in {ms:.0f} ms ({how})"
    return "ok", detail, "", chosen.lines()


def models_lines(config: DetectorConfig, pi_camera: bool) -> list[str]:
    """``ronda models``' first lines: the accelerators and which backend runs."""
    chosen = plan(config, pi_camera)
    runs = NAMES.get(chosen.kind, "the CPU (the variants below)")
    lines = [f"detector.backend {config.backend}: runs on {runs}"]
    if chosen.fallback:
        lines.append(f"  not on {chosen.fallback}")
    lines.extend(f"  {line}" for line in chosen.lines())
    if chosen.kind != "cpu":
        lines.append("  the CPU variants below run only if it fails")
    return lines
