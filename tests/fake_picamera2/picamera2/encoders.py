"""The fake ``picamera2.encoders.H264Encoder``: real H.264, made with PyAV's libx264.

picamera2 picks the hardware encoder on a Pi 4 and older and libx264 on a Pi 5 under the same
name; both hand their output Annex B access units with the stream headers repeated
(``repeat=True``), a keyframe flag and a timestamp in microseconds since the encoder's first
frame (``firsttimestamp``, the sensor time in microseconds).  This fake does the same from the
fake camera's ``main`` frames, honouring ``iperiod`` and ``frame_skip_count``.
"""

from __future__ import annotations

from fractions import Fraction

import av


class H264Encoder:
    def __init__(self, bitrate=None, repeat=True, iperiod=None, framerate=None, qp=None) -> None:
        self.bitrate = bitrate
        self.repeat = repeat
        self.iperiod = iperiod
        self.frame_skip_count = 1
        self.firsttimestamp = None
        self.output = None
        self.name = None
        self.running = False
        self.frames_encoded = 0
        self._skip = 0
        self._context = None

    def start(self) -> None:
        assert not self.running, "Encoder already running"
        assert self.repeat, "clips need the headers repeated at every keyframe"
        self.running = True
        self.firsttimestamp = None
        self._context = None
        self.output.start()

    def stop(self) -> None:
        assert self.running, "Encoder already stopped"
        self.running = False
        self.output.stop()

    def encode(self, image, sensor_ns: int) -> None:
        """Called by the fake camera for every completed request, like picamera2 does."""
        if not self.running:
            return
        skip, self._skip = self._skip, (self._skip + 1) % self.frame_skip_count
        if skip:
            return
        sensor_us = sensor_ns // 1000
        if self.firsttimestamp is None:
            self.firsttimestamp = sensor_us
        timestamp = sensor_us - self.firsttimestamp
        if self._context is None:
            self._context = self._open(image.shape[1], image.shape[0])
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = timestamp
        frame.time_base = Fraction(1, 1_000_000)
        if self.frames_encoded % (self.iperiod or 30) == 0:
            frame.pict_type = av.video.frame.PictureType.I
        self.frames_encoded += 1
        for packet in self._context.encode(frame):
            self.output.outputframe(bytes(packet), packet.is_keyframe, timestamp)

    def _open(self, width: int, height: int):
        context = av.CodecContext.create("libx264", "w")
        context.width, context.height = width, height
        context.pix_fmt = "yuv420p"
        context.time_base = Fraction(1, 1_000_000)
        context.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "forced-idr": "1",
            "x264-params": "keyint=infinite:scenecut=0",
        }
        context.open()
        return context
