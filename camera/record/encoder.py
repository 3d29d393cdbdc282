"""Software H.264 encoding of raw frames with PyAV (libx264 by default).

Used for every source that hands over pictures rather than H.264: replay, USB and RTSP cameras
through OpenCV, and the Pi 5 camera (no hardware encoder).  Settings are for a camera, not a
film: ``ultrafast`` and ``zerolatency`` (no B-frames, no lookahead, one packet out per frame in,
so a packet's time is its frame's time), CRF for a steady quality whatever the frame rate, and a
keyframe forced every ``keyframe_interval_s`` of the frames' own clock, so the pre-roll's groups
have a fixed length in seconds even when the governor lowers the frame rate.

Each keyframe repeats the stream headers (SPS/PPS), so any keyframe can start a file.
"""

from __future__ import annotations

import logging
from fractions import Fraction

import av
import numpy as np

from camera.record.errors import EncoderError
from camera.types import EncodedPacket

log = logging.getLogger(__name__)

TIME_BASE = Fraction(1, 90_000)


def check_encoder(name: str) -> None:
    """Fail early, with the choices, when PyAV's FFmpeg lacks the configured H.264 encoder."""
    try:
        codec = av.codec.Codec(name, "w")
    except Exception:
        raise EncoderError(
            f"clips.encoder {name!r} is not an encoder of this PyAV build "
            "(libx264 is in the PyPI wheels of av)"
        ) from None
    if "H.264" not in codec.long_name:
        raise EncoderError(f"clips.encoder {name!r} does not produce H.264")


class SoftwareEncoder:
    """Frames in, Annex B packets out; reopens itself when the frame size changes."""

    def __init__(self, codec: str, *, crf: int, keyframe_interval_s: float) -> None:
        self.codec = codec
        self.crf = crf
        self.keyframe_interval_s = keyframe_interval_s
        self._context: av.VideoCodecContext | None = None
        self._size: tuple[int, int] | None = None
        self._epoch = 0.0
        self._last_pts = -1
        self._last_key: float | None = None

    @property
    def size(self) -> tuple[int, int] | None:
        return self._size

    def encode(self, image: np.ndarray, timestamp: float) -> list[EncodedPacket]:
        height, width = image.shape[:2]
        if self._context is None or self._size != (width, height):
            self.reset()
            self._open(width, height, timestamp)
        assert self._context is not None
        pts = round((timestamp - self._epoch) / TIME_BASE)
        if pts <= self._last_pts:  # a repeated timestamp: one frame per instant is enough
            return []
        self._last_pts = pts
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = pts
        frame.time_base = TIME_BASE
        if self._last_key is None or timestamp - self._last_key >= self.keyframe_interval_s - 1e-3:
            frame.pict_type = av.video.frame.PictureType.I
            self._last_key = timestamp
        return [self._packet(p) for p in self._context.encode(frame)]

    def flush(self) -> list[EncodedPacket]:
        """Whatever the encoder still holds (nothing with zerolatency, but be exact)."""
        if self._context is None:
            return []
        packets = [self._packet(p) for p in self._context.encode(None)]
        self.reset()
        return packets

    def reset(self) -> None:
        """Forget the stream: the next frame opens a new one (new timeline, new keyframe)."""
        self._context = None
        self._size = None
        self._last_pts = -1
        self._last_key = None

    def _open(self, width: int, height: int, timestamp: float) -> None:
        try:
            context = av.CodecContext.create(self.codec, "w")
            assert isinstance(context, av.VideoCodecContext)
            context.width = width - width % 2
            context.height = height - height % 2
            context.pix_fmt = "yuv420p"
            context.time_base = TIME_BASE
            context.framerate = Fraction(10, 1)  # nominal: timestamps carry the real timing
            context.options = {
                "preset": "ultrafast",
                "tune": "zerolatency",
                "crf": str(self.crf),
                "forced-idr": "1",
                # Keyframes only where encode() asks (by time), never by frame count or scene cut.
                "x264-params": "keyint=infinite:scenecut=0:bframes=0",
                "threads": "1",
            }
            context.open()
        except Exception as error:
            raise EncoderError(f"cannot open the {self.codec} encoder: {error}") from error
        self._context = context
        self._size = (width, height)
        self._epoch = timestamp
        log.debug("clip encoder %s opened at %dx%d", self.codec, width, height)

    def _packet(self, packet: av.Packet) -> EncodedPacket:
        pts = packet.pts if packet.pts is not None else self._last_pts
        return EncodedPacket(
            data=bytes(packet), time=self._epoch + pts * TIME_BASE, keyframe=packet.is_keyframe
        )
