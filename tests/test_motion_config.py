"""MotionConfig / RegionConfig: presets, overrides, strictness, mask validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from camera.motion import PRESETS, MotionConfig, MotionParams, RegionConfig


def test_each_sensitivity_resolves_to_its_preset() -> None:
    for name, preset in PRESETS.items():
        assert MotionConfig(sensitivity=name).resolve() == preset


def test_presets_are_ordered_from_low_to_high_sensitivity() -> None:
    low, medium, high = PRESETS["low"], PRESETS["medium"], PRESETS["high"]
    assert low.threshold > medium.threshold > high.threshold
    assert low.min_area > medium.min_area > high.min_area
    assert low.persistence_frames > medium.persistence_frames > high.persistence_frames
    assert low.noise_factor > medium.noise_factor > high.noise_factor
    # Less sensitive also means a stopped object is absorbed sooner.
    assert low.learning_rate > medium.learning_rate > high.learning_rate


def test_explicit_numbers_override_the_preset_and_nothing_else() -> None:
    resolved = MotionConfig(sensitivity="low", threshold=12, persistence_frames=1).resolve()
    assert resolved.threshold == 12 and resolved.persistence_frames == 1
    low = PRESETS["low"]
    assert resolved.min_area == low.min_area and resolved.learning_rate == low.learning_rate


def test_every_numeric_option_can_be_set() -> None:
    values = {
        "height": 120,
        "threshold": 20.0,
        "noise_factor": 4.5,
        "min_area": 0.001,
        "persistence_frames": 2,
        "learning_rate": 0.25,
        "light_change_fraction": 0.5,
        "light_step": 0.2,
        "relearn_frames": 5,
    }
    assert MotionConfig(**values).resolve() == MotionParams(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        {"sensitivity": "extreme"},
        {"threshold": 0},
        {"min_area": 0},
        {"min_area": 1.5},
        {"persistence_frames": 0},
        {"learning_rate": -0.1},
        {"height": 8},
        {"light_change_fraction": 2.0},
        {"treshold": 20},  # a typo is an error, never a silent default
    ],
)
def test_invalid_values_are_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError):
        MotionConfig(**bad)


def test_masks_are_relative_polygons() -> None:
    config = MotionConfig(
        masks=[[(0, 0), (0.5, 0), (0.5, 1)], [(0.1, 0.1), (0.2, 0.1), (0.2, 0.2)]]
    )
    assert len(config.masks) == 2


@pytest.mark.parametrize(
    ("polygon", "message"),
    [
        ([(0, 0), (1, 1)], "at least 3 points"),
        ([(0, 0), (1.2, 0), (1, 1)], "outside 0..1"),
        ([(0, 0), (0.5, -0.1), (1, 1)], "outside 0..1"),
    ],
)
def test_bad_masks_are_rejected_with_a_reason(polygon: list, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MotionConfig(masks=[polygon])


def test_sections_are_frozen() -> None:
    config = MotionConfig()
    with pytest.raises(ValidationError):
        config.threshold = 5  # type: ignore[misc]


def test_region_config_defaults_and_bounds() -> None:
    config = RegionConfig()
    assert config.max_regions == 3 and config.track_refresh_frames == 6
    assert config.tracked_motion_at_refresh
    with pytest.raises(ValidationError):
        RegionConfig(max_regions=0)
    with pytest.raises(ValidationError):
        RegionConfig(track_refresh_frames=0)
    with pytest.raises(ValidationError):
        RegionConfig(margin=-1)
