"""The base class every configuration section derives from.

Each stage owns its configuration model (``MotionConfig`` lives beside the motion stage, and so
on); ``camera.config`` only composes them into the file layout.  The base makes every section
strict: an unknown key, a wrong type or an out-of-range value is an error naming the key, never a
silent default.  Three rules hold for every option of every section, so no stage can forget them:

* numbers are finite: ``.nan`` and ``.inf`` are refused (a NaN timeout compares false with
  everything and waits forever; an infinite interval never polls);
* text and paths never contain a NUL byte (no file or topic can), and a path is never the empty
  string (``Path("")`` is the current directory: leave the option out to get its default);
* a nested option can be set alone: ``governor.heat.hot.fps: 3`` keeps ``hot.at`` and the rest
  of that step's defaults, whatever the defaults of the nested model itself are.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator


class Section(BaseModel):
    """Strict, immutable configuration section."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_default=True,
        use_attribute_docstrings=True,
        allow_inf_nan=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _keep_nested_defaults(cls, data: Any) -> Any:
        """Fill each nested section given as a mapping with its default's values first.

        Without this, ``heat: {hot: {fps: 3}}`` would build ``StepConfig(fps=3)`` from scratch:
        ``at`` would be missing, and a default that differs from the nested class's own (the pet
        rule's ``min_area``) would silently change.
        """
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, field in cls.model_fields.items():
            given = merged.get(name)
            default = field.default
            if isinstance(given, dict) and isinstance(default, Section):
                merged[name] = {**default.model_dump(exclude_unset=False), **given}
        return merged

    @field_validator("*", mode="before")
    @classmethod
    def _no_empty_paths(cls, value: Any, info: ValidationInfo) -> Any:
        if value == "" and info.field_name and Path in _plain_types(cls, info.field_name):
            raise ValueError("an empty path; leave the option out to use its default")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_bytes(cls, value: Any) -> Any:
        if isinstance(value, str | Path) and "\0" in str(value):
            raise ValueError("contains a NUL byte")
        return value


def _plain_types(model: type[BaseModel], name: str) -> set[Any]:
    return plain_types(model.model_fields[name].annotation)


def plain_types(annotation: Any) -> set[Any]:
    """``Path | None`` -> ``{Path, NoneType}`` (``Annotated`` layers removed)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return plain_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(plain_types(arg) for arg in typing.get_args(annotation)))
    return {annotation}
