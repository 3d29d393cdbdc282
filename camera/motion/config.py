"""Configuration of the motion stage and of region planning.

``MotionConfig`` has one knob most users touch (``sensitivity``) and numeric options that default
to ``None`` = "take the value from the preset".  An explicit number always wins over the preset.
``MotionConfig.resolve()`` turns the pair into a plain, fully-populated ``MotionParams`` that the
detector uses, so the rest of the stage never has to know about presets.

README "Motion" documents every option and which evidence each default came from.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Literal

from pydantic import Field, field_validator

from camera.section import Section

Sensitivity = Literal["low", "medium", "high"]
Fraction = Annotated[float, Field(gt=0, le=1)]
Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class MotionParams:
    """Every numeric motion option, resolved (preset filled in, explicit values applied)."""

    # Height in pixels of the grayscale frame motion works on; width follows the aspect ratio.
    height: int
    # Smallest brightness difference (0..255, after a 3x3 blur at motion size) from the
    # background that counts as change.  Raised automatically above the measured noise floor.
    threshold: float
    # Multiple of the estimated noise sigma that the threshold never goes below (night noise).
    noise_factor: float
    # Smallest blob that counts: its changed pixels as a fraction of the motion frame's area
    # (blobs touching the frame's edge need twice that).
    min_area: float
    # Consecutive frames a blob must be seen (in about the same place) before it is reported.
    persistence_frames: int
    # How fast the recent background absorbs something that stopped moving, per second
    # (1 / time constant); a stopped object stops being motion after a few time constants.
    learning_rate: float
    # Fraction of the unmasked frame changed (after gain compensation) that means "light change".
    light_change_fraction: float
    # Relative global brightness jump within one frame that means "light change" (0.15 = 15 %).
    light_step: float
    # Frames after a light change during which the background re-learns fast and no motion is
    # reported.
    relearn_frames: int
    # Adapt to a dark picture: the threshold follows the scene's brightness down while the noise
    # measured against the background holds it up (``lowlight.py``).  Off by default until it
    # keeps the eval gate's infrared lawn at one alert per visit (docs/motion.md).
    low_light: bool = False


PRESETS: dict[Sensitivity, MotionParams] = {
    "low": MotionParams(
        height=100,
        threshold=28.0,
        noise_factor=6.0,
        min_area=0.0015,
        persistence_frames=4,
        learning_rate=0.4,
        light_change_fraction=0.45,
        light_step=0.12,
        relearn_frames=8,
    ),
    "medium": MotionParams(
        height=100,
        threshold=22.0,
        noise_factor=5.0,
        min_area=0.0008,
        persistence_frames=3,
        learning_rate=0.2,
        light_change_fraction=0.5,
        light_step=0.15,
        relearn_frames=6,
    ),
    "high": MotionParams(
        height=144,
        threshold=18.0,
        noise_factor=4.0,
        min_area=0.0004,
        persistence_frames=2,
        learning_rate=0.15,
        light_change_fraction=0.6,
        light_step=0.2,
        relearn_frames=4,
    ),
}


class MotionConfig(Section):
    """What counts as motion.  Numeric options left at null come from the ``sensitivity``
    preset; a number overrides it."""

    sensitivity: Sensitivity = "medium"
    """Preset for every numeric option left at null: ``low``, ``medium`` or ``high``
    (see the Motion page for the table and the evidence behind it)."""
    height: Annotated[int, Field(ge=32, le=480)] | None = None
    """Height in px of the grey frame motion works on (preset 100 / 100 / 144)."""
    threshold: Annotated[float, Field(ge=1, le=255)] | None = None
    """Grey-level difference from the background that counts as change (28 / 22 / 18)."""
    noise_factor: Annotated[float, Field(ge=0, le=20)] | None = None
    """The threshold never drops below this many sigmas of the measured sensor noise
    (6 / 5 / 4): what keeps night noise quiet."""
    min_area: Fraction | None = None
    """Smallest blob that counts, as a fraction of the frame (0.0015 / 0.0008 / 0.0004)."""
    persistence_frames: Annotated[int, Field(ge=1, le=30)] | None = None
    """Frames a blob must persist before it wakes the detector (4 / 3 / 2)."""
    learning_rate: Annotated[float, Field(gt=0, le=10)] | None = None
    """Per second: how fast the background absorbs change (0.4 / 0.2 / 0.15)."""
    light_change_fraction: Fraction | None = None
    """Share of the frame changing at once that means a light change, not
    motion (0.45 / 0.5 / 0.6)."""
    light_step: Annotated[float, Field(gt=0, le=10)] | None = None
    """Relative jump of the global brightness that means a light change
    (0.12 / 0.15 / 0.2)."""
    relearn_frames: Annotated[int, Field(ge=1, le=300)] | None = None
    """Frames of fast re-learning after a light change (8 / 6 / 4)."""
    low_light: bool = False
    """Adapt to a dark picture: in a scene darker than daylight footage, the threshold follows
    its brightness down (so a person in a dark yard still wakes motion) while the noise measured
    against the background holds it up.  Off by default for now: on, a walker at 0.5 lux wakes
    motion on about twice as many frames, but the eval gate's infrared lawn splits one visit in
    two (docs/motion.md has both measured)."""
    masks: list[list[Point]] = Field(default_factory=list)
    """Polygons where motion is ignored (a tree, a road, a TV), each a list of ``[x, y]`` points
    in relative coordinates (0..1 of width and height) so they survive a resolution change."""

    @field_validator("masks")
    @classmethod
    def _check_masks(cls, masks: list[list[Point]]) -> list[list[Point]]:
        for n, polygon in enumerate(masks):
            if len(polygon) < 3:
                raise ValueError(f"mask {n} needs at least 3 points, got {len(polygon)}")
            for x, y in polygon:
                if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                    raise ValueError(
                        f"mask {n} point ({x}, {y}) is outside 0..1 (masks use relative coords)"
                    )
        return masks

    def resolve(self) -> MotionParams:
        """The preset for ``sensitivity`` with every explicitly set option applied on top."""
        preset = PRESETS[self.sensitivity]
        values = {
            f.name: getattr(self, f.name)
            if getattr(self, f.name) is not None
            else getattr(preset, f.name)
            for f in fields(MotionParams)
        }
        return MotionParams(**values)


class RegionConfig(Section):
    """How motion boxes and tracked objects become square detector crops."""

    max_regions: Annotated[int, Field(ge=1, le=16)] = 3
    """At most this many crops per frame; more candidates are merged into fewer, larger squares."""
    track_refresh_frames: Annotated[int, Field(ge=1, le=300)] = 6
    """Every tracked object gets a crop at least this often (in frames), moving or not.  On the
    indoor clip (10 fps, real detector and tracker) the detector ran on 33 % of frames with 3,
    22 % with 5 and 19 % with 6, with the same six person events (starts within 0.4 s).  6 is
    0.6 s at 10 fps, still several looks per tracker.end_after_s (4 s) even at 5 fps."""
    margin: Annotated[float, Field(ge=0, le=2)] = 0.15
    """Space added around an object on each side, as a fraction of its larger side."""
    min_size: Annotated[float, Field(gt=0, le=8)] = 1.0
    """Smallest crop side as a multiple of the model input size (1.0 = full model detail)."""
    max_zoom: Annotated[float, Field(ge=1, le=6)] = 3.0
    """A small object's crop is tightened around it so the detector sees it enlarged, by at most
    this factor (a 416 px model input: crops down to 139 px at 3.0); 1.0 = never."""
    cover_fraction: Fraction = 0.9
    """A tracked box counts as covered by a crop when this fraction of its area lies inside it (and
    motion counts as inside a tracked box by the same rule)."""
    tracked_motion_at_refresh: bool = True
    """Motion inside a tracked object's box is looked at on refresh frames only; False looks at it
    on every frame (more inferences, smoother boxes for the tracker)."""
