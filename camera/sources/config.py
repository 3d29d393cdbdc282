"""Configuration of the frame source."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from camera.section import Section


class SourceConfig(Section):
    """Where live frames come from (``ronda run``); replay takes its files from the command line."""

    kind: Literal["auto", "opencv", "picamera2", "file"] = "auto"
    """``auto``: picamera2 when ``uri`` is ``picamera2``, a file when it names one, else OpenCV."""
    uri: str = "picamera2"
    """``picamera2``, a device index (``0``), a device path, an RTSP/HTTP URL or a file."""
    width: int = Field(1280, ge=160, le=4096)
    height: int = Field(720, ge=120, le=3072)
    fps: float = Field(10.0, gt=0, le=60)
    lores_width: int = Field(320, ge=64, le=1280)
    lores_height: int = Field(240, ge=48, le=960)
    reconnect_min_s: float = Field(1.0, gt=0, le=60)
    reconnect_max_s: float = Field(30.0, gt=0, le=600)
    stall_timeout_s: float = Field(10.0, gt=0, le=600)
    """A live source that delivers no frame for this long is reopened."""
