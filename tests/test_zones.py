"""Zones: the configuration model (consumed by the web editor) and the foot-point geometry."""

from __future__ import annotations

from pathlib import Path

import pytest

from camera.config import ConfigError, load_config, parse_config
from camera.track.zones import Zone, ZoneMap, point_in_polygon
from camera.types import Box

SQUARE = [[0.0, 0.5], [0.5, 0.5], [0.5, 1.0], [0.0, 1.0]]


def test_zones_and_alert_zones_load() -> None:
    config = parse_config(
        {
            "zones": {"driveway": {"points": SQUARE}, "back-yard_2": {"points": SQUARE[:3]}},
            "tracker": {"labels": {"person": {"alert_zones": ["driveway"]}}},
        }
    )
    assert list(config.zones) == ["driveway", "back-yard_2"]
    assert config.zones["driveway"].points[0] == (0.0, 0.5)
    assert config.tracker.labels.person.alert_zones == ["driveway"]
    assert config.tracker.labels.pet.alert_zones == []


@pytest.mark.parametrize(
    ("zones", "alert_zones", "expected"),
    [
        ({"driveway": {"points": SQUARE}}, ["drivway"], "tracker.labels.person.alert_zones.0"),
        ({}, ["driveway"], "unknown zone (defined under zones: none) (got 'driveway')"),
        ({"drive way": {"points": SQUARE}}, [], "zones.drive way.[key]: String should match"),
        ({"x" * 33: {"points": SQUARE}}, [], "String should match pattern"),
        ({"a": {"points": SQUARE[:2]}}, [], "zones.a.points: List should have at least 3"),
        ({"a": {"points": [[0, 0], [1.2, 0], [0, 1]]}}, [], "outside 0..1"),
        ({"a": {"points": [[0, 0], [".nan", 0], [0, 1]]}}, [], "zones.a.points"),
        ({"a": {"poly": SQUARE}}, [], "zones.a.poly: unknown key"),
    ],
)
def test_bad_zones_are_named(
    tmp_path: Path, zones: dict, alert_zones: list[str], expected: str
) -> None:
    import yaml

    path = tmp_path / "ronda.yaml"
    data = {"zones": zones, "tracker": {"labels": {"person": {"alert_zones": alert_zones}}}}
    path.write_text(yaml.safe_dump(data).replace("'.nan'", ".nan"))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    text = str(error.value)
    assert text.startswith(f"config error in {path}: ")
    assert expected in text, text


def test_unknown_alert_zone_of_the_pet_rule_names_its_key() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(
            {
                "zones": {"garden": {"points": SQUARE}},
                "tracker": {"labels": {"pet": {"alert_zones": ["garden", "gardn"]}}},
            }
        )
    assert str(error.value).splitlines() == [
        "config error in <config>: tracker.labels.pet.alert_zones.1: "
        "unknown zone (defined under zones: garden) (got 'gardn')"
    ]


def test_the_foot_point_decides() -> None:
    zones = ZoneMap({"lower_left": Zone(points=SQUARE)}, (200, 100))
    # head outside the zone, feet inside: in
    assert zones.containing(Box(20, 10, 40, 70)) == {"lower_left"}
    # the whole box above the zone: out
    assert zones.containing(Box(20, 0, 40, 40)) == frozenset()
    # standing at the very bottom edge of the picture, on a zone drawn to the edge: in
    assert zones.containing(Box(0, 60, 20, 100)) == {"lower_left"}
    # feet right of the zone
    assert zones.containing(Box(120, 40, 160, 90)) == frozenset()


def test_point_in_concave_polygon() -> None:
    u_shape = [(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)]
    assert point_in_polygon(0.5, 2.0, u_shape)
    assert point_in_polygon(2.5, 2.0, u_shape)
    assert not point_in_polygon(1.5, 2.0, u_shape)
    assert point_in_polygon(1.5, 0.5, u_shape)
    assert not point_in_polygon(4.0, 0.5, u_shape)


def test_no_zones_is_falsy_and_contains_nothing() -> None:
    zones = ZoneMap({}, (640, 480))
    assert not zones
    assert zones.containing(Box(0, 0, 640, 480)) == frozenset()
