"""Live source: the Raspberry Pi camera through picamera2 (libcamera).

One capture gives two streams from the ISP at no CPU cost: ``main`` (``RGB888``, which
picamera2 hands over in BGR byte order, i.e. OpenCV's order) for detector crops and thumbnails,
and ``lores`` (``YUV420``) whose Y plane is already the small grayscale frame the motion stage
wants, so motion needs no resize and no colour conversion on a Pi Zero.

Timestamps are the sensor's own (``SensorTimestamp``, start of exposure, on CLOCK_BOOTTIME as
libcamera documents it, which equals CLOCK_MONOTONIC on a Pi that never suspends), mapped to
wall-clock time, so frame spacing is exact even when Python is late to collect them.

The frame rate is a sensor control (``FrameDurationLimits``): when the governor asks for fewer
frames the sensor produces fewer, which saves ISP and copy work, not just detector time.

A camera must never end the program: an error while opening or capturing, or no frame for
``stall_timeout_s``, closes the camera and opens it again with backoff, forever; the outage is
logged once with its recovery.  If it never comes back, the frame loop makes no progress, so
the systemd watchdog restarts the whole service.

With the AI Camera (IMX500) running Ronda's detector on its sensor, the detector backend
attaches its network (``attach_network``) before the first frame: the camera is opened by the
sensor's number, the first frame may wait minutes while the network firmware uploads (the
network reports progress meanwhile; a stall is only counted once frames flow), and each
frame carries what the network found (``Frame.inferred``).

picamera2 and libcamera are imported here only, when this source is created: they come from
apt (``python3-picamera2``), not PyPI, and exist only on a Pi.
"""

from __future__ import annotations

import importlib
import logging
import math
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from camera.sources.backoff import Backoff
from camera.sources.base import CameraNetwork, SourceError
from camera.sources.config import SourceConfig
from camera.sources.picamera2_clips import (
    CameraClipEncoder,
    ClipEncoderSettings,
    PacketSink,
    available,
)
from camera.types import Frame, SensorReading

log = logging.getLogger(__name__)

_POLL_S = 0.2
"""How often a wait for the next frame looks at ``close()``: the bound on stop latency."""
_MAX_TIMESTAMP_AGE_S = 5.0
"""A sensor timestamp older than this (or in the future) is not trusted: the wall clock is."""
DEFAULT_MOTION_HEIGHT = 100
"""The motion stage's working height at the default sensitivity (``motion.height``)."""
_PROGRESS_S = 5.0
"""While the first frame waits on a sensor network's firmware upload, how often to report."""


class CameraStalled(Exception):
    """No frame arrived for ``stall_timeout_s``."""


def import_picamera2() -> ModuleType:
    try:
        return importlib.import_module("picamera2")
    except ImportError as error:
        raise SourceError(
            f"picamera2 is not available ({error}): install python3-picamera2 with apt and "
            "create the venv with --system-site-packages (`ronda service install` does)"
        ) from None


def frame_duration_us(fps: float) -> int:
    return round(1_000_000 / fps)


def exposure_age(metadata: dict[str, Any]) -> float:
    """Seconds since the frame's exposure, from ``SensorTimestamp`` when plausible, else 0."""
    sensor_ns = metadata.get("SensorTimestamp")
    if not isinstance(sensor_ns, int):
        return 0.0
    age = (time.clock_gettime_ns(time.CLOCK_BOOTTIME) - sensor_ns) / 1e9
    return age if 0.0 <= age <= _MAX_TIMESTAMP_AGE_S else 0.0


def sensor_reading(metadata: dict[str, Any]) -> SensorReading | None:
    """The light metering of a request's metadata (``Lux``, ``ExposureTime``, ``AnalogueGain``,
    ``DigitalGain``); None when it carries none of them.  A value that is not a number (an old
    or odd libcamera) counts as absent."""

    def number(key: str) -> float | None:
        value = metadata.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if math.isfinite(value) else None

    reading = SensorReading(
        lux=number("Lux"),
        exposure_us=number("ExposureTime"),
        analogue_gain=number("AnalogueGain"),
        digital_gain=number("DigitalGain"),
    )
    return None if reading == SensorReading() else reading


