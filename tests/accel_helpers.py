"""What the accelerator tests share: a device tree with an AI Camera or a Hailo in it, the
AI Camera seen through a recording, and CPU detections turned into a sensor's output.

A whole-frame network's output is only ever read from the metadata the camera hands over, so
the tests record what the CPU backend found on each frame of a clip and give it back to the
fake ``IMX500`` in the documented tensor layout (``picamera2.devices.imx500.tensors``), mapped
into the sensor's coordinates: the exact inverse of ``convert_inference_coords`` for the
camera's ``ScalerCrop`` and stream sizes.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from camera.pipeline import FrameOutcome
from camera.sources import open_replay
from camera.types import Detection, Frame

NETWORK = "usr/share/imx500-models/imx500_network_nanodet_plus_416x416_pp.rpk"
FIRMWARE = ("lib/firmware/imx500_loader.fpk", "lib/firmware/imx500_firmware.fpk")
HEF = "usr/share/hailo-models/yolov8s_h8l.hef"
FULL_SENSOR = (4056, 3040)
COCO80_IDS = {"person": 0, "cat": 15, "dog": 16}


def device_tree(root: Path, *, imx500: bool = False, hailo: bool = False) -> Path:
    """A ``detector.device_root`` with the AI Camera (a V4L2 sub-device driven by the imx500
    module, its firmware and network files) and/or a Hailo (``/dev/hailo0``, a ``.hef``)."""
    if imx500:
        device = root / "sys/class/video4linux/v4l-subdev2/device"
        (device / "driver").mkdir(parents=True)
        module = root / "sys/module/imx500"
        module.mkdir(parents=True)
        os.symlink(module, device / "driver" / "module")
        for name in (NETWORK, *FIRMWARE):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(b"\x00firmware")
    if hailo:
        (root / "dev").mkdir(parents=True, exist_ok=True)
        (root / "dev/hailo0").write_bytes(b"")
        (root / HEF).parent.mkdir(parents=True, exist_ok=True)
        (root / HEF).write_bytes(b"HEF")
    return root


@dataclass
class DetectionRecorder:
    """A frame hook keeping what the tracker was given on each frame (by frame index)."""

    by_index: dict[int, tuple[Detection, ...]] = field(default_factory=dict)

    def __call__(self, outcome: FrameOutcome) -> None:
        if outcome.detector_ran:
            self.by_index[outcome.frame.index] = tuple(outcome.detections)


def to_sensor(
    detection: Detection, camera: Any, scaler_crop: tuple[int, int, int, int]
) -> list[float]:
    """A frame box as the network reports it: (y0, x0, y1, x1) in 0..1 of the full sensor."""
    configuration = camera.camera_configuration()
    main_w, main_h = configuration["main"]["size"]
    raw_w, raw_h = configuration["raw"]["size"]
    crop_x, crop_y, crop_w, crop_h = (v * raw_w // FULL_SENSOR[0] for v in scaler_crop)
    box = detection.box

    def sensor_x(x: float) -> float:  # + half a pixel: the forward mapping truncates
        return ((x + 0.5) * crop_w / main_w + crop_x) * FULL_SENSOR[0] / raw_w / FULL_SENSOR[0]

    def sensor_y(y: float) -> float:
        return ((y + 0.5) * crop_h / main_h + crop_y) * FULL_SENSOR[1] / raw_h / FULL_SENSOR[1]

    return [sensor_y(box.y1), sensor_x(box.x1), sensor_y(box.y2), sensor_x(box.x2)]


class SensorReplay:
    """The AI Camera seen through a recording: a clip's frames on its own timeline (so a run is
    as deterministic as a replay), each with the metadata the camera would hand over and, once
    the detector attached its network, what the network read from it (``Frame.inferred``), as
    ``Picamera2Source`` does.  ``recorded`` gives the network's detections per frame index."""

    name = "picamera2"
    live = False

    def __init__(
        self,
        fake: ModuleType,
        clip: Path,
        frames: int,
        recorded: dict[int, tuple[Detection, ...]] | None = None,
    ) -> None:
        self.fake = fake
        self.clip = clip
        self.count = frames
        self.recorded = recorded
        self.network: Any = None
        self._replay = open_replay(clip)

    def attach_network(self, network: Any) -> None:
        self.network = network

    def frames(self) -> Iterator[Frame]:
        from picamera2.devices.imx500.tensors import detection_metadata

        camera = None
        for frame in itertools.islice(self._replay.frames(), self.count):
            if self.network is None:
                yield frame
                continue
            if camera is None:
                camera = self.fake.Picamera2(self.network.camera_num)
                height, width = frame.image.shape[:2]
                camera.configure(camera.create_video_configuration(main={"size": (width, height)}))
            crop = camera.scaler_crop()
            found = (self.recorded or {}).get(frame.index, ())
            metadata = {"ScalerCrop": crop}
            metadata.update(
                detection_metadata(
                    [to_sensor(d, camera, crop) for d in found],
                    [d.score for d in found],
                    [COCO80_IDS[d.subclass] for d in found],
                )
            )
            yield replace(frame, inferred=self.network.detections(metadata, camera))

    def set_fps(self, fps: float | None) -> None:
        pass

    def close(self) -> None:
        self._replay.close()
