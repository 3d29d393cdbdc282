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

    manifest: Path | None = None
    """The model manifest; null = the bundled ``models/manifest.json``."""
    precision: Precision = "int8"
    """What runs when the device is cool and powered (``int8`` or ``float32``); the
    governor switches to int8 when warm (no effect if already int8)."""
    threads: int = Field(default=2, ge=1, le=8)
    """Inference threads (Pi 4/5: 2-4; Zero 2 W: 2)."""
    min_score: float = Field(default=0.3, gt=0.0, le=1.0)
    """Candidate floor handed to the tracker; alerts need the per-label threshold."""
    nms_iou: float = Field(default=0.5, gt=0.0, le=1.0)
    """Overlap above which two boxes are taken as the same object."""
