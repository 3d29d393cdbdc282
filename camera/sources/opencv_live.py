"""Live source through OpenCV: a USB/V4L2 device or a network stream (RTSP, HTTP MJPEG).

A live camera must never end the program: a stream that drops, a device that is unplugged or a
camera that stalls is reopened with backoff, and the outage is logged once with its recovery.

Frames are read by a thread as fast as the camera sends them, and the pipeline always gets the
newest (``camera.sources.latest``): the FFmpeg backend ignores ``CAP_PROP_BUFFERSIZE``, so without
the thread a slow loop would be handed older and older frames.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Iterator

import cv2

from camera.sources.backoff import Backoff
from camera.sources.config import SourceConfig
from camera.sources.latest import LatestFrames
from camera.types import Frame

log = logging.getLogger(__name__)

_CREDENTIALS = re.compile(r"//[^/@]+@")
RATE_WINDOW = 50
"""Frames over which the camera's own frame rate is measured."""


def redact_uri(uri: str) -> str:
    """``rtsp://user:pass@host/x`` -> ``rtsp://***@host/x``: passwords never reach the log."""
    return _CREDENTIALS.sub("//***@", uri)


class OpenCVSource:
    """Reads frames from ``cv2.VideoCapture``; see the module docstring for the recovery rule."""

    live = True

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.name = redact_uri(config.uri)
        self._stop = threading.Event()
        self._capture: cv2.VideoCapture | None = None
        self._index = 0
        self._latest: LatestFrames | None = None
        self._arrivals: deque[float] = deque(maxlen=RATE_WINDOW)

    def _target(self) -> int | str:
        uri = self.config.uri
        return int(uri) if uri.isdigit() else uri

    def _open(self) -> cv2.VideoCapture | None:
        capture = cv2.VideoCapture(self._target())
        if not capture.isOpened():
            capture.release()
            return None
        if isinstance(self._target(), int):
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.config.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.config.height)
            capture.set(cv2.CAP_PROP_FPS, self.config.fps)
        # Keep the driver queue short (V4L2 honours it; FFmpeg does not, hence the reader thread).
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return capture

    def frames(self) -> Iterator[Frame]:
        """The newest frame each time the pipeline asks (see the module docstring)."""
        self._latest = LatestFrames(self._read_forever, self.name, self._stop)
        return self._latest.frames()

    @property
    def full_fps(self) -> float | None:
        """The rate the camera actually delivers, measured over the last frames."""
        arrivals = list(self._arrivals)
        if len(arrivals) < 2 or arrivals[-1] <= arrivals[0]:
            return None
        return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])

    @property
    def stale_dropped(self) -> int:
        return self._latest.dropped if self._latest is not None else 0

    def _read_forever(self) -> Iterator[Frame]:
        backoff = Backoff(self.config.reconnect_min_s, self.config.reconnect_max_s, self._stop)
        outage_since: float | None = None
        while not self._stop.is_set():
            self._capture = self._open()
            if self._capture is None:
                if outage_since is None:
                    outage_since = time.monotonic()
                    log.error("camera %s cannot be opened; retrying with backoff", self.name)
                if not backoff.wait():
                    return
                continue
            if outage_since is not None:
                log.info(
                    "camera %s is back after %.0f s", self.name, time.monotonic() - outage_since
                )
                outage_since = None
            backoff.reset()
            try:
                yield from self._read_until_failure(self._capture)
            finally:  # also when the reader is abandoned at close: the device is released here
                self._capture.release()
            if not self._stop.is_set():
                outage_since = time.monotonic()
                log.warning("camera %s stopped delivering frames; reopening", self.name)
                if not backoff.wait():
                    return

    def _read_until_failure(self, capture: cv2.VideoCapture) -> Iterator[Frame]:
        while not self._stop.is_set():
            ok, image = capture.read()
            if not ok or image is None:
                return
            self._index += 1
            captured = time.monotonic()
            self._arrivals.append(captured)
            yield Frame(image=image, timestamp=time.time(), index=self._index, captured=captured)

    def set_fps(self, fps: float | None) -> None:
        """Most UVC/RTSP sources ignore rate changes: the pipeline drops frames by timestamp."""

    def close(self) -> None:
        """Only sets an event (safe from a signal handler); the reader thread releases the
        device within one frame."""
        self._stop.set()
