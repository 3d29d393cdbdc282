"""The AI Camera backend: Ronda's detector running on the Sony IMX500 sensor itself.

Everything goes through picamera2's own ``picamera2.devices.IMX500`` class, imported when the
backend is chosen (never on a machine without the camera):

- ``IMX500(network.rpk)`` hands the network firmware to the sensor's driver; it must exist
  before the camera is opened, by the sensor's ``camera_num`` (the picamera2 source does that:
  ``Picamera2Source.attach_network``);
- the firmware uploads when the camera starts, minutes the first time (the camera caches it):
  the source waits for the first frame up to ``detector.imx500.first_frame_timeout_s`` and
  the network reports progress with ``get_fw_upload_progress`` where the kernel's debugfs is
  readable (not for the service's user: then the log says it waits, with the time so far);
- every frame's metadata carries the output tensors; ``get_outputs(metadata, add_batch=True)``
  returns them in the post-processed detection layout: boxes ``[1, N, 4]`` (y0, x0, y1, x1 in
  0..1 of the input tensor, or the order and scale the network's ``network_intrinsics`` say),
  scores ``[1, N]``, classes ``[1, N]`` and the count ``[1, 1]``;
- ``convert_inference_coords`` maps each box through the sensor's crop and the ISP's scaling to
  main-stream pixels, the frame the pipeline works on.

The detections ride on the frame (``Frame.inferred``) and the detector only keeps those inside
the pipeline's regions (``camera.detect.base.within_regions``): the sensor sees every frame
for free, but motion still decides where an event may start, and the tracker sees what a CPU
backend would have shown it.  Cat and dog are one ``pet``, with the same merge rules as the CPU
(``camera.detect.merge``).
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from camera.detect.base import Capabilities, Detector, within_regions
from camera.detect.coco import COCO80, COCO91, KEPT, classes_by_ids, classes_by_name
from camera.detect.config import DetectorConfig
from camera.detect.errors import ModelError
from camera.detect.fallback import AcceleratorFailed
from camera.detect.manifest import ClassMapping
from camera.detect.merge import merge_detections
from camera.types import Detection, Frame, ModelVariant, Precision, Region

log = logging.getLogger(__name__)

NETWORK_STAGE = 2
"""``FW_NETWORK_STAGE`` of picamera2's IMX500 module: the network firmware's upload."""
MAX_STALE_S = 1.0
"""A network slower than the camera leaves some frames without output; its last result stands
for them this long (as rpicam-apps does), then the frame counts as empty."""
COCO91_FAMILIES = ("ssd", "efficientdet")
SILENCE_S = 30.0
"""Frames for this long without the network's output (it normally comes with every frame or
two) mean the sensor stopped detecting: the CPU takes over (``camera.detect.fallback``)."""

"""Networks numbered like TensorFlow's object detection models (91 ids with gaps)."""


def import_imx500() -> ModuleType:
    try:
        return importlib.import_module("picamera2.devices.imx500")
    except ImportError as error:
        raise ModelError(
            f"the AI Camera needs picamera2's IMX500 support ({error}): sudo apt install "
            "python3-picamera2 imx500-all"
        ) from None


