"""The Hailo backend against a fake ``picamera2.devices.Hailo`` answering in HailoRT's NMS-by-class
layout, and the one-line CPU fallback of every accelerator.

End to end, the fake accelerator answers each crop with what the CPU model finds on that very
input (turned into the documented layout), so the replay's alert is the real pipeline's,
tracker's and broker's, with the Hailo backend's own crop preparation and decoding between.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from camera.app import RunOptions, Runtime
from camera.config import parse_config
from camera.detect import DetectorConfig, load_detector
from camera.detect.base import choice_of
from camera.detect.devices import probe_hailo
from camera.detect.tflite import TFLiteDetector
from camera.types import Box, Detection, Frame, Region
from tests.accel_helpers import COCO80_IDS, HEF, SensorReplay, device_tree
from tests.broker import Mosquitto, Subscriber, wait_until
from tests.conftest import footage

CLIP = footage("clips/intel_one-by-one-person-detection.mp4")


def nms_output(found: list[Detection], size: int) -> list[np.ndarray]:
    """Detections in a ``size`` square input as HailoRT's NMS by class: per COCO class a
    ``[k, 5]`` array of y0, x0, y1, x1 (0..1) and score."""
    rows: list[list[list[float]]] = [[] for _ in range(80)]
    for d in found:
        b = d.box
        rows[COCO80_IDS[d.subclass]].append(
            [b.y1 / size, b.x1 / size, b.y2 / size, b.x2 / size, d.score]
        )
    return [np.array(r, np.float32).reshape(-1, 5) for r in rows]


def test_probe_needs_the_device_a_network_and_hailort(
    tmp_path: Path, fake_picamera2, monkeypatch
) -> None:
    root = tmp_path / "root"
    assert "/dev/hailo0 absent" in probe_hailo(DetectorConfig(device_root=root)).detail
    device_tree(root, hailo=True)
    found = probe_hailo(DetectorConfig(device_root=root))
    assert found.usable and found.model == root / HEF
    monkeypatch.setitem(sys.modules, "hailo_platform", None)  # HailoRT not installed
    missing = probe_hailo(DetectorConfig(device_root=root))
    assert not missing.usable and "apt install hailo-all" in missing.detail


def test_a_pi_without_accelerators_imports_none_of_their_code(tmp_path: Path) -> None:
    """``auto`` on a Pi camera with picamera2 installed (the fake) and neither device: the CPU
    detector loads, and no accelerator module (Ronda's or picamera2's) was imported."""
    fakes = Path(__file__).resolve().parent / "fake_picamera2"
    code = (
        "import sys\n"
        "from camera.detect import DetectorConfig, load_detector\n"
        f"config = DetectorConfig(device_root={str(tmp_path)!r})\n"
        "detector = load_detector(config, rungs=1, pi_camera=True)\n"
        "print(detector.capabilities.kind)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('camera.detect.imx500', "
        "'camera.detect.hailo', 'picamera2', 'hailo_platform'))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(fakes)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["cpu", "[]"], result.stdout


def test_crops_go_in_as_rgb_and_boxes_come_back_in_frame_pixels(
    tmp_path: Path, fake_picamera2
) -> None:
    from picamera2.devices.hailo import ACCELERATOR

    root = device_tree(tmp_path, hailo=True)
    # The network sees a person filling the middle of its 640 input, and a car (class 2).
    person = Detection("person", "person", 0.9, Box(160, 80, 480, 560))
    answer = nms_output([person], 640)
    answer[2] = np.array([[0.1, 0.1, 0.2, 0.2, 0.95]], np.float32)
    ACCELERATOR.respond = lambda image: answer
    detector = load_detector(DetectorConfig(device_root=str(root)))
    assert choice_of(detector).kind == "hailo"  # type: ignore[union-attr]
    assert detector.capabilities.scope == "crops" and detector.input_size == 640
    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[..., 0] = 255  # blue, in OpenCV's BGR order
    found = detector.detect_frame(Frame(frame, 0.0, 1), [Region(Box(600, 200, 920, 520))])
    fed = ACCELERATOR.inputs[-1]
    assert fed.shape == (640, 640, 3) and fed[320, 320, 2] == 255 and fed[320, 320, 0] == 0  # RGB
    assert [(d.label, d.score) for d in found] == [("person", pytest.approx(0.9))]
    # The crop (320 px) went in at twice its size: half the network's box, shifted to the crop.
    assert found[0].box.as_list() == [680, 240, 840, 480]
    # A wide crop is letterboxed centred on grey 114, as the YOLO networks were trained.
    detector.detect_frame(Frame(frame, 0.0, 2), [Region(Box(600, 200, 920, 360))])
    fed = ACCELERATOR.inputs[-1]
    assert (fed[0, 0] == 114).all() and fed[320, 320, 2] == 255
    detector.close()
    assert ACCELERATOR.closed == 1


@pytest.mark.parametrize("kind", ["hailo", "imx500"])
def test_an_accelerator_that_fails_falls_back_to_the_cpu_in_one_line(
    kind: str, tmp_path: Path, fake_picamera2, caplog
) -> None:
    from picamera2.devices.hailo import ACCELERATOR
    from picamera2.devices.imx500 import SENSOR

    ACCELERATOR.present = SENSOR.present = False  # found by the probe, but it will not open
    root = device_tree(tmp_path, hailo=True, imx500=True)
    detector = load_detector(DetectorConfig(backend=kind, device_root=str(root)), pi_camera=True)
    assert isinstance(detector, TFLiteDetector)
    choice = choice_of(detector)
    assert choice is not None and choice.kind == "cpu" and choice.fallback
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].endswith("detecting on the CPU instead")
    assert ("Hailo" if kind == "hailo" else "AI Camera") in warnings[0]
    detector.close()


def test_hailo_replay_alerts_through_the_broker(
    tmp_path: Path, fake_picamera2, broker: Mosquitto, subscriber: Subscriber
) -> None:
    from picamera2.devices.hailo import ACCELERATOR

    cpu = load_detector(DetectorConfig(backend="cpu"), rungs=1)  # the normal variant
    whole = [Region(Box(0, 0, 640, 640))]
    ACCELERATOR.respond = lambda rgb: nms_output(
        cpu.detect(np.ascontiguousarray(rgb[:, :, ::-1]), whole),
        640,  # type: ignore[attr-defined]
    )
    root = device_tree(tmp_path / "root", hailo=True)
    config = parse_config(
        {
            "camera": {"name": "hailo"},
            "store": {"path": str(tmp_path / "state")},
            "mqtt": {"host": broker.host, "port": broker.port, "stats_interval_s": 1},
            "governor": {"enabled": False},
            "clips": {"enabled": False},
            "detector": {"backend": "hailo", "device_root": str(root)},
        }
    )
    runtime = Runtime(config, RunOptions())
    try:
        runtime.run_source(SensorReplay(fake_picamera2, CLIP, 130), threading.Event())
        runtime.drain()
    finally:
        runtime.close()
        cpu.close()
    assert ACCELERATOR.inputs, "the accelerator ran"
    assert wait_until(lambda: any(e["type"] == "start" for e in subscriber.events()), 10)
    assert subscriber.events()[0]["label"] == "person"


def test_a_hailo_failing_while_running_hands_over_to_the_cpu_and_alerting_goes_on(
    tmp_path: Path, fake_picamera2, broker: Mosquitto, subscriber: Subscriber, caplog
) -> None:
    """The accelerator answers the first crops, then HailoRT raises (a PCIe error): one
    warning line, the CPU model takes over, the person still alerts, the stats say why."""
    from picamera2.devices.hailo import ACCELERATOR

    def dies(rgb: np.ndarray) -> list[np.ndarray]:
        if len(ACCELERATOR.inputs) > 3:
            raise RuntimeError("HAILO_PCIE_DRIVER_FAIL(69): the device stopped answering")
        return nms_output([], 640)

    ACCELERATOR.respond = dies
    root = device_tree(tmp_path / "root", hailo=True)
    config = parse_config(
        {
            "camera": {"name": "hailo"},
            "store": {"path": str(tmp_path / "state")},
            "mqtt": {"host": broker.host, "port": broker.port},
            "clips": {"enabled": False},
            "detector": {"device_root": str(root)},
        }
    )
    runtime = Runtime(config, RunOptions())
    try:
        assert runtime.detector.capabilities.kind == "hailo"
        runtime.run_source(SensorReplay(fake_picamera2, CLIP, 130), threading.Event())
        runtime.drain()
        governed = runtime.governor.models if runtime.governor else ()
        report = runtime.stats_payload()["detector"]
    finally:
        runtime.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert [w for w in warnings if "failed while running" in w] == [
        "Hailo, yolov8s_h8l.hef failed while running: HAILO_PCIE_DRIVER_FAIL(69): the device "
        "stopped answering; detecting on the CPU until the service restarts"
    ]
    assert wait_until(lambda: any(e["type"] == "start" for e in subscriber.events()), 10)
    assert report["kind"] == "cpu" and "failed while running" in (report["fallback"] or "")
    assert governed and all(m.cost == "cpu" for m in governed)  # the governor has the CPU's ladder


def test_doctor_and_models_say_which_backend_runs_with_and_without_each_device(
    tmp_path: Path, fake_picamera2
) -> None:
    from camera.detect.report import backend_check, models_lines

    bare = DetectorConfig(device_root=tmp_path / "none")
    status, detail, _, more = backend_check(bare, pi_camera=True)
    assert (status, detail) == ("ok", "the CPU (detector.backend auto; see the runtime line)")
    assert more == (
        "AI Camera: no AI Camera (no V4L2 sub-device driven by imx500)",
        "Hailo: no Hailo accelerator (/dev/hailo0 absent)",
    )
    status, detail, fix, _ = backend_check(bare.model_copy(update={"backend": "imx500"}), True)
    assert status == "warn" and detail.endswith("ronda run detects on the CPU") and fix
    sensor = DetectorConfig(device_root=device_tree(tmp_path / "sensor", imx500=True))
    status, detail, _, _ = backend_check(sensor, pi_camera=True)
    assert status == "ok" and detail.startswith("AI Camera at v4l-subdev2, network imx500_")
    assert "runs on the sensor" in detail
    assert models_lines(sensor, pi_camera=True)[0] == "detector.backend auto: runs on AI Camera"
    # A replay's source is no AI Camera: the CPU runs, and says why.
    assert models_lines(sensor, pi_camera=False)[0].endswith("runs on the CPU (the variants below)")
    hailo = DetectorConfig(device_root=device_tree(tmp_path / "hailo", hailo=True))
    status, detail, _, _ = backend_check(hailo, pi_camera=True)
    assert status == "ok" and "yolov8s_h8l.hef: one 640 px inference in" in detail