def lores_size(main: tuple[int, int], height: int) -> tuple[int, int]:
    """The lores stream: the main stream's aspect ratio at ``height`` rows (even sizes, as
    YUV420 needs), never larger than main.  The ISP scales for free; a 4:3 lores under a 16:9
    main would squeeze the picture and cost motion a resize it does not need."""
    width, main_height = main
    h = min(height, main_height)
    w = min(width, round(h * width / main_height))
    return (max(2, w - w % 2), max(2, h - h % 2))


class Picamera2Source:
    """The Pi camera; see the module docstring for streams, timestamps and recovery."""

    live = True
    name = "picamera2"

    def __init__(self, config: SourceConfig, motion_height: int = DEFAULT_MOTION_HEIGHT) -> None:
        """``motion_height``: the rows the motion stage works on; the lores stream is made that
        tall unless ``source.lores_width``/``lores_height`` say otherwise."""
        self.config = config
        self._picamera2 = import_picamera2()
        self._stop = threading.Event()
        self._fps = config.fps
        self._applied_fps: float | None = None
        self._index = 0
        main = (config.width, config.height)
        auto = lores_size(main, config.lores_height or motion_height)
        self._lores_request = (config.lores_width or auto[0], config.lores_height or auto[1])
        self._lores_size = self._lores_request
        self._clip_settings: ClipEncoderSettings | None = None
        self._clip_encoder: CameraClipEncoder | None = None
        self._clip_fps: float | None = None
        self._applied_clip: tuple[float | None, float] | None = None
        self._network: CameraNetwork | None = None

    def attach_network(self, network: CameraNetwork) -> None:
        """Run the detector's sensor network from the next camera start (the IMX500 object
        must exist before the camera is opened, which ``frames()`` does)."""
        self._network = network

    @property
    def full_fps(self) -> float | None:
        """The configured sensor rate (what the camera delivers when the governor asks nothing)."""
        return self.config.fps

    @property
    def stale_dropped(self) -> int:
        """Always 0: libcamera recycles buffers the loop did not collect, and picamera2 hands
        over the most recent completed request, so stale frames never reach Ronda to count."""
        return 0

    # -- FrameSource -------------------------------------------------------------------------
    def frames(self) -> Iterator[Frame]:
        backoff = Backoff(self.config.reconnect_min_s, self.config.reconnect_max_s, self._stop)
        outage_since: float | None = None
        while not self._stop.is_set():
            try:
                camera = self._start()
            except SourceError:
                raise
            except Exception as error:  # libcamera raises RuntimeError, IndexError, OSError...
                outage_since = self._outage(outage_since, f"cannot be opened ({error})")
                if not backoff.wait():
                    return
                continue
            try:
                for frame in self._capture(camera):
                    if outage_since is not None:
                        log.info("camera is back after %.0f s", time.monotonic() - outage_since)
                        outage_since = None
                    backoff.reset()
                    yield frame
            except SourceError:
                raise
            except Exception as error:
                outage_since = self._outage(
                    outage_since, f"failed: {error or type(error).__name__}"
                )
            finally:
                if self._clip_encoder is not None:
                    self._clip_encoder.stop(camera)
                _release(camera)
            if not self._stop.is_set() and not backoff.wait():
                return

    def set_fps(self, fps: float | None) -> None:
        """Ask the sensor for ``fps`` (never above the configured rate); None: the configured."""
        self._fps = min(fps, self.config.fps) if fps else self.config.fps

    # -- clips (camera.record.EncodingSource) --------------------------------------------------
    def enable_clip_encoder(
        self, sink: PacketSink, *, bitrate: int, keyframe_interval_s: float
    ) -> tuple[int, int] | None:
        """Run the camera's H.264 encoder for clips from the next camera start (see
        ``picamera2_clips``); None when this picamera2 has no encoders."""
        if not available(self._picamera2):
            return None
        self._clip_settings = ClipEncoderSettings(sink, bitrate, keyframe_interval_s)
        return (self.config.width, self.config.height)

    def set_clip_fps(self, fps: float | None) -> None:
        """Encode at most ``fps`` frames a second for clips; None pauses the encoder."""
        self._clip_fps = fps

    def close(self) -> None:
        """Only sets an event, so it is safe from a signal handler or another thread; the
        frame iterator notices within ``_POLL_S`` and closes the camera itself."""
        self._stop.set()

    # -- camera session ----------------------------------------------------------------------
    def _start(self) -> Any:
        network = self._network
        camera = (
            self._picamera2.Picamera2(network.camera_num)
            if network
            else self._picamera2.Picamera2()
        )
        try:
            duration = frame_duration_us(self._fps)
            configuration = camera.create_video_configuration(
                main={"size": (self.config.width, self.config.height), "format": "RGB888"},
                lores={"size": self._lores_request, "format": "YUV420"},
                controls={"FrameDurationLimits": (duration, duration)},
            )  # fmt: skip
            camera.configure(configuration)
            # The ISP may round sizes; read back what it actually gives.
            self._lores_size = tuple(camera.camera_configuration()["lores"]["size"])
            self._start_clip_encoder(camera)
            camera.start()
        except BaseException:
            _release(camera)
            raise
        self._applied_fps = self._fps
        log.info(
            "camera started: main %dx%d, lores %dx%d, %.1f fps",
            self.config.width,
            self.config.height,
            *self._lores_size,
            self._fps,
        )
        return camera

    def _capture(self, camera: Any) -> Iterator[Frame]:
        width, height = self._lores_size
        first = True
        while not self._stop.is_set():
            if self._fps != self._applied_fps:
                duration = frame_duration_us(self._fps)
                camera.set_controls({"FrameDurationLimits": (duration, duration)})
                self._applied_fps = self._fps
                log.info("camera frame rate set to %.1f fps", self._fps)
            self._apply_clip_rate(camera)
            request = self._next_request(camera, first)
            if request is None:
                return
            first = False
            try:
                image = request.make_array("main")
                lores = request.make_array("lores")
                metadata = request.get_metadata()
            finally:
                request.release()
            self._index += 1
            age = exposure_age(metadata)
            inferred = None if self._network is None else self._network.detections(metadata, camera)
            yield Frame(
                image=image,
                timestamp=time.time() - age,
                index=self._index,
                captured=time.monotonic() - age,
                # YUV420 is the Y plane (height rows, maybe padded to the stride), then U, V.
                gray_small=np.ascontiguousarray(lores[:height, :width]),
                inferred=inferred,
                sensor=sensor_reading(metadata),
            )

    def _start_clip_encoder(self, camera: Any) -> None:
        self._clip_encoder = None
        self._applied_clip = None
        if self._clip_settings is None or self._clip_fps is None:
            return
        self._clip_encoder = CameraClipEncoder(self._picamera2, self._clip_settings, self._fps)
        self._apply_clip_rate(camera)

    def _apply_clip_rate(self, camera: Any) -> None:
        wanted = (self._clip_fps, self._fps)
        if self._clip_settings is None or wanted == self._applied_clip:
            return
        if self._clip_encoder is None:
            self._clip_encoder = CameraClipEncoder(self._picamera2, self._clip_settings, self._fps)
        self._clip_encoder.apply(camera, self._clip_fps, self._fps)
        self._applied_clip = wanted

    def _next_request(self, camera: Any, first: bool) -> Any | None:
        """The next completed request, None once closed; CameraStalled after the timeout (for
        the first frame with a sensor network, its firmware upload's)."""
        job = camera.capture_request(wait=False)
        network = self._network if first else None
        timeout = network.first_frame_timeout_s if network else self.config.stall_timeout_s
        started = time.monotonic()
        deadline, report = started + timeout, started + _PROGRESS_S
        while True:
            try:
                return camera.wait(job, timeout=_POLL_S)
            except TimeoutError:
                if self._stop.is_set():
                    return None
                now = time.monotonic()
                if now >= deadline:
                    raise CameraStalled(f"no frame for {timeout:g} s") from None
                if network is not None and now >= report:
                    report = now + _PROGRESS_S
                    network.waiting(now - started)
            except TypeError:
                raise SourceError(
                    "this picamera2 is too old (wait() has no timeout): "
                    "sudo apt update && sudo apt install --only-upgrade python3-picamera2"
                ) from None

    def _outage(self, since: float | None, what: str) -> float:
        """Log the first failure of an outage as an error, repeats at debug; returns its start."""
        if since is None:
            log.error("camera %s; restarting it with backoff", what)
            return time.monotonic()
        log.debug("camera %s (still)", what)
        return since


def _release(camera: Any) -> None:
    """Stop and close, each best effort: a failed camera often fails these too."""
    for method in ("stop", "close"):
        try:
            getattr(camera, method)()
        except Exception as error:
            log.debug("camera %s failed: %s", method, error)
