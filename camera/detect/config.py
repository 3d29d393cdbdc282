"""Configuration of the detector stage (the ``detector:`` section of the config file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from camera.section import Section


class DetectorConfig(Section):
    """Which models to load and how candidates are filtered.

    ``min_score`` is only the candidate floor handed to the tracker; the per-label alert
    thresholds live in the tracker, which sees a detection over several frames.
    """

    manifest: Path | None = None
    """The models manifest; ``null``: the bundled ``models/manifest.json``."""
    variant: str = Field(default="auto", min_length=1, max_length=64)
    """``auto``: time every variant on this device at the first start (cached) and run the most
    accurate one whose latency fits ``budget_ms`` (int8 ones only on a board, or under a
    ``MemoryMax=``, with less than 1 GB of memory); or the name of a manifest variant
    (``ronda models`` lists them, e.g. ``nanodet-g416-int8``) to run that one.  Either way the
    governor may step down to cheaper variants when hot, on battery or overloaded."""
    budget_ms: float = Field(default=300.0, gt=0, le=60_000, allow_inf_nan=False)
    """With ``variant: auto``, the most one inference (one crop, ``threads`` threads) may take.
    Accuracy first: on the footage the 320 px variants find 21-33 points fewer person frames at
    the alert threshold than the 416 px ones, while a slower model only costs frame rate, which
    the load level lowers evenly while someone moves in view.  300 ms keeps int8 416 on a Pi 4
    with 2 threads (an estimated 240 ms; 120 ms with 4, see the Models page) and leaves the
    320 px models to boards where nothing else fits (a Zero 2 W)."""
    threads: int = Field(default=2, ge=1, le=8)
    """CPU threads per inference (Pi 4/5: 2-4; Zero 2 W: 2); the timing at start uses as many."""
    min_score: float = Field(default=0.3, gt=0.0, le=1.0)
    """Candidate floor handed to the tracker (the alert thresholds are per label there)."""
    nms_iou: float = Field(default=0.5, gt=0.0, le=1.0)
    """Overlap above which two boxes of one label are one object."""

    @model_validator(mode="before")
    @classmethod
    def _no_precision(cls, data: Any) -> Any:
        if isinstance(data, dict) and "precision" in data:
            raise ValueError(
                "detector.precision was replaced by detector.variant: write `variant: auto` "
                "(the device picks float32 where it can afford it and the governor switches to "
                "int8 when hot) or pin one, e.g. `variant: nanodet-g416-int8` (`ronda models` "
                "lists them)"
            )
        return data