class Imx500Network:
    """The sensor's network as the picamera2 source drives it (``camera.sources.base.
    CameraNetwork``): opened before the camera, read at every frame."""

    def __init__(self, config: DetectorConfig, network: Path) -> None:
        module = import_imx500()
        try:
            self._device = module.IMX500(str(network))
        except Exception as error:  # picamera2 raises RuntimeError, StopIteration, jsonschema's
            text = " ".join(str(error).split())[:200] or type(error).__name__
            raise ModelError(f"AI Camera: {network}: {text}") from None
        intrinsics = self._device.network_intrinsics
        task = getattr(intrinsics, "task", None)
        if task not in (None, "object detection"):
            raise ModelError(f"AI Camera: {network.name} is a {task} network, not a detector")
        settings = config.imx500
        self.name = network.stem.removeprefix("imx500_network_")
        self.classes = _classes(settings.labels, intrinsics, self.name)
        order = settings.bbox_order
        self._order = (
            order if order != "auto" else (getattr(intrinsics, "bbox_order", None) or "yx")
        )
        scaled = settings.bbox_normalization
        self._scaled = (
            scaled == "on"
            if scaled != "auto"
            else bool(getattr(intrinsics, "bbox_normalization", None))
        )
        width, height = self._device.get_input_size()
        self.input_width, self.input_height = int(width), int(height)
        self._camera_num = int(self._device.camera_num)
        self._timeout = settings.first_frame_timeout_s
        self._min_score = config.min_score
        self.nms_iou = config.nms_iou
        self._last: tuple[Detection, ...] = ()
        self._last_at = -float("inf")
        self._first_frame_at: float | None = None
        self._bad_layout_said = False
        self._unreadable_said = False
        self.listeners: list[Callable[[str], None]] = []
        """Told each upload report (the service's STATUS line)."""
        self.outputs = 0
        """Frames that carried the network's output (the stats: is the sensor working?)."""

    @property
    def camera_num(self) -> int:
        return self._camera_num

    @property
    def first_frame_timeout_s(self) -> float:
        return self._timeout

    def waiting(self, seconds: float) -> None:
        progress = self._upload_progress()
        if progress is not None:
            done, total = progress
            text = (
                f"AI Camera: uploading the network firmware, {100 * done / total:.0f} % "
                f"({done / 1e6:.1f} of {total / 1e6:.1f} MB), {seconds:.0f} s so far"
            )
        else:
            text = (
                f"AI Camera: no frame yet after {seconds:.0f} s: the network firmware uploads "
                "to the sensor at the first start (minutes; cached on the camera after)"
            )
        log.info("%s", text)
        for listener in self.listeners:
            listener(text)

    def _upload_progress(self) -> tuple[int, int] | None:
        """``(bytes done, total)``, or None where the kernel's debugfs cannot be read."""
        try:
            done, total = self._device.get_fw_upload_progress(NETWORK_STAGE)
        except Exception:  # picamera2 asserts, or its `cat`/`sudo -n` of debugfs fails
            return None
        return (int(done), int(total)) if total else None

    def detections(self, metadata: Mapping[str, Any], camera: Any) -> tuple[Detection, ...]:
        """The network's detections on this frame; a frame whose output cannot be read counts
        as empty (one warning), never as a camera failure: the frames keep coming."""
        now = time.monotonic()
        if self._first_frame_at is None:
            self._first_frame_at = now
        try:
            outputs = self._device.get_outputs(metadata, add_batch=True)
            if outputs is None:
                return self._last if now - self._last_at <= MAX_STALE_S else ()
            found = self._decode(outputs, metadata, camera)
        except Exception as error:  # a picamera2 whose metadata layout this one does not know
            if not self._unreadable_said:
                self._unreadable_said = True
                log.warning(
                    "AI Camera: cannot read the network's output (%s): no detections", error
                )
            return ()
        self.outputs += 1
        self._last, self._last_at = found, now
        return found

    def silence(self) -> float:
        """Seconds of frames without the network's output (0 before the first frame)."""
        if self._first_frame_at is None:
            return 0.0
        return time.monotonic() - max(self._last_at, self._first_frame_at)

    def _decode(
        self, outputs: Sequence[np.ndarray], metadata: Mapping[str, Any], camera: Any
    ) -> tuple[Detection, ...]:
        if len(outputs) < 3:
            if not self._bad_layout_said:
                self._bad_layout_said = True
                log.warning(
                    "AI Camera: %s gives %d output tensors, not boxes, scores and classes: "
                    "only post-processed (_pp) detection networks are supported",
                    self.name,
                    len(outputs),
                )
            return ()
        boxes = np.asarray(outputs[0][0], np.float32).reshape(-1, 4)
        scores = np.asarray(outputs[1][0], np.float32).reshape(-1)
        class_ids = np.asarray(outputs[2][0]).reshape(-1).astype(int)
        count = len(scores)
        if len(outputs) > 3:
            count = min(count, int(np.asarray(outputs[3]).reshape(-1)[0]))
        keep = [
            i
            for i in range(min(count, len(boxes)))
            if scores[i] >= self._min_score and int(class_ids[i]) in self.classes
        ]
        if not keep:
            return ()
        frame_boxes = np.array(
            [self._to_frame(boxes[i], metadata, camera) for i in keep], np.float32
        )
        merged = merge_detections(
            frame_boxes,
            scores[keep],
            class_ids[keep],
            np.zeros(len(keep), int),
            self.classes,
            self.nms_iou,
        )
        return tuple(d for d in merged if d.box.area > 0)

    def _to_frame(self, box: np.ndarray, metadata: Mapping[str, Any], camera: Any) -> list[float]:
        """One box in main-stream pixels ``(x1, y1, x2, y2)``."""
        a, b, c, d = (float(v) for v in box)
        y0, x0, y1, x1 = (b, a, d, c) if self._order == "xy" else (a, b, c, d)
        if self._scaled:
            y0, y1 = y0 / self.input_height, y1 / self.input_height
            x0, x1 = x0 / self.input_width, x1 / self.input_width
        x, y, w, h = self._device.convert_inference_coords((y0, x0, y1, x1), metadata, camera)
        return [float(x), float(y), float(x + w), float(y + h)]

    def close(self) -> None:
        self._device = None


