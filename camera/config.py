"""The configuration file: one YAML document composed of each stage's own section.

Each stage defines its section beside its code; this module only composes them, loads the file
and turns validation failures into messages an owner can act on: the file, the key path and the
reason, one line each (``ronda`` exits with code 2 on them).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from camera.controls.config import ControlsConfig
from camera.detect import DetectorConfig
from camera.events import ThumbnailConfig
from camera.files import UnusableFile, read_small, shown
from camera.governor import GovernorConfig
from camera.home.config import HomeConfig
from camera.motion import MotionConfig, RegionConfig
from camera.mqtt import MqttConfig
from camera.record.config import ClipsConfig
from camera.section import Section, plain_types
from camera.sources import SourceConfig
from camera.store import StoreConfig
from camera.track import TrackerConfig
from camera.track.zones import Zone, ZoneName, unknown_alert_zones
from camera.web.config import WebConfig

log = logging.getLogger(__name__)

CONFIG_ENV = "RONDA_CONFIG"
SEARCH_PATHS = (Path("/etc/ronda/ronda.yaml"), Path("~/.config/ronda/ronda.yaml"))


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem: the dotted key path and the full line ``ronda`` prints for it."""

    path: str
    line: str


class ConfigError(Exception):
    """A configuration that cannot be used; ``str()`` is the user-facing text, ``issues`` the
    same lines with their key paths (the web editor shows each next to its field)."""

    def __init__(self, text: str, issues: tuple[ConfigIssue, ...] = ()) -> None:
        super().__init__(text)
        self.issues = issues


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


class LoggingSection(Section):
    """How much Ronda tells the journal (or the terminal)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """``INFO`` logs events, connections and governor changes; ``DEBUG`` adds per-frame
    housekeeping (background realignment, region plans)."""


class RondaConfig(Section):
    """The whole file; every section is optional and defaults to the documented values."""

    camera: CameraSection = CameraSection()
    source: SourceConfig = SourceConfig()
    motion: MotionConfig = MotionConfig()
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


MAX_CONFIG_BYTES = 1_000_000
"""A Ronda config is a few KB; a megabyte is a wrong file (a video, a log), not a config."""
MAX_CONFIG_VALUES = 100_000
"""Values after YAML aliases are expanded: a "billion laughs" file expands to 10^9 from a few
lines and would keep the validator busy for hours."""
MAX_CONFIG_DEPTH = 64
_ECHO_CHARS = 60
_NO_ECHO = {"missing", "value_error"}  # Ronda's own messages already name what is wrong


def _issues(error: ValidationError, source: str) -> tuple[ConfigIssue, ...]:
    issues = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "(top level)"
        reason = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            reason = "unknown key (check the spelling against config/ronda.example.yaml)"
        elif item["type"] not in _NO_ECHO and _may_echo(item["loc"], item.get("input")):
            reason = f"{reason} (got {_echo(item['input'])})"
        issues.append(ConfigIssue(path, f"config error in {source}: {path}: {reason}"))
    return tuple(issues)


def _may_echo(loc: tuple[int | str, ...], value: object) -> bool:
    """Show the offending value only when it is a plain value of a non-secret option: never a
    whole section (it may hold the password), never a ``SecretStr`` field."""
    if not isinstance(value, str | int | float | bool) or value is None:
        return False
    model: Any = RondaConfig
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not isinstance(part, str) or not fields or part not in fields:
            return True
        annotation = fields[part].annotation
        if SecretStr in plain_types(annotation):
            return False
        model = next((t for t in plain_types(annotation) if hasattr(t, "model_fields")), None)
    return True


def _echo(value: object) -> str:
    text = repr(value)
    if len(text) <= _ECHO_CHARS:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else "long"
    return f"{text[:_ECHO_CHARS]}… ({size})"


def parse_config(data: Any, source: str = "<config>") -> RondaConfig:
    """Validate already-parsed YAML data."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config error in {source}: the file must be a mapping of sections")
    _check_size(data, source)
    try:
        return RondaConfig.model_validate(data)
    except ValidationError as error:
        issues = _issues(error, source)
        raise ConfigError("\n".join(i.line for i in issues), issues) from None


def _check_size(data: object, source: str) -> None:
    """Refuse alias bombs and absurd nesting before the validator walks them."""
    stack: list[tuple[object, int]] = [(data, 0)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > MAX_CONFIG_VALUES:
            raise ConfigError(
                f"config error in {source}: too large: more than {MAX_CONFIG_VALUES:,} values "
                "once YAML aliases are expanded"
            )
        if depth > MAX_CONFIG_DEPTH:
            raise ConfigError(
                f"config error in {source}: nested more than {MAX_CONFIG_DEPTH} levels deep"
            )
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def read_config_text(path: Path) -> str:
    """The text of the config file at ``path``, or a ConfigError saying why it cannot be one."""
    try:
        data = read_small(path, MAX_CONFIG_BYTES)
    except UnusableFile as problem:
        reason = str(problem)
        if reason == "does not exist":
            raise ConfigError(f"config error: file {shown(path)} does not exist") from None
        raise ConfigError(f"config error: cannot read {shown(path)}: {reason}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(
            f"config error in {shown(path)}: the file is UTF-16 text; save it as UTF-8"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"config error in {shown(path)}: not UTF-8 text (byte {error.start} is "
            f"0x{data[error.start]:02x}); is this the right file?"
        ) from None


def load_config(path: Path | None) -> tuple[RondaConfig, Path | None]:
    """Load ``path``, or the first existing default location, or the built-in defaults."""
    if path is None:
        path = find_config()
        if path is None:
            return RondaConfig(), None
    path = Path(path).expanduser()
    text = read_config_text(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or getattr(error, "reason", None)
        raise ConfigError(
            f"config error in {shown(path)}{where}: {problem or 'invalid YAML'}"
        ) from None
    except RecursionError:
        raise ConfigError(
            f"config error in {shown(path)}: nested more than {MAX_CONFIG_DEPTH} levels deep"
        ) from None
    return parse_config(data, shown(path)), path


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
