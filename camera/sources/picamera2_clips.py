"""The Pi camera's own H.264 encoder, feeding the clip recorder (picamera2 sources only).

picamera2 exports ``H264Encoder`` as the SoC's hardware encoder where there is one (Pi 4 and
older, Zero 2 W) and as its libx264 encoder on a Pi 5, with the same calls.  The encoder runs on
the main stream with the camera, on picamera2's own thread, and hands every packet to an
``Output``; ours turns it into an :class:`EncodedPacket` on the frame clock (wall time, like
``Frame.timestamp``) and passes it to the recorder, whose ring of packets is the pre-roll (what
picamera2's ``CircularOutput2`` does, but feeding Ronda's recordings).

Started once per camera session.  The clip frame rate follows the governor through the
encoder's ``frame_skip_count`` (the sensor itself already runs at the policy's frame rate);
pausing clips stops the encoder and resuming starts it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from camera.types import EncodedPacket

log = logging.getLogger(__name__)

PacketSink = Callable[[EncodedPacket], None]


@dataclass(frozen=True, slots=True)
class ClipEncoderSettings:
    sink: PacketSink
    bitrate: int
    keyframe_interval_s: float


def make_output(outputs: ModuleType, sink: PacketSink, encoder: Any) -> Any:
    """An ``Output`` of picamera2 that forwards packets to ``sink`` with wall-clock times."""

    class PacketOutput(outputs.Output):  # type: ignore[name-defined]
        def outputframe(
            self,
            frame: Any,
            keyframe: bool = True,
            timestamp: int | None = None,
            packet: Any = None,
            audio: bool = False,
        ) -> None:
            if audio or frame is None or encoder.firsttimestamp is None:
                return
            sensor_s = (encoder.firsttimestamp + (timestamp or 0)) / 1e6
            boot_to_wall = time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
            sink(EncodedPacket(bytes(frame), sensor_s + boot_to_wall, bool(keyframe)))

    return PacketOutput()


class CameraClipEncoder:
    """One camera session's encoder: start, follow the clip frame rate, stop."""

    def __init__(
        self, picamera2: ModuleType, settings: ClipEncoderSettings, camera_fps: float
    ) -> None:
        encoders = _submodule(picamera2, "encoders")
        outputs = _submodule(picamera2, "outputs")
        iperiod = max(1, round(settings.keyframe_interval_s * camera_fps))
        self.encoder = encoders.H264Encoder(bitrate=settings.bitrate, repeat=True, iperiod=iperiod)
        self.encoder.output = make_output(outputs, settings.sink, self.encoder)
        self.running = False

    def start(self, camera: Any) -> None:
        camera.start_encoder(self.encoder, name="main")
        self.running = True

    def apply(self, camera: Any, clip_fps: float | None, camera_fps: float) -> None:
        """``clip_fps`` None pauses; otherwise skip frames down to it."""
        if clip_fps is None:
            if self.running:
                camera.stop_encoder(self.encoder)
                self.running = False
            return
        self.encoder.frame_skip_count = max(1, round(camera_fps / clip_fps))
        if not self.running:
            self.start(camera)

    def stop(self, camera: Any) -> None:
        if self.running:
            self.running = False
            try:
                camera.stop_encoder(self.encoder)
            except Exception as error:  # a failed camera often fails this too
                log.debug("stopping the clip encoder failed: %s", error)


def available(picamera2: ModuleType) -> bool:
    try:
        _submodule(picamera2, "encoders")
        _submodule(picamera2, "outputs")
    except ImportError as error:
        log.warning("clips: picamera2 has no encoders (%s); encoding in software", error)
        return False
    return True


def _submodule(package: ModuleType, name: str) -> ModuleType:
    import importlib

    return importlib.import_module(f"{package.__name__}.{name}")
