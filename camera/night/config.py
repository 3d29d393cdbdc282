"""The ``night:`` section: when the picture counts as night, and the values that apply then.

Motion can adapt to the dark (``motion.low_light``, docs/motion.md); what the owner may change
at night is what they would change by hand: the motion sensitivity and the alert threshold of
each label (a person in infrared scores lower than by day).  Values left at null stay as by
day, i.e. as ``motion.sensitivity``, ``tracker.labels.<label>.threshold`` and the controls say.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from camera.motion.config import Sensitivity
from camera.section import Section

Score = Annotated[float, Field(gt=0.0, le=1.0)]


class NightThresholds(Section):
    """Per-label alert thresholds at night (null: as by day)."""

    person: Score | None = None
    """``tracker.labels.person.threshold`` while it is night."""
    pet: Score | None = None
    """``tracker.labels.pet.threshold`` while it is night."""


class NightConfig(Section):
    """Night awareness: Ronda tells day from a dark or infrared picture (reported in the stats,
    to Home Assistant and on the web page) and switches to the night values below by itself."""

    enabled: bool = True
    """Switch to the night values at night (false: the day values always; the light is still
    measured and reported)."""
    sensitivity: Sensitivity | None = None
    """``motion.sensitivity`` while it is night (null: as by day)."""
    thresholds: NightThresholds = NightThresholds()
    """Alert thresholds per label while it is night."""
    dark_luma: Annotated[float, Field(gt=0, le=255)] = 50.0
    """Night when the picture's mean brightness (0..255) falls below this: the camera's
    auto-exposure can no longer hold it up (about 1.3 lux for a Pi Camera v2 class sensor at
    1/10 s in the sensor model of docs/motion.md).  Used when the camera reports no lux."""
    day_luma: Annotated[float, Field(gt=0, le=255)] = 75.0
    """Day again once the mean brightness rises above this (the gap keeps it from flapping)."""
    dark_lux: Annotated[float, Field(gt=0, le=100000)] = 10.0
    """With a Pi camera: night when the ISP's lux estimate falls below this."""
    day_lux: Annotated[float, Field(gt=0, le=100000)] = 20.0
    """With a Pi camera: day again once the lux estimate rises above this."""
    infrared_colourfulness: Annotated[float, Field(ge=0, le=1)] = 0.012
    """Infrared (a monochrome picture) when the colourfulness falls below this.  Daylight
    footage measured 0.021 (grey asphalt) to 0.47; infrared renders 0.000-0.011."""
    colour_colourfulness: Annotated[float, Field(ge=0, le=1)] = 0.018
    """Colour again once the colourfulness rises above this."""
    dwell_s: Annotated[float, Field(ge=0, le=3600)] = 20.0
    """A new light state must hold this long (frame time) before it counts: headlights sweeping
    a dark yard or a cloud over the sun do not switch the values.  The first look after a
    start decides at once."""
    sample_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    """How often the light is measured, in seconds of frame time."""

    @model_validator(mode="after")
    def _ordered(self) -> NightConfig:
        if self.day_luma <= self.dark_luma:
            raise ValueError("night.day_luma must be above night.dark_luma")
        if self.day_lux <= self.dark_lux:
            raise ValueError("night.day_lux must be above night.dark_lux")
        if self.colour_colourfulness <= self.infrared_colourfulness:
            raise ValueError(
                "night.colour_colourfulness must be above night.infrared_colourfulness"
            )
        return self
