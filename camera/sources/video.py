"""Replay source: a video file (mp4, avi, gif...) or a folder of numbered images.

Timestamps come from the recording's own timeline (frame index / fps), never from the wall
clock, so the same file always gives the same frames at the same times, as fast as the CPU
allows.  With ``realtime`` the iterator paces itself to the timeline instead.  With ``loop`` it
starts again at the end, the timeline running on (a camera that never stops, for demos and tests
of ``ronda run``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from camera.sources.base import SourceError
from camera.types import Frame

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
DEFAULT_FOLDER_FPS = 10.0


def _natural_key(path: Path) -> list[object]:
    """Sort ``img2.png`` before ``img10.png``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


class VideoFileSource:
    """Replays one recording; see the module docstring for the timeline rule."""

    live = False

    def __init__(
        self,
        path: Path,
        *,
        realtime: bool = False,
        folder_fps: float = DEFAULT_FOLDER_FPS,
        time_offset: float = 0.0,
        index_offset: int = 0,
        loop: bool = False,
    ) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.realtime = realtime
        self.time_offset = time_offset
        self.index_offset = index_offset
        self.loop = loop
        self._closed = False
        if not self.path.exists():
            raise SourceError(f"video not found: {self.path}")
        if self.path.is_dir():
            self._images = sorted(
                (p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                key=_natural_key,
            )
            if not self._images:
                raise SourceError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {self.path}")
            self.fps = folder_fps
            self.frame_count = len(self._images)
            self._capture = None
        else:
            self._images = []
            self._capture = self._open_capture()

    def _open_capture(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise SourceError(f"cannot decode video {self.path} (not a video, corrupt or no codec)")
        ok, first = capture.read()
        if not ok or first is None:
            capture.release()
            raise SourceError(f"cannot decode video {self.path}: no frame could be read")
        capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        fps = capture.get(cv2.CAP_PROP_FPS)
        # GIFs and some containers report 0 or absurd rates; fall back rather than divide by it.
        self.fps = float(fps) if 1.0 <= fps <= 240.0 else DEFAULT_FOLDER_FPS
        self.frame_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self._first = first
        return capture

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps if self.fps else 0.0

    def frames(self) -> Iterator[Frame]:
        started = time.monotonic()
        done = 0  # frames of earlier passes (``loop``): the timeline runs on
        while True:
            count = 0
            for count, image in enumerate(self._images_iter(), start=1):
                if self._closed:
                    return
                index = done + count - 1
                timestamp = index / self.fps
                if self.realtime:
                    delay = timestamp - (time.monotonic() - started)
                    if delay > 0:
                        time.sleep(delay)
                yield Frame(
                    image=image,
                    timestamp=self.time_offset + timestamp,
                    index=self.index_offset + index,
                )
            done += count
            if not self.loop or self._closed or count == 0:
                return

    def _images_iter(self) -> Iterator[np.ndarray]:
        if self._capture is None:
            for path in self._images:
                image = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if image is None:
                    log.warning("skipping unreadable image %s", path)
                    continue
                yield image
            return
        capture = self._capture
        # Re-open rather than seek: seeking is unreliable for some codecs (GIF, MSMPEG4).
        capture.release()
        capture = self._capture = cv2.VideoCapture(str(self.path))
        while True:
            ok, image = capture.read()
            if not ok or image is None:
                return
            yield image

    def set_fps(self, fps: float | None) -> None:
        """Replay has no hardware rate: the pipeline drops frames by timestamp."""

    def close(self) -> None:
        self._closed = True
        if self._capture is not None:
            self._capture.release()
