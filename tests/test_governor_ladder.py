"""The hysteresis + dwell state machine on its own, driven with synthetic timestamps."""

from __future__ import annotations

import itertools
import random

import pytest

from camera.governor import Ladder

HEAT = ("normal", "warm", "hot", "critical")


def heat(hysteresis: float = 5.0, dwell_s: float = 30.0) -> Ladder:
    return Ladder(
        "heat",
        HEAT,
        (70.0, 77.0, 82.0),
        rising=True,
        hysteresis=hysteresis,
        dwell_s=dwell_s,
        label="SoC",
        unit="°C",
    )


def battery(hysteresis: float = 5.0, dwell_s: float = 30.0) -> Ladder:
    return Ladder(
        "battery",
        ("ok", "low", "critical"),
        (20.0, 10.0),
        rising=False,
        hysteresis=hysteresis,
        dwell_s=dwell_s,
        label="battery",
        unit="%",
    )


def drive(ladder: Ladder, samples: list[tuple[float, float | None]]) -> list[str]:
    """The level after each ``(time, value)`` sample."""
    levels = []
    for t, value in samples:
        ladder.update(value, t)
        levels.append(ladder.level)
    return levels


def test_going_up_is_immediate_and_may_skip_levels() -> None:
    ladder = heat()
    assert ladder.update(60.0, 0.0) is None
    change = ladder.update(83.0, 5.0)
    assert change is not None and change.up
    assert str(change) == "heat normal→critical: SoC 83.0 °C ≥ 82.0"
    assert ladder.level == "critical"


def test_threshold_itself_counts_as_reached() -> None:
    ladder = heat()
    ladder.update(76.99, 0.0)
    assert ladder.level == "warm"
    ladder.update(77.0, 5.0)
    assert ladder.level == "hot"


def test_coming_down_needs_the_hysteresis() -> None:
    ladder = heat()
    ladder.update(78.1, 0.0)
    # 72.5 is below the hot threshold but not below 77 - 5: an hour of it changes nothing.
    for t in range(5, 3600, 5):
        assert ladder.update(72.5, float(t)) is None
    assert ladder.level == "hot"


def test_coming_down_needs_the_dwell() -> None:
    ladder = heat()
    ladder.update(78.1, 0.0)
    for t in (5.0, 10.0, 20.0, 34.0):
        assert ladder.update(71.9, t) is None, t
    change = ladder.update(71.9, 35.0)  # 30 s after the first calm reading at t=5
    assert change is not None and not change.up
    assert str(change) == "heat hot→warm: SoC 71.9 °C < 72.0 (77.0 − 5) for 30 s"


def test_an_interrupted_calm_restarts_the_dwell() -> None:
    ladder = heat()
    ladder.update(78.0, 0.0)
    ladder.update(70.0, 5.0)
    ladder.update(73.0, 30.0)  # back inside the band: the 25 s of calm are forgotten
    assert ladder.update(70.0, 35.0) is None
    assert ladder.update(70.0, 60.0) is None
    assert ladder.update(70.0, 65.0) is not None
    assert ladder.level == "warm"


def test_one_dwell_may_drop_several_levels_when_the_reading_allows() -> None:
    ladder = heat()
    ladder.update(84.0, 0.0)
    ladder.update(40.0, 5.0)
    change = ladder.update(40.0, 35.0)
    assert change is not None and (change.old, change.new) == ("critical", "normal")
    assert "< 65.0 (70.0 − 5)" in change.reason


def test_each_level_down_needs_its_own_dwell() -> None:
    ladder = heat()
    ladder.update(84.0, 0.0)
    levels = drive(ladder, [(5.0, 76.0), (35.0, 76.0), (40.0, 60.0), (65.0, 60.0), (70.0, 60.0)])
    assert levels == ["critical", "hot", "hot", "hot", "normal"]


def test_unknown_reading_lifts_the_restriction_only_after_the_dwell() -> None:
    ladder = heat()
    ladder.update(79.0, 0.0)
    ladder.update(None, 5.0)  # one failed read is not a reason to relax
    ladder.update(79.0, 10.0)
    assert ladder.level == "hot"
    ladder.update(None, 15.0)
    change = ladder.update(None, 45.0, unknown="SoC temperature unknown")
    assert change is not None and change.new == "normal"
    assert change.reason == "SoC temperature unknown for 30 s"


def test_a_clock_that_goes_backwards_restarts_the_dwell() -> None:
    ladder = heat()
    ladder.update(80.0, 100.0)
    ladder.update(60.0, 105.0)
    assert ladder.update(60.0, 10.0) is None  # replay restarted: calm counts from t=10
    assert ladder.update(60.0, 39.0) is None
    assert ladder.update(60.0, 40.0) is not None


def _jitter_changes(ladder: Ladder, centre: float, seconds: int) -> list[tuple[float, bool]]:
    """Changes while the reading jitters ±2 around ``centre``, starting from the level below."""
    ladder.update(centre - 3.0, -5.0)
    rng = random.Random(7)
    changes = []
    for t in range(0, seconds, 5):
        change = ladder.update(centre + rng.uniform(-2.0, 2.0), float(t))
        if change is not None:
            changes.append((float(t), change.up))
    return changes


def test_jitter_around_a_threshold_changes_once_with_defaults() -> None:
    assert len(_jitter_changes(heat(), 77.0, 3600)) == 1


def test_jitter_wider_than_the_hysteresis_is_held_back_by_the_dwell() -> None:
    dwell = 30.0
    changes = _jitter_changes(heat(hysteresis=0.5, dwell_s=dwell), 77.0, 3600)
    undamped = _jitter_changes(heat(hysteresis=0.0, dwell_s=0.0), 77.0, 3600)
    assert len(undamped) > 100  # the same signal flaps without hysteresis and dwell
    # Every step down comes a full dwell after the change before it, so a down+up flap cycle
    # happens at most once per dwell period.
    for (before, _), (at, up) in itertools.pairwise(changes):
        if not up:
            assert at - before >= dwell
    downs = sum(1 for _, up in changes if not up)
    assert downs <= 3600 / dwell
    assert len(changes) < len(undamped) / 4


def test_falling_ladder_for_battery() -> None:
    ladder = battery()
    change = ladder.update(19.0, 0.0)
    assert change is not None and str(change) == "battery ok→low: battery 19.0 % ≤ 20.0"
    assert ladder.update(9.5, 5.0) is not None and ladder.level == "critical"
    ladder.update(14.0, 10.0)  # 14 ≤ 10 + 5: still critical
    assert ladder.update(14.0, 60.0) is None and ladder.level == "critical"
    ladder.update(15.5, 65.0)
    change = ladder.update(15.5, 95.0)
    assert change is not None
    assert change.reason == "battery 15.5 % > 15.0 (10.0 + 5) for 30 s"
    assert ladder.level == "low"


def test_offset_shifts_every_threshold() -> None:
    ladder = battery()
    assert ladder.update(15.0, 0.0, offset=-10.0) is None  # relaxed: low is at 10 %
    change = ladder.update(9.0, 5.0, offset=-10.0, note=" (charging)")
    assert change is not None and change.reason == "battery 9.0 % ≤ 10.0 (charging)"
    assert ladder.level == "low"


def test_levels_and_thresholds_must_match() -> None:
    with pytest.raises(ValueError, match="one threshold per level"):
        Ladder("x", ("a", "b"), (1.0, 2.0), rising=True, hysteresis=0, dwell_s=0, label="", unit="")
