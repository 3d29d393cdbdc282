"""Choose and open the right source for a configuration or a list of recordings."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import urlsplit

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
        return VideoFileSource(
            Path(config.uri),
            realtime=config.realtime,
            loop=config.loop,
            loop_gap_s=config.loop_gap_s,
        )
    from camera.sources.opencv_live import OpenCVSource

    check_opencv_uri(config.uri)
    return OpenCVSource(config)


STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt"})
"""Network streams OpenCV's FFmpeg backend reads (``source.uri``)."""


def check_opencv_uri(uri: str) -> None:
    """What can be told without opening the camera, so that ``ronda run`` says it before the
    models load (a second or more; on a Pi Zero tens of seconds when they are timed) instead of
    retrying forever: a device index or path with no device behind it, or a text that is no
    device, no stream URL and no file.  A device that exists but fails, or a stream that does not
    answer, is the source's business: it reopens with backoff, as after an outage."""
    from camera.sources.opencv_live import redact_uri

    if uri.isdigit():
        device = Path(f"/dev/video{uri}")
        if Path("/dev").is_dir() and not device.exists():
            raise SourceError(
                f"source.uri {uri}: there is no {device} (is the camera plugged in? "
                "`v4l2-ctl --list-devices` lists them)"
            )
        return
    if Path(uri).exists():
        return  # a device path or a file OpenCV reads
    if uri.startswith("/dev/"):
        raise SourceError(f"source.uri {shown(uri)}: no such device (is the camera plugged in?)")
    parsed = urlsplit(uri)
    if parsed.scheme.lower() in STREAM_SCHEMES and parsed.netloc:
        return
    raise SourceError(
        f"source.uri {redact_uri(uri)!r} is neither picamera2, a device (0, /dev/video0), a "
        "stream URL (rtsp://host/path, http://...) nor an existing file"
    )


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
