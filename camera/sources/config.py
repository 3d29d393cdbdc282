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
    """Main stream width in px: detector crops, thumbnails and clips come from it."""
    height: int = Field(720, ge=120, le=3072)
    """Main stream height in px."""
    fps: float = Field(10.0, gt=0, le=60)
    """Capture rate; the governor may lower it."""
    lores_width: int | None = Field(None, ge=64, le=1280)
    """picamera2 only: width of the small YUV stream whose Y plane feeds motion; ``null``: the
    main stream's aspect ratio at ``lores_height``."""
    lores_height: int | None = Field(None, ge=48, le=960)
    """picamera2 only: its height; ``null``: the motion stage's working height (``motion.height``,
    100 rows at the default sensitivity), so motion needs no resize at all."""
    reconnect_min_s: float = Field(1.0, gt=0, le=60)
    """A camera or stream that fails is reopened after this, doubling each time up to
    ``reconnect_max_s`` (jittered); Ronda never exits because of it."""
    reconnect_max_s: float = Field(30.0, gt=0, le=600)
    """Longest wait between two reopen attempts."""
    loop: bool = False
    """``file`` only: start the recording again at its end instead of stopping (demos, tests)."""
    loop_gap_s: float = Field(0.0, ge=0.0, le=86400.0)
    """``file`` with ``loop`` only: seconds of the timeline between two passes, a quiet stretch
    with no frames (``bench/soak.py`` makes a day of video from a short clip this way)."""
    realtime: bool = True
    """``file`` only: play at the recording's pace like a camera, dropping the frames the loop is
    too busy for; false: every frame, as fast as the CPU allows, on the recording's timeline
    (soaks and benchmarks)."""
    stall_timeout_s: float = Field(10.0, gt=0, le=600)
    """A live source that delivers no frame for this long is reopened."""

    def pi_camera(self) -> bool:
        """The source is the Pi's CSI camera through picamera2 (the only one with a sensor
        network: the AI Camera)."""
        return self.kind == "picamera2" or (self.kind == "auto" and self.uri == "picamera2")