def _classes(choice: str, intrinsics: Any, name: str) -> dict[int, ClassMapping]:
    labels = getattr(intrinsics, "labels", None)
    if choice == "auto" and labels:
        if getattr(intrinsics, "ignore_dash_labels", None):
            labels = [label for label in labels if label and label != "-"]
        found = classes_by_name(labels)
        if not found:
            raise ModelError(f"AI Camera: network {name} knows no person, cat or dog")
        return found
    if choice == "auto":
        choice = "coco91" if name.startswith(COCO91_FAMILIES) else "coco80"
    return classes_by_ids(COCO91 if choice == "coco91" else COCO80)


class Imx500Detector:
    """The detector the pipeline sees: the sensor's detections of each frame, inside the
    regions (see the module docstring).  With ``assist`` (``detector.imx500.cpu_assist``) the
    ladder has two rungs: the sensor plus a CPU model on the regions where the sensor found
    nothing, then the sensor alone, which the governor never pauses."""

    def __init__(self, network: Imx500Network, assist: Detector | None = None) -> None:
        self.network = network
        self.assist = assist
        self._sensor = f"imx500-{network.name}"
        self._assisted = f"{self._sensor}+{assist.variant}" if assist is not None else None
        self._variant = self._assisted or self._sensor
        self._no_network_said = False

    @property
    def assisting(self) -> bool:
        return self.assist is not None and self._variant == self._assisted

    @property
    def capabilities(self) -> Capabilities:
        helped = ", and the CPU on the motion it saw nothing in" if self.assisting else ""
        return Capabilities(
            kind="imx500",
            device=f"AI Camera (IMX500), {self.network.name}{helped}",
            scope="frame",
            input_size=self.input_size,
            labels=tuple(sorted({c.subclass for c in self.network.classes.values()})),
            cost="cpu" if self.assisting else "sensor",
        )

    @property
    def precision(self) -> Precision:
        return "int8"  # the IMX500 runs quantized networks only

    @property
    def input_size(self) -> int:
        return max(self.network.input_width, self.network.input_height)

    @property
    def backend(self) -> str:
        return "picamera2 IMX500"

    @property
    def variant(self) -> str:
        return self._variant

    @property
    def ladder(self) -> tuple[ModelVariant, ...]:
        sensor = ModelVariant(self._sensor, "int8", self.input_size, cost="sensor")
        if self.assist is None or self._assisted is None:
            return (sensor,)
        helped = ModelVariant(self._assisted, self.assist.precision, self.input_size, cost="cpu")
        return (helped, sensor)

    def detect_frame(self, frame: Frame, regions: Sequence[Region]) -> list[Detection]:
        if frame.inferred is None:
            if not self._no_network_said:
                self._no_network_said = True
                log.warning(
                    "frames carry no AI Camera output (the source is not the AI Camera): "
                    "nothing is detected"
                )
            return []
        silence = self.network.silence()
        if silence > SILENCE_S:
            raise AcceleratorFailed(f"no network output for {silence:.0f} s of frames")
        seen = within_regions(frame.inferred, regions)
        if not self.assisting or self.assist is None:
            return seen
        blind = [r for r in regions if not within_regions(seen, [r])]
        if not blind:
            return seen
        return _merged(seen, self.assist.detect_frame(frame, blind), self.network.nms_iou)

    def set_variant(self, name: str) -> None:
        if name in (self._sensor, self._assisted):
            if name != self._variant:
                log.info("detector %s -> %s", self._variant, name)
            self._variant = name
            return
        log.warning("model variant %s is not on the AI Camera; staying on %s", name, self._variant)

    def close(self) -> None:
        self.network.close()
        if self.assist is not None:
            self.assist.close()


def _merged(sensor: list[Detection], cpu: list[Detection], nms_iou: float) -> list[Detection]:
    """The sensor's and the CPU's detections as one set: an object both saw (the CPU's crop
    cut it, the sensor saw it whole) is one, by the CPU's merge rules across regions."""
    found = sensor + cpu
    ids = {name: index for index, name in enumerate(sorted(KEPT))}
    return merge_detections(
        np.array([[d.box.x1, d.box.y1, d.box.x2, d.box.y2] for d in found], np.float32),
        np.array([d.score for d in found], np.float32),
        np.array([ids[d.subclass] for d in found]),
        np.array([0] * len(sensor) + [1] * len(cpu)),
        {index: KEPT[name] for name, index in ids.items()},
        nms_iou,
    )
