"""Configuration of the detector stage (the ``detector:`` section of the config file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from camera.section import Section
from camera.types import Precision


class DetectorConfig(Section):
    """Which models to load and how candidates are filtered.

    ``min_score`` is only the candidate floor handed to the tracker; the per-label alert
    thresholds live in the tracker, which sees a detection over several frames.
    """

    manifest: Path | None = None  # None: the bundled models/manifest.json
    precision: Precision = "int8"  # start precision; the governor may switch it at run time
    threads: int = Field(default=2, ge=1, le=8)
    min_score: float = Field(default=0.3, gt=0.0, le=1.0)
    nms_iou: float = Field(default=0.5, gt=0.0, le=1.0)
