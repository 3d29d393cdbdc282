"""Configuration of the detector stage (the ``detector:`` section of the config file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from camera.section import Section

IMX500_MODELS = Path("/usr/share/imx500-models")
HAILO_MODELS = Path("/usr/share/hailo-models")


class Imx500Config(Section):
    """The Raspberry Pi AI Camera (Sony IMX500): a detector network that runs on the sensor.

    The network file comes with Raspberry Pi OS's ``imx500-models`` package (``sudo apt install
    imx500-all``).  Only networks with their post-processing on the sensor (``_pp`` in the
    name) are supported: their outputs are boxes, scores and classes, which cost the Pi nothing
    to read, where the others leave the decoding to the CPU."""

    network: Path = IMX500_MODELS / "imx500_network_nanodet_plus_416x416_pp.rpk"
    """The ``.rpk`` network.  NanoDet-Plus 416 (COCO mAP 0.32 in the package's table) by
    default, the family Ronda runs on the CPU; ``imx500_network_ssd_mobilenetv2_fpnlite_320x320_pp
    .rpk`` (0.22) is the one Raspberry Pi's demos start with."""
    labels: Literal["auto", "coco80", "coco91"] = "auto"
    """How the network numbers its classes: ``auto`` takes the labels the network carries
    (its ``network_intrinsics``), else COCO's 80 classes for NanoDet and YOLO networks and
    the 91 ids with gaps (``-``) for SSD and EfficientDet ones, as Raspberry Pi's demos do."""
    bbox_order: Literal["auto", "yx", "xy"] = "auto"
    """Box coordinate order: ``auto`` is the network's intrinsics, else ``yx`` (y0, x0, y1, x1)."""
    bbox_normalization: Literal["auto", "on", "off"] = "auto"
    """``on``: the network's boxes are in input-tensor pixels (YOLO ``_pp`` networks) and are
    divided by its input size; ``auto`` is the network's intrinsics, else off (0..1 already)."""
    cpu_assist: bool = False
    """Also run the CPU model (``detector.variant``) on the motion regions where the sensor
    found nothing.  The sensor's network sees the whole frame at its input size (416 px for
    NanoDet-Plus), where a person across a garden is a few pixels tall; a motion crop shows
    them at full detail.  It costs CPU only while something moves that the sensor does not
    recognise; the governor's first step down (``warm``, battery ``low``) turns it off, and the
    sensor alone is never paused."""
    first_frame_timeout_s: float = Field(default=900.0, gt=0, le=7200)
    """How long the first frame may take while the network firmware uploads to the sensor
    (minutes the first time over I2C; the camera caches it after).  Stalls after that first
    frame are ``source.stall_timeout_s`` as with any camera."""


class HailoConfig(Section):
    """A Hailo-8 / Hailo-8L accelerator (the AI HAT+ or AI Kit on a Pi 5) through picamera2's
    ``Hailo`` wrapper (HailoRT from ``sudo apt install hailo-all``)."""

    hef: Path | None = None
    """The compiled ``.hef`` network, with HailoRT's NMS on the chip; ``null``: the first of
    ``yolov8s_h8l.hef``, ``yolov8s.hef``, ``yolov6n_h8l.hef``, ``yolov6n.hef`` found in
    /usr/share/hailo-models (the ``hailo-models`` package)."""


class DetectorConfig(Section):
    """Which models to load and how candidates are filtered.

    ``min_score`` is only the candidate floor handed to the tracker; the per-label alert
    thresholds live in the tracker, which sees a detection over several frames.
    """

    backend: Literal["auto", "cpu", "imx500", "hailo"] = "auto"
    """Where detection runs: ``auto`` is the AI Camera's sensor when the camera is one (and its
    network file is installed), else a Hailo accelerator when ``/dev/hailo0`` and a ``.hef``
    are there, else the CPU.  ``imx500``/``hailo`` ask for one; either way an accelerator that
    is missing or fails falls back to the CPU with one warning line, and the camera keeps
    alerting."""
    imx500: Imx500Config = Imx500Config()
    hailo: HailoConfig = HailoConfig()
    device_root: Path = Path("/")
    """Where ``sys/`` and ``dev/`` are looked up to find accelerators (tests use a fake tree)."""
    manifest: Path | None = None
    """The models manifest of the CPU backend; ``null``: the bundled ``models/manifest.json``."""
    variant: str = Field(default="auto", min_length=1, max_length=64)
    """``auto``: time every variant on this device at the first start (cached) and run the most
    accurate one whose latency fits ``budget_ms`` (int8 ones only, where the manifest has any,
    on a board or under a ``MemoryMax=`` with less than 1 GB of memory); or the name of a
    manifest variant (``ronda models`` lists them, e.g. ``picodet-s416-float32``) to run that
    one.  Either way the governor may step down to cheaper variants when hot, on battery or
    overloaded."""
    budget_ms: float = Field(default=300.0, gt=0, le=60_000, allow_inf_nan=False)
    """With ``variant: auto``, the most one inference (one crop, ``threads`` threads) may take.
    Accuracy first: a larger input sees smaller, farther people (NanoDet-g at 320 px found 21-33
    points fewer person frames on the footage than at 416; PP-PicoDet-S loses less, see the
    Models page), while a slower model only costs frame rate, which the load level lowers evenly
    while someone moves in view.  300 ms keeps float32 416 on a Pi 4 with 2 threads (an
    estimated 182 ms, see the Models page) and leaves the 320 px model to boards where 416 does
    not fit (a Zero 2 W)."""
    threads: int = Field(default=2, ge=1, le=8)
    """CPU threads per inference (Pi 4/5: 2-4; Zero 2 W: 2); the timing at start uses as many."""
    min_score: float = Field(default=0.3, gt=0.0, le=1.0)
    """Candidate floor handed to the tracker (the alert thresholds are per label there)."""
    nms_iou: float = Field(default=0.5, gt=0.0, le=1.0)
    """Overlap above which two boxes of one label are one object."""
    night_contrast: bool = False
    """Spread the contrast of monochrome (infrared night) crops with CLAHE before the model
    sees them; colour crops are never touched.  Off by default: on the eval set's infrared
    clips it cost PicoDet-S 416 27 points of pet recall at the alert threshold (87.5 -> 60.4 %)
    and PicoDet-S 320 two points of person recall (Models page, "Infrared and dark frames").
    Try it with ``ronda eval`` on your own night recordings."""

    @model_validator(mode="before")
    @classmethod
    def _no_precision(cls, data: Any) -> Any:
        if isinstance(data, dict) and "precision" in data:
            raise ValueError(
                "detector.precision was replaced by detector.variant: write `variant: auto` "
                "(the device picks the most accurate variant it can afford and the governor steps "
                "down when hot) or pin one, e.g. `variant: picodet-s416-float32` (`ronda models` "
                "lists them)"
            )
        return data
