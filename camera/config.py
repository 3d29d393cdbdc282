"""The configuration file: one YAML document composed of each stage's own section.

Each stage defines its section beside its code; this module only composes them, loads the file
and turns validation failures into messages an owner can act on: the file, the key path and the
reason, one line each (``ronda`` exits with code 2 on them).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from camera.config_file import (
    ConfigError,
    LoggingSection,
    load_yaml,
    parse_model,
)
from camera.controls.config import ControlsConfig
from camera.detect import DetectorConfig
from camera.events import ThumbnailConfig
from camera.files import shown
from camera.governor import GovernorConfig
from camera.motion import MotionConfig, RegionConfig
from camera.mqtt import MqttConfig
from camera.night import NightConfig
from camera.record.config import ClipsConfig
from camera.section import Section
from camera.site.config import HomeConfig, WebConfig
from camera.sources import SourceConfig
from camera.store import StoreConfig
from camera.track import TrackerConfig
from camera.track.zones import Zone, ZoneName, unknown_alert_zones

log = logging.getLogger(__name__)

CONFIG_ENV = "RONDA_CONFIG"
SEARCH_PATHS = (Path("/etc/ronda/ronda.yaml"), Path("~/.config/ronda/ronda.yaml"))


class CameraSection(Section):
    """Who this camera is: its name appears in topics, events and Home Assistant."""

    name: str = Field("ronda", pattern=r"^[A-Za-z0-9_-]{1,48}$")
    """Letters, digits, ``-`` and ``_`` only: it is part of MQTT topics and entity ids."""

    display_name: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")
    """How people read the camera's name in alerts ("Person at front door, 21:04"): any text on
    one line.
    ``null``: ``name`` with ``_`` and ``-`` read as spaces (``front_door`` -> ``front door``)."""

    @property
    def shown_name(self) -> str:
        """``display_name``, or the default derived from ``name``."""
        return self.display_name or default_display_name(self.name)


def default_display_name(name: str) -> str:
    """``front_door`` -> ``front door``: the id as words, case kept (it is what the owner typed)."""
    return " ".join(name.replace("_", " ").replace("-", " ").split()) or name


class RondaConfig(Section):
    """The whole file; every section is optional and defaults to the documented values."""

    camera: CameraSection = CameraSection()
    source: SourceConfig = SourceConfig()
    motion: MotionConfig = MotionConfig()
    night: NightConfig = NightConfig()
    regions: RegionConfig = RegionConfig()
    detector: DetectorConfig = DetectorConfig()
    tracker: TrackerConfig = TrackerConfig()
    thumbnail: ThumbnailConfig = ThumbnailConfig()
    store: StoreConfig = StoreConfig()
    clips: ClipsConfig = ClipsConfig()
    mqtt: MqttConfig = MqttConfig()
    governor: GovernorConfig = GovernorConfig()
    zones: dict[ZoneName, Zone] = Field(default_factory=dict, max_length=32)
    """Named areas of the picture, ``name: {points: [[x, y], ...]}`` in relative 0..1
    coordinates like ``motion.masks`` (the web page draws them).  Events record the zones their
    object entered (its feet: the bottom centre of its box); MQTT keeps a retained count per
    zone and label; ``tracker.labels.<label>.alert_zones`` picks the zones whose visits alert."""
    web: WebConfig = WebConfig()
    home: HomeConfig = HomeConfig()
    controls: ControlsConfig = ControlsConfig()
    logging: LoggingSection = LoggingSection()

    @model_validator(mode="after")
    def _alert_zones_exist(self) -> RondaConfig:
        """An ``alert_zones`` entry must name a zone: a typo would silence every alert."""
        rules = {label: r.alert_zones for label, r in self.tracker.labels.by_label().items()}
        unknown = unknown_alert_zones(rules, self.zones)
        if unknown:
            defined = ", ".join(sorted(self.zones)) or "none"
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError(
                            "unknown_zone", f"unknown zone (defined under zones: {defined})"
                        ),
                        loc=problem.location,
                        input=problem.name,
                    )
                    for problem in unknown
                ],
            )
        return self

    @property
    def topic_prefix(self) -> str:
        return self.mqtt.topic_prefix or f"ronda/{self.camera.name}"

    @property
    def client_id(self) -> str:
        return self.mqtt.client_id or f"ronda-{self.camera.name}"


def parse_config(data: Any, source: str = "<config>") -> RondaConfig:
    """Validate already-parsed YAML data."""
    return parse_model(RondaConfig, data, source)


def load_config(path: Path | None) -> tuple[RondaConfig, Path | None]:
    """Load ``path``, or the first existing default location, or the built-in defaults."""
    if path is None:
        path = find_config()
        if path is None:
            return RondaConfig(), None
    path = Path(path).expanduser()
    return parse_config(load_yaml(path), shown(path)), path


def find_config() -> Path | None:
    """``$RONDA_CONFIG``, then ``/etc/ronda/ronda.yaml``, then ``~/.config/ronda/ronda.yaml``."""
    if env := os.environ.get(CONFIG_ENV):
        return Path(env)
    for candidate in SEARCH_PATHS:
        if candidate.expanduser().is_file():
            return candidate.expanduser()
    return None


class ConfigFileWatch:
    """Notices a changed configuration file (``ronda web`` saving masks and zones while the
    service runs): ``poll()`` looks at the file's modification time at most every
    ``interval_s`` and returns the new configuration once per change, or None.  A file that no
    longer validates is logged once and ignored: the running configuration stays."""

    def __init__(self, path: Path, interval_s: float = 2.0) -> None:
        self.path = path
        self.interval_s = interval_s
        self._next = time.monotonic() + interval_s
        self._stamp = self._modified()

    def _modified(self) -> int | None:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return None

    def poll(self) -> RondaConfig | None:
        now = time.monotonic()
        if now < self._next:
            return None
        self._next = now + self.interval_s
        stamp = self._modified()
        if stamp == self._stamp or stamp is None:
            return None
        self._stamp = stamp
        try:
            config, _ = load_config(self.path)
        except ConfigError as error:
            log.error("the changed configuration is not used (the running one stays):\n%s", error)
            return None
        return config
