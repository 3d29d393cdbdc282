"""Save masks and zones drawn on the page into the configuration file, comments and all.

The new polygons are put into the YAML document with ruamel.yaml's round-trip mode (comments,
key order and the rest of the file stay as the owner wrote them), the resulting text is
validated exactly as ``ronda`` validates a file at start (same model, same messages), and only
then written, atomically.  Nothing of the request becomes a path or a key other than
``motion.masks`` and ``zones``.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from camera.config import ConfigError, RondaConfig, parse_config
from camera.config_file import ConfigIssue

DECIMALS = 4
"""Coordinates are kept to 1/10000 of the picture: finer than a pixel of a 4K frame."""

Points = list[tuple[float, float]]


class AreaError(Exception):
    """The polygons cannot be saved; ``issues`` name the fields (key path and message)."""

    def __init__(self, issues: tuple[ConfigIssue, ...]) -> None:
        super().__init__("\n".join(i.line for i in issues))
        self.issues = issues


@dataclass(frozen=True, slots=True)
class Areas:
    """What the editor sends: masks, and zones by name (relative 0..1 points)."""

    masks: list[Points]
    zones: dict[str, Points]

    @classmethod
    def from_json(cls, data: Any) -> Areas:
        """Shape-check the request body; the values are checked by the config model."""
        if not isinstance(data, dict):
            raise _request_error("(request)", "expected an object with masks and zones")
        masks, zones = data.get("masks", []), data.get("zones", {})
        if not isinstance(masks, list):
            raise _request_error("motion.masks", "expected a list of polygons")
        if not isinstance(zones, dict):
            raise _request_error("zones", "expected a mapping of names to polygons")
        return cls(
            masks=[_points(p, f"motion.masks.{n}") for n, p in enumerate(masks)],
            zones={str(name): _points(p, f"zones.{name}.points") for name, p in zones.items()},
        )


def _request_error(path: str, message: str) -> AreaError:
    return AreaError((ConfigIssue(path, f"{path}: {message}"),))


def _points(polygon: Any, path: str) -> Points:
    if not isinstance(polygon, list) or not all(
        isinstance(p, list)
        and len(p) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)
        for p in polygon
    ):
        raise _request_error(path, "expected a list of [x, y] points")
    return [(round(float(x), DECIMALS), round(float(y), DECIMALS)) for x, y in polygon]


def _flow(points: Points) -> CommentedSeq:
    """``[[x, y], ...]`` on one line: a polygon reads as one value, and the comments beside
    the key stay where the owner put them."""
    seq = CommentedSeq([CommentedSeq(list(point)) for point in points])
    seq.fa.set_flow_style()
    return seq


def _represent_null(representer: Any, _data: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _round_trip() -> YAML:
    yaml_rt = YAML(typ="rt")
    yaml_rt.preserve_quotes = True
    yaml_rt.width = 100
    yaml_rt.indent(mapping=2, sequence=4, offset=2)
    yaml_rt.representer.add_representer(type(None), _represent_null)
    return yaml_rt


def _set_zones(document: CommentedMap, zones: dict[str, Points]) -> None:
    """Update the ``zones`` mapping in place: zones kept keep their comments."""
    current = document.get("zones")
    if not isinstance(current, CommentedMap):
        if not zones and "zones" not in document:
            return
        current = CommentedMap()
        document["zones"] = current
    for name in [n for n in current if n not in zones]:
        del current[name]
    for name, points in zones.items():
        entry = current.get(name)
        if not isinstance(entry, CommentedMap):
            entry = CommentedMap()
            current[name] = entry
        entry["points"] = _flow(points)


def render(text: str, areas: Areas, source: str) -> tuple[str, RondaConfig]:
    """The file's text with the new masks and zones, and the configuration it gives."""
    yaml_rt = _round_trip()
    try:
        document = yaml_rt.load(text) if text.strip() else None
    except YAMLError as error:
        raise AreaError((ConfigIssue("(file)", f"config error in {source}: {error}"),)) from None
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        raise AreaError((ConfigIssue("(file)", f"config error in {source}: not a mapping"),))
    motion = document.get("motion")
    if not isinstance(motion, CommentedMap):
        motion = CommentedMap()
        document["motion"] = motion
    masks = CommentedSeq([_flow(polygon) for polygon in areas.masks])
    masks.fa.set_flow_style()
    motion["masks"] = masks
    _set_zones(document, areas.zones)
    buffer = io.StringIO()
    yaml_rt.dump(document, buffer)
    new_text = buffer.getvalue()
    try:
        config = parse_config(yaml.safe_load(new_text), source)
    except ConfigError as error:
        raise AreaError(error.issues or (ConfigIssue("(file)", str(error)),)) from None
    return new_text, config


def save(path: Path, areas: Areas) -> RondaConfig:
    """Validate and write; returns the new configuration.  Raises ``AreaError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AreaError((_file_issue(path, error),)) from None
    new_text, config = render(text, areas, str(path))
    try:
        _write_atomically(path, new_text)
    except OSError as error:
        raise AreaError((_file_issue(path, error),)) from None
    return config


def _file_issue(path: Path, error: OSError) -> ConfigIssue:
    hint = ""
    if isinstance(error, PermissionError):
        hint = " (the service may not write its configuration: see docs/web.md, Saving)"
    return ConfigIssue("(file)", f"cannot write {path}: {error.strerror}{hint}")


def _write_atomically(path: Path, text: str) -> None:
    """A new file renamed over the old one (same mode), so a crash never leaves half a config;
    where the directory is not writable but the file is, the file is rewritten in place."""
    mode = path.stat().st_mode & 0o7777
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except PermissionError:
        with path.open("r+", encoding="utf-8") as handle:
            handle.write(text)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
        return
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
