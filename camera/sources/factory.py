"""Choose and open the right source for a configuration or a list of recordings."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from camera.files import describe_mode, shown
from camera.sources.base import FrameSource, SourceError
from camera.sources.config import SourceConfig
from camera.sources.video import VideoFileSource


def open_source(config: SourceConfig, motion_height: int | None = None) -> FrameSource:
    """Open the live source the configuration names (``ronda run``).

    ``motion_height`` (the motion stage's working height) sizes the Pi's lores stream."""
    kind = config.kind
    refuse_fifo(config.uri)
    if kind == "auto":
        if config.uri == "picamera2":
            kind = "picamera2"
        elif Path(config.uri).is_file() or Path(config.uri).is_dir():
            kind = "file"
        else:
            kind = "opencv"
    if kind == "picamera2":
        from camera.sources.picamera2_source import Picamera2Source

        if motion_height is None:
            return Picamera2Source(config)
        return Picamera2Source(config, motion_height)
    if kind == "file":
        return VideoFileSource(Path(config.uri), realtime=True, loop=config.loop)
    from camera.sources.opencv_live import OpenCVSource

    return OpenCVSource(config)


def refuse_fifo(uri: str) -> None:
    """A FIFO or socket as ``source.uri`` would block the decoder's open() forever (devices are
    fine: ``/dev/video0`` is a character device).  ``ronda run`` asks before it loads the
    models, so the mistake is the first thing said."""
    try:
        mode = os.stat(uri).st_mode
    except (OSError, ValueError):
        return  # a URL, a device index, or a file that does not exist (the source says so)
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        raise SourceError(f"source.uri {shown(uri)} {describe_mode(mode)}")


def open_replay(path: Path, *, realtime: bool = False) -> VideoFileSource:
    """Open one recording for replay; raises :class:`SourceError` with a one-line reason."""
    return VideoFileSource(path, realtime=realtime)


__all__ = ["SourceError", "open_replay", "open_source"]
