"""Event updates (the alert payload) and their thumbnails."""

from camera.events.model import EventUpdate, build_update
from camera.events.thumbnail import ThumbnailConfig, render_thumbnail

__all__ = ["EventUpdate", "ThumbnailConfig", "build_update", "render_thumbnail"]
