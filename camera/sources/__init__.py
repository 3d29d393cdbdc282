"""Frame sources: one protocol, one small module per kind of camera or recording."""

from camera.sources.base import FrameSource, LiveTiming, SourceError
from camera.sources.config import SourceConfig
from camera.sources.factory import open_replay, open_source

__all__ = ["FrameSource", "LiveTiming", "SourceConfig", "SourceError", "open_replay", "open_source"]
