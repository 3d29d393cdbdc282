"""A stand-in for picamera2 with exactly the calls Ronda's Picamera2Source makes.

Tests put ``tests/fake_picamera2`` on ``sys.path`` and script the camera through ``SCRIPT``:
how many openings fail, and per camera session how many frames it delivers before it raises
an error or stalls.  Frames are synthetic but shaped like the real thing: ``main`` is an
``RGB888`` array (BGR byte order, as picamera2 returns it), ``lores`` a ``YUV420`` buffer of
``height * 3 // 2`` rows padded to a 128-byte stride, metadata carries ``SensorTimestamp`` on
CLOCK_BOOTTIME.  Every call is recorded on the instance (``calls``) for assertions.

Encoders (``picamera2.encoders.H264Encoder``) started with ``start_encoder`` get every completed
request's ``main`` frame, as picamera2's own encoder thread does.  ``Script.fps`` paces frames
like a sensor (a real camera delivers at its frame rate, not as fast as it is asked).

``Script.video`` makes the frames a recording's (main resized to the stream, lores its Y plane),
``Script.metadata`` adds what a sensor reports with frame n (the AI Camera's output tensors,
``picamera2.devices.imx500.tensors``), and ``Script.first_frame_delay_s`` holds the first
frame back as the AI Camera does while its network firmware uploads.  The configuration has a
``raw`` stream (the sensor mode, ``Script.raw_size``) and metadata a ``ScalerCrop`` (the main
stream's aspect ratio, centred, in full-sensor pixels), which the IMX500's coordinate
conversion reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

STRIDE_ALIGN = 128
Y_BASE = 60
"""Y plane value of frame n is ``Y_BASE + n``; U and V planes are 128 (grey)."""


@dataclass
class Session:
    """What one opened camera does: ``frames`` frames (None: forever), then ``then``."""

    frames: int | None = None
    then: str = "error"  # "error": capture raises RuntimeError; "stall": no frame ever again


FULL_SENSOR = (4056, 3040)
"""The IMX500's pixel array (picamera2 hard-codes it too); ScalerCrop is in these pixels."""


@dataclass
class Script:
    open_failures: int = 0
    fps: float | None = None
    """Deliver at most this many frames a second (None: as fast as asked)."""
    sessions: list[Session] = field(default_factory=list)
    instances: list[Picamera2] = field(default_factory=list)
    video: Path | None = None
    """Frames from this recording (its end: the session stalls); None: synthetic frames."""
    video_start: int = 0
    """The recording's first frame used (0-based)."""
    metadata: Callable[[int], dict] | None = None
    """Extra metadata of frame n (1-based, per camera session)."""
    first_frame_delay_s: float = 0.0
    raw_size: tuple[int, int] = (2028, 1520)

    def session(self, number: int) -> Session:
        return self.sessions[number] if number < len(self.sessions) else Session()


SCRIPT = Script()


def reset(script: Script | None = None) -> Script:
    global SCRIPT
    SCRIPT = script or Script()
    return SCRIPT


