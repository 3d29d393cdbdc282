"""The configuration sections the frame loop is built from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from camera.events import ThumbnailConfig
from camera.motion import MotionConfig, RegionConfig
from camera.night import NightConfig
from camera.track import TrackerConfig
from camera.track.zones import Zone


@dataclass(frozen=True)
class StageConfigs:
    """The configuration sections the frame loop needs (data handed in, not looked up)."""

    motion: MotionConfig
    regions: RegionConfig
    tracker: TrackerConfig
    thumbnail: ThumbnailConfig
    zones: Mapping[str, Zone] = field(default_factory=dict)
    night: NightConfig = field(default_factory=NightConfig)
