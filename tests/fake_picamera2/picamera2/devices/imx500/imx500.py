"""A stand-in for ``picamera2.devices.imx500.IMX500``: the calls Ronda makes, done the way
picamera2 does them (written from its documented behaviour, read in raspberrypi/picamera2):

- the constructor needs the sensor (``RuntimeError('IMX500: Requested camera dev-node not
  found')`` without one) and the network file (``RuntimeError('Firmware file … does not
  exist.')``), and reads the network's intrinsics;
- ``get_outputs(metadata, add_batch)`` reads ``CnnOutputTensor`` (floats) and
  ``CnnOutputTensorInfo`` (libcamera's ``CnnOutputTensorInfoExported`` struct: network name,
  tensor count, per tensor its element count, dimension count and sizes, then a frame count),
  and cuts the floats into tensors of those shapes, column-major (``order='F'``) as picamera2
  does; None when the frame carries no output;
- ``convert_inference_coords((y0, x0, y1, x1), metadata, picam2)`` maps 0..1 input-tensor
  coordinates through the full sensor (4056x3040), the frame's ``ScalerCrop`` (full-sensor
  pixels), the raw stream's size and the main stream's size, with libcamera's integer
  rectangle arithmetic, to ``(x, y, width, height)`` in main-stream pixels;
- ``get_fw_upload_progress(stage)`` answers ``(done, total)`` where debugfs is readable, and
  fails (picamera2 asserts) where it is not, as for a service's user.

``SENSOR`` scripts what the fake camera is; ``tensors`` writes the metadata a sensor would.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass, field

import numpy as np

from picamera2.devices._state import renew
from picamera2.devices.imx500.tensors import CnnOutputTensorInfoExported

FULL_SENSOR = (4056, 3040)


@dataclass
class Sensor:
    present: bool = True
    camera_num: int = 1
    """Not 0: a Pi 5 with the AI Camera on its second connector (Ronda must ask for it)."""
    input_size: tuple[int, int] = (416, 416)
    intrinsics: dict | None = field(
        default_factory=lambda: {"task": "object detection", "inference_rate": 30.0}
    )
    progress: list[tuple[int, int]] | None = None
    """Successive ``get_fw_upload_progress`` answers (the last repeats); None: unreadable."""
    opened: list[str] = field(default_factory=list)
    """Network files handed to the sensor, in order."""


SENSOR = Sensor()


def reset(**values: object) -> Sensor:
    """``SENSOR`` as new, with ``values`` (in place: every importer sees the same object)."""
    return renew(SENSOR, **values)


class NetworkIntrinsics:
    """The read side of picamera2's ``NetworkIntrinsics`` (a validated JSON object)."""

    def __init__(self, value: dict | None = None) -> None:
        self._value = dict(value or {})

    def _cpu(self, key: str):
        return self._value.get("cpu", {}).get(key)

    @property
    def task(self):
        return self._value.get("task")

    @property
    def inference_rate(self):
        return self._value.get("inference_rate")

    @property
    def bbox_normalization(self):
        return self._cpu("bbox_normalization")

    @property
    def bbox_order(self):
        return self._cpu("bbox_order")

    @property
    def labels(self):
        return self._value.get("classes", {}).get("labels")

    @property
    def ignore_dash_labels(self):
        return self._value.get("classes", {}).get("ignore_undefined")


@dataclass(frozen=True)
class _Rect:
    """libcamera's ``Rectangle``, integer arithmetic as in its C++."""

    x: int
    y: int
    width: int
    height: int

    def scaled_by(self, numerator: tuple[int, int], denominator: tuple[int, int]) -> _Rect:
        (nw, nh), (dw, dh) = numerator, denominator
        return _Rect(
            _truncated(self.x * nw, dw),
            _truncated(self.y * nh, dh),
            self.width * nw // dw,
            self.height * nh // dh,
        )

    def bounded_to(self, bound: _Rect) -> _Rect:
        x, y = max(self.x, bound.x), max(self.y, bound.y)
        right = min(self.x + self.width, bound.x + bound.width)
        bottom = min(self.y + self.height, bound.y + bound.height)
        return _Rect(x, y, max(right - x, 0), max(bottom - y, 0))

    def translated_by(self, dx: int, dy: int) -> _Rect:
        return _Rect(self.x + dx, self.y + dy, self.width, self.height)


