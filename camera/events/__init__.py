"""Event updates (the alert payload) and their thumbnails."""

from camera.events.model import ClipRef, EventUpdate, build_update, clip_url
from camera.events.thumbnail import ThumbnailConfig, render_thumbnail

__all__ = [
    "ClipRef",
    "EventUpdate",
    "ThumbnailConfig",
    "build_update",
    "clip_url",
    "render_thumbnail",
]
