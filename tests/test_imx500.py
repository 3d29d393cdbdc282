"""The AI Camera (IMX500) backend against a fake ``picamera2.devices.imx500`` that reads output
tensors in the documented layout from each frame's metadata (tests/fake_picamera2).

The tensors are what the CPU backend found on the same frames of a real clip, so the end to end
test can ask the question that matters: fed the same detections, does the sensor backend give
the same events, through the real pipeline, tracker, outbox and broker?  The live test runs
``Picamera2Source`` itself: the camera opened by the sensor's number, the first frame held back
by the firmware upload (progress said, systemd's start timeout extended), frames carrying the
sensor's detections, an alert on the broker.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from camera.app import RunOptions, Runtime
from camera.config import RondaConfig, parse_config
from camera.detect import DetectorConfig, load_detector
from camera.detect.base import choice_of
from camera.detect.devices import probe_imx500
from camera.service.monitor import ServiceMonitor
from camera.service.notify import Notifier
from camera.sources import open_source, picamera2_source
from camera.types import Box, Detection, Frame, Region
from tests.accel_helpers import COCO80_IDS, DetectionRecorder, SensorReplay, device_tree, to_sensor
from tests.broker import Mosquitto, Subscriber, wait_until
from tests.conftest import footage

CLIP = footage("clips/intel_one-by-one-person-detection.mp4")
FRAMES = 260  # 26 s at 10 fps: two people walk in and out


def config_for(
    tmp_path: Path, broker: Mosquitto, name: str, source: dict | None = None, **detector: object
) -> RondaConfig:
    return parse_config(
        {
            "camera": {"name": name},
            "store": {"path": str(tmp_path / name)},
            "mqtt": {"host": broker.host, "port": broker.port, "drain_timeout_s": 30},
            "governor": {"enabled": False},
            "clips": {"enabled": False},
            "source": source or {},
            "detector": detector,
        }
    )


def run(config: RondaConfig, source: object, *, camera: bool, hooks: list | None = None) -> Runtime:
    runtime = Runtime(config, RunOptions(hooks=hooks or [], live_camera=camera))
    try:
        runtime.run_source(source, threading.Event())  # type: ignore[arg-type]
        runtime.drain()
    finally:
        runtime.close()
    return runtime


def visits(subscriber: Subscriber, camera: str) -> list[tuple]:
    """Each event message of ``camera``: what changed, when (from the first start), how sure."""
    events = [m.json() for m in subscriber.on("/events") if m.topic.split("/")[1] == camera]
    origin = min((e["start_time"] for e in events), default=0.0)
    return [
        (
            e["type"],
            e["label"],
            e["subclass"],
            e["sequence"],
            round(e["start_time"] - origin, 1),
            None if e["end_time"] is None else round(e["end_time"] - origin, 1),
            round(e["score"], 2),
        )
        for e in events
    ]


def test_probe_says_what_is_there_and_what_is_missing(tmp_path: Path, fake_picamera2) -> None:
    root = tmp_path / "root"
    assert "no AI Camera" in probe_imx500(DetectorConfig(device_root=root)).detail
    device_tree(root, imx500=True)
    found = probe_imx500(DetectorConfig(device_root=root))
    assert found.usable and "v4l-subdev2" in found.detail
    assert (
        found.model == root / "usr/share/imx500-models/imx500_network_nanodet_plus_416x416_pp.rpk"
    )
    (root / "lib/firmware/imx500_firmware.fpk").unlink()
    missing = probe_imx500(DetectorConfig(device_root=root))
    assert not missing.usable and "imx500_firmware.fpk" in missing.detail
    assert "apt install imx500-all" in missing.detail
    assert "picamera2.devices" not in sys.modules  # found without importing its driver


def test_sensor_boxes_land_on_the_frame_and_only_inside_regions(
    tmp_path: Path, fake_picamera2
) -> None:
    """The documented layout through ``get_outputs`` and ``convert_inference_coords``, both
    label schemes, and the region filter that keeps motion in charge."""
    from picamera2.devices.imx500 import SENSOR
    from picamera2.devices.imx500.tensors import detection_metadata

    root = device_tree(tmp_path, imx500=True)
    detector = load_detector(DetectorConfig(device_root=root), pi_camera=True)
    assert choice_of(detector).kind == "imx500"  # type: ignore[union-attr]
    assert detector.capabilities.scope == "frame" and detector.capabilities.cost == "sensor"
    assert detector.ladder[0].cost == "sensor"
    assert SENSOR.opened == [
        str(root / "usr/share/imx500-models/imx500_network_nanodet_plus_416x416_pp.rpk")
    ]
    network = detector.network  # type: ignore[attr-defined]
    camera = fake_picamera2.Picamera2(network.camera_num)
    camera.configure(camera.create_video_configuration(main={"size": (1280, 720)}))
    crop = camera.scaler_crop()
    truth = [
        Detection("person", "person", 0.8, Box(100, 50, 260, 600)),
        Detection("pet", "dog", 0.7, Box(900, 500, 1100, 680)),
    ]
    metadata = {"ScalerCrop": crop} | detection_metadata(
        [to_sensor(d, camera, crop) for d in truth]
        + [[0.1, 0.1, 0.2, 0.2], [0.5, 0.5, 0.6, 0.6]],  # a car (2), and a person below min_score
        [d.score for d in truth] + [0.9, 0.1],
        [COCO80_IDS[d.subclass] for d in truth] + [2, 0],
    )
    found = network.detections(metadata, camera)
    assert [(d.label, d.subclass) for d in found] == [("person", "person"), ("pet", "dog")]
    for seen, real in zip(found, truth, strict=True):
        assert (
            max(abs(a - b) for a, b in zip(seen.box.as_list(), real.box.as_list(), strict=True))
            <= 2
        )
    frame = Frame(np.zeros((720, 1280, 3), np.uint8), 0.0, 1, inferred=found)
    left = [Region(Box(0, 0, 640, 720))]
    assert [d.subclass for d in detector.detect_frame(frame, left)] == ["person"]
    assert (
        detector.detect_frame(frame, []) == []
    )  # no motion, no region: nothing reaches the tracker
    # A frame without output (the network runs at its own rate): the last result stands.
    assert network.detections({"ScalerCrop": crop}, camera) == found
    detector.close()


def test_ai_camera_gives_the_cpu_backends_events_on_the_same_frames(
    tmp_path: Path, fake_picamera2, broker: Mosquitto, subscriber: Subscriber
) -> None:
    """What the CPU found on each frame of 26 s of real footage, handed to the fake sensor as
    output tensors: the same event messages on the broker (types, labels, times, scores)."""
    recorder = DetectionRecorder()
    cpu = run(
        config_for(tmp_path, broker, "cpu", backend="cpu"),
        SensorReplay(fake_picamera2, CLIP, FRAMES),
        camera=False,
        hooks=[recorder],
    )
    assert choice_of(cpu.detector).kind == "cpu"  # type: ignore[union-attr]
    assert sum(1 for found in recorder.by_index.values() if found) > 20

    root = device_tree(tmp_path / "root", imx500=True)
    sensor = run(
        config_for(tmp_path, broker, "sensor", device_root=str(root)),
        SensorReplay(fake_picamera2, CLIP, FRAMES, recorder.by_index),
        camera=True,
    )
    assert choice_of(sensor.detector).kind == "imx500"  # type: ignore[union-attr]
    assert sensor.detector.network.outputs == FRAMES  # type: ignore[attr-defined]

    assert wait_until(
        lambda: len(visits(subscriber, "sensor")) == len(visits(subscriber, "cpu")), 10
    )
    expected = visits(subscriber, "cpu")
    assert [v[:2] for v in expected if v[0] == "start"] == [("start", "person")] * 2
    assert visits(subscriber, "sensor") == expected
    # The stats (and Home Assistant's Detector sensor) say where detection ran.
    for camera, kind in (("cpu", "cpu"), ("sensor", "imx500")):
        stats = [m.json() for m in subscriber.on("/stats") if m.topic.split("/")[1] == camera]
        assert stats and stats[-1]["detector_backend"] == kind
    assert stats[-1]["detector"]["device"] == "AI Camera (IMX500), nanodet_plus_416x416_pp"
    assert stats[-1]["detector"]["sensor_outputs"] == FRAMES


def test_live_ai_camera_waits_for_the_firmware_then_alerts(
    tmp_path: Path, fake_picamera2, broker: Mosquitto, subscriber: Subscriber, caplog, monkeypatch
) -> None:
    """``ronda run`` with the real picamera2 source: the sensor's camera number, a first frame
    held back by the firmware upload (progress logged, systemd's start extended), then frames
    whose sensor detections make a person alert."""
    from picamera2.devices.imx500 import SENSOR

    caplog.set_level(logging.INFO, logger="camera.detect.imx500")
    SENSOR.progress = [(1_000_000, 4_000_000), (3_000_000, 4_000_000)]
    recorder = DetectionRecorder()
    run(config_for(tmp_path, broker, "cpu", backend="cpu"),
        SensorReplay(fake_picamera2, CLIP, 120), camera=False, hooks=[recorder])  # fmt: skip
    start = 40  # the first person walks in at 6 s
    script = fake_picamera2.SCRIPT
    script.video, script.video_start, script.fps = CLIP, start, 20.0
    script.first_frame_delay_s = 1.5
    monkeypatch.setattr(picamera2_source, "_PROGRESS_S", 1.0)  # a report a second, not every 5
    root = device_tree(tmp_path / "root", imx500=True)
    source_config = {"kind": "picamera2", "width": 768, "height": 432, "fps": 20}
    config = config_for(tmp_path, broker, "live", source_config, device_root=str(root))
    cpu_by_frame = recorder.by_index

    def sensor_output(number: int) -> dict:
        from picamera2.devices.imx500.tensors import detection_metadata

        camera = script.instances[-1]
        crop = camera.scaler_crop()
        found = cpu_by_frame.get(start + number - 1, ())
        return detection_metadata(
            [to_sensor(d, camera, crop) for d in found],
            [d.score for d in found],
            [COCO80_IDS[d.subclass] for d in found],
        )

    script.metadata = sensor_output
    sent: list[tuple[str, ...]] = []

    class Recording(Notifier):
        def send(self, *fields: str) -> bool:
            sent.append(fields)
            return True

    monitor = ServiceMonitor(Recording("@test"), watchdog_s=None)
    source = open_source(config.source)
    stop = threading.Event()
    runtime = Runtime(config, RunOptions(hooks=[monitor], live_camera=True))
    runtime.detector.network.listeners.append(monitor.camera_waiting)  # type: ignore[attr-defined]
    worker = threading.Thread(target=runtime.run_source, args=(source, stop))
    worker.start()
    try:
        assert wait_until(lambda: [v[0] for v in visits(subscriber, "live")] == ["start"], 60)
    finally:
        stop.set()
        source.close()
        worker.join(30)
        runtime.close()
    assert script.instances[0].camera_num == SENSOR.camera_num == 1
    assert any("uploading the network firmware, 25 %" in r.message for r in caplog.records)
    extended = [f for f in sent if any(x.startswith("EXTEND_TIMEOUT_USEC=") for x in f)]
    assert extended and all(any("AI Camera" in x for x in f) for f in extended)
    assert visits(subscriber, "live")[0][1] == "person"


def test_a_still_person_the_sensor_sees_on_every_frame_is_never_an_event(
    tmp_path: Path, fake_picamera2
) -> None:
    """Inference is free, motion still decides: the sensor reports a standing figure on every
    frame (a statue) and, for six seconds, a person moving across the other half of the room;
    only the one who moves is an event.  (A walker passing right by the statue makes it the
    tracker's business, as with a CPU crop that holds both.)"""
    from camera.app import stage_configs
    from camera.pipeline import Pipeline

    root = device_tree(tmp_path, imx500=True)
    detector = load_detector(DetectorConfig(device_root=root), pi_camera=True)
    updates: list = []

    class Sink:
        def emit(self, update, thumbnail) -> None:
            updates.append(update)

    pipeline = Pipeline(
        camera="t",
        topic_prefix="ronda/t",
        stages=stage_configs(RondaConfig()),
        detector=detector,
        sinks=[Sink()],
    )
    pipeline.begin_stream("sensor")
    rng = np.random.default_rng(7)
    room = rng.integers(40, 80, (360, 640, 3), dtype=np.uint8)
    statue = Detection("person", "person", 0.9, Box(40, 40, 120, 300))
    for index in range(120):
        image = room.copy()
        found = [statue]
        if 30 <= index < 90:  # someone walks in from the right, 3 px a frame, then leaves
            x = 600 - 3 * (index - 30)
            image[80:300, x - 40 : x + 40] = 220
            found.append(Detection("person", "person", 0.8, Box(x - 40, 80, x + 40, 300)))
        pipeline.process(Frame(image, index / 10, index, inferred=tuple(found)))
    pipeline.end_stream()
    starts = [u for u in updates if u.type == "start" and u.sequence == 1]
    assert len(starts) == 1
    assert starts[0].box[0] > 200  # the walker, never the statue at x 40..120


def test_cpu_assist_looks_only_where_the_sensor_saw_nothing_and_steps_down_first(
    tmp_path: Path, fake_picamera2
) -> None:
    """``detector.imx500.cpu_assist``: the CPU model on the regions without a sensor detection
    (a person too small for the sensor's 416 px view of the whole frame); the governor's first
    step down leaves the sensor alone, which no level pauses."""
    from camera.detect.base import CropDetector
    from camera.governor import Governor, GovernorConfig, Sensors
    from camera.governor.sensors import Health

    root = device_tree(tmp_path, imx500=True)
    config = DetectorConfig(device_root=root, imx500={"cpu_assist": True})
    detector = load_detector(config, pi_camera=True)
    rungs = [(m.cost, m.precision) for m in detector.ladder]
    assert rungs == [("cpu", "float32"), ("sensor", "int8")]
    cpu_part = detector.accelerator.assist.variant  # type: ignore[attr-defined]
    assert detector.variant == f"imx500-nanodet_plus_416x416_pp+{cpu_part}"
    detector.accelerator.assist.close()  # type: ignore[attr-defined]  (a real CPU model, swapped)

    class Small(CropDetector):
        variant, precision, input_size = "tiny-cpu", "int8", 416

        def __init__(self) -> None:
            self.asked: list[list[Region]] = []

        def detect(self, image, regions):
            self.asked.append(list(regions))
            return [Detection("person", "person", 0.6, Box(610, 110, 620, 140))]

        def close(self) -> None:
            pass

    small = Small()
    detector.accelerator.assist = small  # type: ignore[attr-defined]
    near, far = Region(Box(0, 0, 400, 400)), Region(Box(500, 0, 900, 400))
    seen = Detection("person", "person", 0.9, Box(100, 100, 200, 380))
    frame = Frame(np.zeros((720, 1280, 3), np.uint8), 0.0, 1, inferred=(seen,))
    found = detector.detect_frame(frame, [near, far])
    assert small.asked == [[far]]  # only where the sensor found nothing
    assert sorted(d.box.x1 for d in found) == [100, 610]

    class Hot:
        source, health = "fake", Health("fake temperature")

        def read(self) -> float:
            return 80.0

    governor = Governor(GovernorConfig(), Sensors(Hot(), None, None), models=detector.ladder)
    policy = governor.poll(0.0)
    assert (policy.level, policy.detect, policy.variant) == (
        "heat-hot",
        True,
        detector.ladder[1].name,
    )
    detector.set_variant(policy.variant)  # type: ignore[arg-type]
    assert detector.detect_frame(frame, [near, far]) == [seen] and len(small.asked) == 1
    assert detector.capabilities.cost == "sensor"


def sensor_on_camera(tmp_path: Path, fake_picamera2: Any) -> tuple[Any, Any, Any]:
    """The AI Camera backend loaded as ``ronda run`` would, its network, and a fake camera
    configured at 640x360 for it."""
    detector = load_detector(
        DetectorConfig(device_root=device_tree(tmp_path, imx500=True)), pi_camera=True
    )
    network = detector.network  # type: ignore[attr-defined]
    camera = fake_picamera2.Picamera2(network.camera_num)
    camera.configure(camera.create_video_configuration(main={"size": (640, 360)}))
    return detector, network, camera


def test_an_output_this_picamera2_cannot_read_is_an_empty_frame_not_a_camera_failure(
    tmp_path: Path, fake_picamera2, caplog
) -> None:
    _detector, network, camera = sensor_on_camera(tmp_path, fake_picamera2)
    broken = {"CnnOutputTensor": np.ones(10, np.float32), "CnnOutputTensorInfo": b"\\x00" * 12}
    assert network.detections(broken, camera) == network.detections(broken, camera) == ()
    said = [r for r in caplog.records if "cannot read the network's output" in r.getMessage()]
    assert len(said) == 1


def test_frames_without_the_networks_output_for_30_s_hand_over_to_the_cpu(
    tmp_path: Path, fake_picamera2, monkeypatch
) -> None:
    from camera.detect import imx500

    detector, network, camera = sensor_on_camera(tmp_path, fake_picamera2)
    frame = Frame(
        np.zeros((360, 640, 3), np.uint8), 0.0, 1, inferred=network.detections({}, camera)
    )
    region = [Region(Box(0, 0, 360, 360))]
    assert detector.detect_frame(frame, region) == [] and detector.capabilities.kind == "imx500"
    clock = imx500.time.monotonic() + 31.0
    monkeypatch.setattr(imx500.time, "monotonic", lambda: clock)
    detector.detect_frame(frame, region)  # the sensor went quiet: the CPU model runs this frame
    assert detector.capabilities.kind == "cpu" and detector.network is None  # type: ignore[attr-defined]
    assert "no network output for 31 s" in (choice_of(detector).fallback or "")  # type: ignore[union-attr]
    detector.close()