def _truncated(numerator: int, denominator: int) -> int:
    """C++ integer division (towards zero)."""
    quotient = abs(numerator) // denominator
    return quotient if numerator >= 0 else -quotient


class IMX500:
    def __init__(self, network_file: str, camera_id: str = "") -> None:
        if not SENSOR.present:
            raise RuntimeError("IMX500: Requested camera dev-node not found")
        if not os.path.isfile(network_file):
            raise RuntimeError(f"Firmware file {network_file} does not exist.")
        SENSOR.opened.append(network_file)
        self.network_file = network_file
        intrinsics = SENSOR.intrinsics
        self._intrinsics = NetworkIntrinsics(intrinsics) if intrinsics is not None else None
        self._progress = list(SENSOR.progress) if SENSOR.progress is not None else None

    @property
    def camera_num(self) -> int:
        return SENSOR.camera_num

    @property
    def network_intrinsics(self) -> NetworkIntrinsics | None:
        return self._intrinsics

    def get_input_size(self) -> tuple[int, int]:
        return SENSOR.input_size

    def get_fw_upload_progress(self, stage_req: int) -> tuple[int, int]:
        assert self._progress is not None, "fw_progress is NONE"
        assert stage_req == 2, "Ronda reports the network stage"
        return self._progress.pop(0) if len(self._progress) > 1 else self._progress[0]

    def get_output_shapes(self, metadata: dict) -> list[list[int]]:
        raw = metadata.get("CnnOutputTensorInfo")
        if not raw:
            return []
        raw = bytes(raw)
        size = ctypes.sizeof(CnnOutputTensorInfoExported)
        if len(raw) != size:
            raise ValueError(f"tensor info length {len(raw)} does not match expected size {size}")
        parsed = CnnOutputTensorInfoExported.from_buffer_copy(raw)
        return [
            list(parsed.info[i].size)[: parsed.info[i].num_dimensions]
            for i in range(parsed.num_tensors)
        ]

    def get_outputs(self, metadata: dict, add_batch: bool = False) -> list[np.ndarray] | None:
        tensor = metadata.get("CnnOutputTensor")
        if tensor is None or len(tensor) == 0:
            return None
        flat = np.fromiter(tensor, dtype=np.float32)
        outputs, offset = [], 0
        for shape in self.get_output_shapes(metadata):
            count = int(np.prod(shape))
            part = flat[offset : offset + count].reshape(shape, order="F")
            outputs.append(np.expand_dims(part, 0) if add_batch else part)
            offset += count
        return outputs

    def convert_inference_coords(self, coords, metadata: dict, picam2, stream: str = "main"):
        configuration = picam2.camera_configuration()
        isp_output = tuple(configuration[stream]["size"])
        sensor_output = tuple(configuration["raw"]["size"])
        scaler_crop = _Rect(*metadata["ScalerCrop"])
        y0, x0, y1, x1 = coords
        width, height = FULL_SENSOR
        values = np.maximum(
            np.array([x0 * width, y0 * height, (x1 - x0) * width, (y1 - y0) * height]), 0
        ).astype(np.int32)
        obj = _Rect(*(int(v) for v in values))
        sensor_crop = scaler_crop.scaled_by(sensor_output, FULL_SENSOR)
        obj_sensor = obj.scaled_by(sensor_output, FULL_SENSOR)
        obj_bound = obj_sensor.bounded_to(sensor_crop)
        obj_translated = obj_bound.translated_by(-sensor_crop.x, -sensor_crop.y)
        out = obj_translated.scaled_by(isp_output, (sensor_crop.width, sensor_crop.height))
        return (out.x, out.y, out.width, out.height)
