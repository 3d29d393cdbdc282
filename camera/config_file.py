"""A configuration file: reading it, parsing its YAML, and turning validation failures into
messages an owner can act on (the file, the key path and the reason, one line each).

Model-agnostic and light (pydantic and PyYAML only): ``camera.config`` composes the camera's
file from every stage's section; ``ronda home`` validates its own, smaller model with the same
rules and messages, without importing the camera's stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from camera.files import UnusableFile, read_small, shown
from camera.section import Section, plain_types

Model = TypeVar("Model", bound=BaseModel)


class LoggingSection(Section):
    """How much Ronda tells the journal (or the terminal)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """``INFO`` logs events, connections and governor changes; ``DEBUG`` adds per-frame
    housekeeping (background realignment, region plans)."""


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


MAX_CONFIG_BYTES = 1_000_000
"""A Ronda config is a few KB; a megabyte is a wrong file (a video, a log), not a config."""
MAX_CONFIG_VALUES = 100_000
"""Values after YAML aliases are expanded: a "billion laughs" file expands to 10^9 from a few
lines and would keep the validator busy for hours."""
MAX_CONFIG_DEPTH = 64
_ECHO_CHARS = 60
_NO_ECHO = {"missing", "value_error"}  # Ronda's own messages already name what is wrong


def _issues(error: ValidationError, source: str, model: type[BaseModel]) -> tuple[ConfigIssue, ...]:
    issues = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "(top level)"
        reason = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            reason = "unknown key (check the spelling against config/ronda.example.yaml)"
        elif item["type"] not in _NO_ECHO and _may_echo(item["loc"], item.get("input"), model):
            reason = f"{reason} (got {_echo(item['input'])})"
        issues.append(ConfigIssue(path, f"config error in {source}: {path}: {reason}"))
    return tuple(issues)


def _may_echo(loc: tuple[int | str, ...], value: object, root: type[BaseModel]) -> bool:
    """Show the offending value only when it is a plain value of a non-secret option: never a
    whole section (it may hold the password), never a ``SecretStr`` field."""
    if not isinstance(value, str | int | float | bool) or value is None:
        return False
    model: Any = root
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


def parse_model(model: type[Model], data: Any, source: str = "<config>") -> Model:
    """Validate already-parsed YAML data against ``model`` (the whole file's model)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config error in {source}: the file must be a mapping of sections")
    _check_size(data, source)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        issues = _issues(error, source, model)
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


def load_yaml(path: Path) -> Any:
    """The YAML data of the file at ``path``, or a ConfigError saying why there is none."""
    text = read_config_text(path)
    try:
        return yaml.safe_load(text)
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
