"""The base class every configuration section derives from.

Each stage owns its configuration model (``MotionConfig`` lives beside the motion stage, and so
on); ``camera.config`` only composes them into the file layout.  The base makes every section
strict: an unknown key, a wrong type or an out-of-range value is an error naming the key, never a
silent default.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Strict, immutable configuration section."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, use_attribute_docstrings=True
    )
