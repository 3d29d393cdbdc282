"""Event updates (the alert payload), the one place they are assembled, and their thumbnails."""

from camera.events.model import ClipRef, EventUpdate, clip_url
from camera.events.publisher import EventAssembler, EventPublisher
from camera.events.thumbnail import ThumbnailConfig, render_thumbnail

__all__ = [
    "ClipRef",
    "EventAssembler",
    "EventPublisher",
    "EventUpdate",
    "ThumbnailConfig",
    "clip_url",
    "render_thumbnail",
]
