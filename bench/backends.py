"""``bench/pipeline.py --backends``: the frame loop's CPU per frame with each detector backend.

See bench/pipeline.py's docstring for what is counted.  The accelerators are the test suite's
fakes (tests/fake_picamera2), which answer from what the CPU found on the same frames, so every
backend sees the same detections and makes the same events: only where the work is done
differs.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.accel_helpers: the AI Camera seen through a recording
sys.path.insert(0, str(REPO / "tests" / "fake_picamera2"))  # picamera2.devices: the fakes

import numpy as np  # noqa: E402

from camera.app import stage_configs  # noqa: E402
from camera.config import RondaConfig  # noqa: E402
from camera.detect import DetectorConfig, load_detector  # noqa: E402
from camera.detect.manifest import bundled_manifest, read_manifest  # noqa: E402
from camera.detect.tflite import TFLiteDetector  # noqa: E402
from camera.events import EventUpdate  # noqa: E402
from camera.pipeline import FrameOutcome, Pipeline  # noqa: E402
from camera.types import Box, Region  # noqa: E402
from tests.accel_helpers import DetectionRecorder, SensorReplay, device_tree  # noqa: E402

CpuClock = Callable[[], float]


class Metered:
    """Process CPU seconds spent inside the wrapped calls (all threads: TFLite's too)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.process_time() - started

        return timed


class Updates:
    """An event sink keeping what each update says (the MQTT message's facts, no thumbnail)."""

    def __init__(self) -> None:
        self.seen: list[tuple[object, ...]] = []

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        end = None if update.end_time is None else round(update.end_time, 2)
        self.seen.append((update.type, update.label, update.subclass, update.sequence,
                          round(update.start_time, 2), end, round(update.score, 3)))  # fmt: skip


def replay(
    detector: Any,
    source: Any,
    hooks: list[Callable[[FrameOutcome], None]] | None = None,
    updates: Updates | None = None,
) -> dict[str, float]:
    """One pass: CPU ms per frame inside the loop (and the sensor's metadata decoding)."""
    pipeline = Pipeline(
        camera="bench",
        topic_prefix="ronda/bench",
        stages=stage_configs(RondaConfig()),
        detector=detector,
        sinks=[updates] if updates is not None else [],
        hooks=hooks or [],
    )
    meter = Metered()
    network = getattr(detector, "network", None)
    if network is not None:
        network.detections = meter.wrap(network.detections)
        source.attach_network(network)
    process = meter.wrap(pipeline.process)
    pipeline.begin_stream(source.name)
    started = time.perf_counter()
    frames = 0
    for frame in source.frames():
        process(frame)
        frames += 1
    pipeline.end_stream()
    wall = time.perf_counter() - started
    stats = pipeline.stats
    detector.close()
    return {
        "frames": frames,
        "cpu_ms": 1000 * meter.seconds / frames,
        "wall_ms": 1000 * wall / frames,
        "detector_calls": stats.detector_calls,
        "events": sum(stats.events.values()),
    }


def cpu_detector(variant: str) -> TFLiteDetector:
    """The CPU backend on one pinned variant, without timing the others."""
    spec = next(s for s in read_manifest(bundled_manifest()) if s.name == variant)
    return TFLiteDetector.open([spec], DetectorConfig(backend="cpu", variant=variant))


def hailo_answers(variant: str) -> tuple[Callable[[np.ndarray], list[np.ndarray]], dict[str, Any]]:
    """A responder that runs the CPU model on each 640 input the fake Hailo gets (recording
    pass), caching its NMS-by-class answer by the input's digest for the timed pass."""
    from tests.test_hailo import nms_output

    cpu = cpu_detector(variant)
    cache: dict[str, Any] = {}
    whole = [Region(Box(0, 0, 640, 640))]

    def respond(rgb: np.ndarray) -> list[np.ndarray]:
        key = hashlib.blake2b(rgb.tobytes(), digest_size=16).hexdigest()
        if key not in cache:
            found = cpu.detect(np.ascontiguousarray(rgb[:, :, ::-1]), whole)  # type: ignore[attr-defined]
            cache[key] = nms_output(found, 640)
        return cache[key]

    return respond, cache


def cached(cache: dict[str, Any]) -> Callable[[np.ndarray], list[np.ndarray]]:
    empty = [np.zeros((0, 5), np.float32) for _ in range(80)]

    def respond(rgb: np.ndarray) -> list[np.ndarray]:
        return cache.get(hashlib.blake2b(rgb.tobytes(), digest_size=16).hexdigest(), empty)

    return respond


def compare(clip: Path, variant: str, frames: int) -> None:
    import picamera2
    from picamera2.devices.hailo import ACCELERATOR

    root = device_tree(Path(tempfile.mkdtemp(prefix="ronda-bench-")), imx500=True, hailo=True)
    recorder = DetectionRecorder()
    cpu = replay(cpu_detector(variant), SensorReplay(picamera2, clip, frames), [recorder])
    sensor_detector = load_detector(DetectorConfig(device_root=root), pi_camera=True)
    sensor = replay(sensor_detector, SensorReplay(picamera2, clip, frames, recorder.by_index))
    respond, cache = hailo_answers(variant)
    ACCELERATOR.respond = respond
    replay(load_detector(DetectorConfig(backend="hailo", device_root=root)),
           SensorReplay(picamera2, clip, frames))  # fmt: skip
    ACCELERATOR.respond = cached(cache)
    hailo = replay(
        load_detector(DetectorConfig(backend="hailo", device_root=root)),
        SensorReplay(picamera2, clip, frames),
    )
    load = os.getloadavg()[0]
    print(
        f"clip: {clip.name}, first {cpu['frames']} frames, CPU baseline {variant}, load {load:.1f}"
    )
    print(f"{'backend':<10}{'CPU ms/frame':>14}{'x CPU':>8}{'wall ms/frame':>15}"
          f"{'detector calls':>16}{'events':>8}")  # fmt: skip
    for name, row in (("cpu", cpu), ("imx500", sensor), ("hailo", hailo)):
        print(
            f"{name:<10}{row['cpu_ms']:>14.2f}{row['cpu_ms'] / cpu['cpu_ms']:>8.2f}"
            f"{row['wall_ms']:>15.2f}{row['detector_calls']:>16.0f}{row['events']:>8.0f}"
        )


def equivalence(manifest: Path, variant: str) -> None:
    """Every clip of a labelled manifest (``/work/evalset/manifest.json``): the CPU's events,
    then the AI Camera's fed the CPU's detections of each frame; the same updates or not."""
    import json

    import picamera2

    root = device_tree(Path(tempfile.mkdtemp(prefix="ronda-bench-")), imx500=True)
    items = json.loads(manifest.read_text())["items"]
    same = events = 0
    print(f"{'clip':<40}{'frames':>8}{'cpu events':>12}{'imx500 events':>15}  same updates")
    for item in items:
        clip = manifest.parent / item["path"]
        recorder, cpu_updates, sensor_updates = DetectionRecorder(), Updates(), Updates()
        frames = int(item.get("frames") or 10**6)
        replay(cpu_detector(variant), SensorReplay(picamera2, clip, frames), [recorder],
               cpu_updates)  # fmt: skip
        sensor = load_detector(DetectorConfig(device_root=root), pi_camera=True)
        replay(sensor, SensorReplay(picamera2, clip, frames, recorder.by_index), None,
               sensor_updates)  # fmt: skip
        starts = [u for u in cpu_updates.seen if u[0] == "start" and u[3] == 1]
        sensor_starts = [u for u in sensor_updates.seen if u[0] == "start" and u[3] == 1]
        identical = cpu_updates.seen == sensor_updates.seen
        same += identical
        events += len(starts)
        print(f"{clip.name[:39]:<40}{frames:>8}{len(starts):>12}{len(sensor_starts):>15}  "
              f"{'yes' if identical else 'NO'}")  # fmt: skip
    print(f"{same} of {len(items)} clips with identical event updates; {events} CPU events")
