"""Configuration of event clips (``clips:``): how long, how good, and how much disk and memory.

The defaults fit a Raspberry Pi Zero 2 W with a 16-32 GB SD card: docs/clips.md says which
measurement each one comes from.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from camera.section import Section


class ClipLabels(Section):
    """Which kinds of event get a clip."""

    person: bool = True
    """Record a clip of every person event."""
    pet: bool = True
    """Record a clip of every pet (cat, dog) event."""
    motion: bool = False
    """Record motion-only events too (only while the governor has paused the detector); off by
    default because such events are mostly light and shadows."""

    def wants(self, label: str) -> bool:
        return bool(getattr(self, label, False))


class ClipsConfig(Section):
    """Event clips: a short H.264 MP4 per event, from before it started to after it ended."""

    enabled: bool = True
    """Record clips at all. Off: no encoder runs and events carry ``clip: null``."""
    pre_s: float = Field(5.0, ge=0.0, le=30.0)
    """Seconds of video before the event's first confirming frame (the pre-roll)."""
    post_s: float = Field(5.0, ge=0.0, le=60.0)
    """Seconds of video after the event's end."""
    max_s: float = Field(120.0, ge=5.0, le=1800.0)
    """Longest recording; a longer scene is cut here and a later event opens a new one."""
    fps: float = Field(10.0, gt=0.0, le=60.0)
    """Highest frame rate of a clip (software encoding); the governor may lower it."""
    reduced_fps: float = Field(2.0, gt=0.0, le=30.0)
    """Frame rate of clips while the governor's level says ``clips: reduced`` (by default the
    critical heat and battery levels; ``governor.heat.critical.clips`` chooses)."""
    labels: ClipLabels = ClipLabels()
    """Per-label on/off."""
    encoder: str = Field("libx264", pattern=r"^[a-z0-9_]{2,32}$")
    """H.264 encoder of PyAV's FFmpeg for frames that arrive unencoded (USB, RTSP, replay, and
    the Pi 5 camera); the Pi 4 and older camera uses its hardware encoder instead."""
    crf: int = Field(28, ge=15, le=40)
    """Quality of software-encoded clips (x264 CRF: lower is better and larger; 28 keeps a 720p
    scene around 6 MB a minute)."""
    bitrate_kbps: int = Field(2000, ge=200, le=25_000)
    """Target bitrate of the Pi's hardware encoder (it has no CRF)."""
    keyframe_interval_s: float = Field(2.0, ge=0.2, le=10.0)
    """Seconds between keyframes: the pre-roll keeps up to this much extra video, and a crash
    loses at most the frames after the last complete packet, whatever this is."""
    preroll_max_megabytes: float = Field(16.0, ge=1.0, le=512.0)
    """Hard bound on the pre-roll buffer (encoded packets); the oldest keyframe interval goes
    first."""
    queue_frames: int = Field(8, ge=2, le=120)
    """Frames waiting for the encoder at most. A live camera drops clip frames beyond this (and
    counts them) rather than slowing detection; a replay waits instead."""
    retention_days: float = Field(7.0, gt=0.0, le=3650.0)
    """Clips older than this are deleted (their events stay, with ``clip: null``)."""
    max_gigabytes: float = Field(2.0, gt=0.0, le=10_000.0)
    """Disk used by clips at most; the oldest go first."""
    min_free_megabytes: float = Field(256.0, ge=1.0, le=100_000.0)
    """Free space always left on the state directory's disk: below it clips stop (the event
    store and the alert outbox keep room to write), and restart once there is room again."""

    @model_validator(mode="after")
    def _reduced_below_fps(self) -> ClipsConfig:
        if self.reduced_fps > self.fps:
            raise ValueError("clips.reduced_fps must not be above clips.fps")
        return self
