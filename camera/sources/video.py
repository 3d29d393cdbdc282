"""Replay source: a video file (mp4, avi, gif...) or a folder of numbered images.

Timestamps come from the recording's own timeline (frame index / fps), never from the wall
clock, so the same file always gives the same frames at the same times, as fast as the CPU
allows.  With ``loop`` it starts again at the end, the timeline running on (a camera that never
stops, for demos and tests of ``ronda run``); ``loop_gap_s`` puts that much of the timeline
between two passes, a quiet stretch in which the camera saw nothing worth a frame of work, so a
short clip of visits becomes a day of video (``bench/soak.py``).

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
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from camera.files import describe_mode, describe_os_error, shown
from camera.sources.base import SourceError
from camera.sources.latest import LatestFrames
from camera.types import Frame

# FFmpeg prints its own complaints about a damaged file ("moov atom not found") straight to
# stderr, beside Ronda's one-line error; quiet unless the owner asks (read at the first open).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "8")  # AV_LOG_FATAL


def _quiet_opencv_warnings() -> None:
    """OpenCV's own "[ WARN:0] ... can't open/read file" lines, errors kept.  The API moved:
    ``cv2.utils.logging`` in OpenCV 4.12 and later (and 5), ``cv2.setLogLevel`` before it."""
    api = getattr(cv2.utils, "logging", None)
    if api is not None:
        api.setLogLevel(api.LOG_LEVEL_ERROR)
    elif hasattr(cv2, "setLogLevel"):
        cv2.setLogLevel(2)  # LOG_LEVEL_ERROR in OpenCV's enum


if "OPENCV_LOG_LEVEL" not in os.environ:
    _quiet_opencv_warnings()

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
        loop_gap_s: float = 0.0,
    ) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.realtime = realtime
        self.time_offset = time_offset
        self.index_offset = index_offset
        self.loop = loop
        self.loop_gap_s = loop_gap_s
        self._stop = threading.Event()
        self._latest: LatestFrames | None = None
        self._late = 0
        if stat.S_ISDIR(self._stat()):
            self._images = self._readable_images()
            self.fps = folder_fps
            self.frame_count = len(self._images)
        else:
            self._images = []
            self._probe()

    def _stat(self) -> int:
        """The file's mode; a SourceError for anything that is neither a file nor a folder (a
        FIFO would block the decoder forever, ``/dev/zero`` never ends)."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            raise SourceError(f"video not found: {shown(self.path)}") from None
        except (OSError, ValueError) as error:
            reason = describe_os_error(error) if isinstance(error, OSError) else "NUL byte"
            raise SourceError(f"cannot open video {shown(self.path)}: {reason}") from None
        if stat.S_ISDIR(info.st_mode):
            return info.st_mode
        if (kind := describe_mode(info.st_mode)) is not None:
            raise SourceError(f"cannot replay {shown(self.path)}: it {kind}")
        if info.st_size == 0:
            raise SourceError(f"cannot decode video {shown(self.path)}: the file is empty")
        try:
            with open(self.path, "rb"):  # OpenCV would only say "cannot decode"
                pass
        except OSError as error:
            raise SourceError(
                f"cannot open video {shown(self.path)}: {describe_os_error(error)}"
            ) from None
        return info.st_mode

    def _readable_images(self) -> list[Path]:
        """The folder's image files in natural order, from the first one that decodes: a
        folder where none does is an error like a corrupt video, not an empty replay."""
        try:
            entries = sorted(
                (p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                key=_natural_key,
            )
            images = [p for p in entries if _is_regular(p)]
        except OSError as error:
            raise SourceError(
                f"cannot list {shown(self.path)}: {describe_os_error(error)}"
            ) from None
        if not entries:
            raise SourceError(
                f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {shown(self.path)}"
            )
        for index, path in enumerate(images):
            if _read_image(path) is not None:
                return images[index:]
        raise SourceError(
            f"no readable image among the {len(entries)} image file(s) in {shown(self.path)} "
            "(all corrupt, empty or not images)"
        )

    def _probe(self) -> None:
        """Check the file decodes and read its rate and length; the capture is not kept open
        (each replay reopens it: seeking is unreliable for some codecs, GIF and MSMPEG4)."""
        capture = cv2.VideoCapture(str(self.path))
        try:
            if not capture.isOpened():
                raise SourceError(
                    f"cannot decode video {shown(self.path)} (not a video, corrupt or no codec)"
                )
            ok, first = capture.read()
            if not ok or first is None:
                raise SourceError(f"cannot decode video {shown(self.path)}: no frame could be read")
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
            done += count + round(self.loop_gap_s * self.fps)
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
                image = _read_image(path) if _is_regular(path) else None
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


def _is_regular(path: Path) -> bool:
    """A regular file (not a FIFO named ``x.jpg``, which ``imread`` would wait on forever)."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _read_image(path: Path) -> np.ndarray | None:
    """The image as 8-bit BGR, or None when it cannot be decoded."""
    return cv2.imread(str(path), cv2.IMREAD_COLOR)
