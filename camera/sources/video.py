"""Replay source: a video file (mp4, avi, gif...) or a folder of numbered images.

Timestamps come from the recording's own timeline (frame index / fps), never from the wall
clock, so the same file always gives the same frames at the same times, as fast as the CPU
allows.  With ``loop`` it starts again at the end, the timeline running on (a camera that never
stops, for demos and tests of ``ronda run``).

With ``realtime`` the recording behaves like a live camera instead: each frame "happens" at its
time on the timeline from the moment the replay starts, a reader thread holds only the newest one
(``camera.sources.latest``), and a frame the pipeline was too busy to take is dropped, not queued.
Frames the decoder itself reaches late (a starved CPU) are skipped without being converted, like
a camera that drops frames.  That is what ``ronda replay --realtime``, ``source.kind: file`` and
``bench/pi_budget.py`` rely on: frame age and alert delay then mean what they mean live.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from camera.sources.base import SourceError
from camera.sources.latest import LatestFrames
from camera.types import Frame

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
DEFAULT_FOLDER_FPS = 10.0


def _shifted(skip: Callable[[int], bool], first: int, index: int) -> bool:
    """``skip`` asked about a frame of a later pass: its index on the whole timeline."""
    return skip(first + index)


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
        self._stop = threading.Event()
        self._latest: LatestFrames | None = None
        self._late = 0
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
        else:
            self._images = []
            self._probe()

    def _probe(self) -> None:
        """Check the file decodes and read its rate and length; the capture is not kept open
        (each replay reopens it: seeking is unreliable for some codecs, GIF and MSMPEG4)."""
        capture = cv2.VideoCapture(str(self.path))
        try:
            if not capture.isOpened():
                raise SourceError(
                    f"cannot decode video {self.path} (not a video, corrupt or no codec)"
                )
            ok, first = capture.read()
            if not ok or first is None:
                raise SourceError(f"cannot decode video {self.path}: no frame could be read")
            fps = capture.get(cv2.CAP_PROP_FPS)
            # GIFs and some containers report 0 or absurd rates; fall back rather than divide.
            self.fps = float(fps) if 1.0 <= fps <= 240.0 else DEFAULT_FOLDER_FPS
            self.frame_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        finally:
            capture.release()

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps if self.fps else 0.0

    @property
    def full_fps(self) -> float | None:
        """The recording's rate when it plays like a camera; None for an unpaced replay."""
        return self.fps if self.realtime else None

    @property
    def stale_dropped(self) -> int:
        """Frames dropped because the pipeline (or, on a starved CPU, the decoder) was late."""
        return self._late + (self._latest.dropped if self._latest is not None else 0)

    def frames(self) -> Iterator[Frame]:
        if not self.realtime:
            return self._timeline()
        self._latest = LatestFrames(self._paced, self.name, self._stop)
        return self._latest.frames()

    def _timeline(self) -> Iterator[Frame]:
        for index, image in self._passes():
            if self._stop.is_set():
                return
            if image is not None:
                yield self._frame(index, image, captured=None)

    def _paced(self) -> Iterator[Frame]:
        started = time.monotonic()
        period = 1.0 / self.fps

        def behind(index: int) -> bool:
            return time.monotonic() - started > (index + 1) * period

        for index, image in self._passes(skip=behind):
            if image is None:
                self._late += 1
                continue
            due = index * period
            delay = due - (time.monotonic() - started)
            if delay > 0 and self._stop.wait(delay):
                return
            yield self._frame(index, image, captured=started + due)
            if self._stop.is_set():
                return

    def _frame(self, index: int, image: np.ndarray, captured: float | None) -> Frame:
        return Frame(
            image=image,
            timestamp=self.time_offset + index / self.fps,
            index=self.index_offset + index,
            captured=captured,
        )

    def _passes(
        self, skip: Callable[[int], bool] | None = None
    ) -> Iterator[tuple[int, np.ndarray | None]]:
        """``_decode`` once, or again and again with ``loop``, indices running on."""
        done = 0
        while True:
            count = 0
            first = done
            pass_skip = None if skip is None else functools.partial(_shifted, skip, first)
            for index, image in self._decode(pass_skip):
                count = index + 1
                yield first + index, image
            done += count
            if not self.loop or self._stop.is_set() or count == 0:
                return

    def _decode(
        self, skip: Callable[[int], bool] | None = None
    ) -> Iterator[tuple[int, np.ndarray | None]]:
        """``(index, image)`` in order; ``None`` for a frame ``skip`` says is already too late
        (read past without the colour conversion) or an unreadable image."""
        if self._images:
            for index, path in enumerate(self._images):
                if skip is not None and skip(index):
                    yield index, None
                    continue
                image = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if image is None:
                    log.warning("skipping unreadable image %s", path)
                yield index, image
            return
        capture = cv2.VideoCapture(str(self.path))
        try:
            index = 0
            while not self._stop.is_set():
                if skip is not None and skip(index):
                    if not capture.grab():
                        return
                    yield index, None
                else:
                    ok, image = capture.read()
                    if not ok or image is None:
                        return
                    yield index, image
                index += 1
        finally:
            capture.release()

    def set_fps(self, fps: float | None) -> None:
        """Replay has no hardware rate: the pipeline drops frames by timestamp."""

    def close(self) -> None:
        """Only sets an event: the thread that decodes releases the file."""
        self._stop.set()