class CompletedRequest:
    def __init__(self, camera: Picamera2, number: int, picture: np.ndarray | None = None) -> None:
        self.camera = camera
        self.number = number
        self.picture = picture
        """The recording's frame (``Script.video``), BGR at its own size."""
        self.released = False
        self.sensor_ns = time.clock_gettime_ns(time.CLOCK_BOOTTIME) - 1_000_000

    def make_array(self, name: str) -> np.ndarray:
        assert not self.released, "make_array after release"
        stream = self.camera.config[name]
        width, height = stream["size"]
        if name == "main":
            assert stream["format"] == "RGB888"
            if self.picture is not None:
                return cv2.resize(self.picture, (width, height), interpolation=cv2.INTER_AREA)
            image = np.zeros((height, width, 3), np.uint8)
            image[..., 0] = 200  # blue first: BGR byte order
            image[0, 0, 1] = self.number % 256
            return image
        assert stream["format"] == "YUV420"
        stride = -(-width // STRIDE_ALIGN) * STRIDE_ALIGN
        buffer = np.full((height * 3 // 2, stride), 128, np.uint8)
        if self.picture is not None:
            gray = cv2.cvtColor(self.picture, cv2.COLOR_BGR2GRAY)
            buffer[:height, :width] = cv2.resize(
                gray, (width, height), interpolation=cv2.INTER_AREA
            )
        else:
            buffer[:height, :width] = (Y_BASE + self.number) % 256
        return buffer

    def get_metadata(self) -> dict:
        metadata = {
            "SensorTimestamp": self.sensor_ns,
            "FrameDuration": self.camera.frame_duration,
            "ScalerCrop": self.camera.scaler_crop(),
        }
        if SCRIPT.metadata is not None:
            metadata.update(SCRIPT.metadata(self.number))
        return metadata

    def release(self) -> None:
        self.released = True
        self.camera.released += 1


class Picamera2:
    opened = False

    def __init__(self, camera_num: int = 0) -> None:
        self.camera_num = camera_num
        SCRIPT.instances.append(self)
        if SCRIPT.open_failures > 0:
            SCRIPT.open_failures -= 1
            self.calls = ["open-failed"]
            raise RuntimeError("Camera __init__ sequence did not complete.")
        self.session = SCRIPT.session(sum(1 for i in SCRIPT.instances if i.opened))
        self.opened = True
        self.calls: list[object] = ["open"]
        self.config: dict = {}
        self.controls: list[dict] = []
        self.frame_duration = 0
        self.delivered = 0
        self.released = 0
        self.started = False
        self.closed = False
        self.stalled = threading.Event()
        self.encoders: list = []
        self._next_frame = time.monotonic()
        self._video = cv2.VideoCapture(str(SCRIPT.video)) if SCRIPT.video is not None else None
        if self._video is not None and SCRIPT.video_start:
            self._video.set(cv2.CAP_PROP_POS_FRAMES, SCRIPT.video_start)

    def create_video_configuration(self, main=None, lores=None, controls=None) -> dict:
        self.calls.append("create_video_configuration")
        return {
            "main": dict(main or {}),
            "lores": dict(lores) if lores else None,
            "raw": {"size": SCRIPT.raw_size},
            "controls": dict(controls or {}),
        }

    def scaler_crop(self) -> tuple[int, int, int, int]:
        """The main stream's aspect ratio, centred on the pixel array (even sizes)."""
        width, height = self.config["main"]["size"]
        full_w, full_h = FULL_SENSOR
        crop_w, crop_h = full_w, full_w * height // width
        if crop_h > full_h:
            crop_w, crop_h = full_h * width // height, full_h
        crop_w, crop_h = crop_w - crop_w % 2, crop_h - crop_h % 2
        return ((full_w - crop_w) // 2, (full_h - crop_h) // 2, crop_w, crop_h)

    def configure(self, config: dict) -> None:
        self.calls.append("configure")
        self.config = config
        self._apply(config["controls"])

    def camera_configuration(self) -> dict:
        return self.config

    def start(self) -> None:
        self.calls.append("start")
        self.started = True

    def set_controls(self, controls: dict) -> None:
        self.calls.append(("set_controls", dict(controls)))
        self._apply(controls)

    def _apply(self, controls: dict) -> None:
        self.controls.append(dict(controls))
        if "FrameDurationLimits" in controls:
            self.frame_duration = controls["FrameDurationLimits"][1]

    def capture_request(self, wait=None):
        assert self.started, "capture_request before start"
        assert wait is False, "the source must not block without a timeout"
        job: Future = Future()
        session = self.session
        if session.frames is not None and self.delivered >= session.frames:
            if session.then == "error":
                job.set_exception(RuntimeError("Camera frontend has timed out!"))
            else:
                self.stalled.set()  # never completes, like a wedged camera
            return job
        picture = None
        if self._video is not None:
            ok, picture = self._video.read()
            if not ok:  # the recording is over: a camera that delivers no more frames
                self.stalled.set()
                return job
        if self.delivered == 0 and SCRIPT.first_frame_delay_s:
            # The AI Camera's network firmware upload (once: the camera caches it), not test
            # synchronisation: the waiter's timeout decides what happens meanwhile.
            delay, SCRIPT.first_frame_delay_s = SCRIPT.first_frame_delay_s, 0.0
            threading.Timer(delay, lambda: self._deliver(job, picture)).start()
            return job
        if SCRIPT.fps:
            delay = self._next_frame - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the sensor's frame time, not test synchronisation
            self._next_frame = max(self._next_frame, time.monotonic()) + 1 / SCRIPT.fps
        self._deliver(job, picture)
        return job

    def _deliver(self, job: Future, picture: np.ndarray | None) -> None:
        if self.closed:
            return
        self.delivered += 1
        request = CompletedRequest(self, self.delivered, picture)
        if self.encoders:
            for encoder in self.encoders:
                encoder.encode(request.make_array("main"), request.sensor_ns)
        job.set_result(request)

    def start_encoder(self, encoder=None, output=None, pts=None, quality=None, name=None):
        assert self.config, "Camera has not been configured"
        assert name in (None, "main"), "clips encode the main stream"
        self.calls.append("start_encoder")
        if output is not None:
            encoder.output = output
        encoder.name = name or "main"
        encoder.start()
        self.encoders.append(encoder)

    def stop_encoder(self, encoders=None):
        self.calls.append("stop_encoder")
        for encoder in list(self.encoders) if encoders is None else [encoders]:
            encoder.stop()
            self.encoders.remove(encoder)

    def wait(self, job: Future, timeout=None):
        return job.result(timeout=timeout)

    def stop(self) -> None:
        self.calls.append("stop")
        self.started = False

    def close(self) -> None:
        self.calls.append("close")
        self.closed = True
        if self._video is not None:
            self._video.release()
