"""RegionPlanner: square crops near model size, merged, capped; tracked objects refreshed."""

from __future__ import annotations

import pytest

from camera.motion import RegionConfig, RegionPlanner
from camera.types import Box, MotionResult, Region

FRAME = (1280, 720)
MODEL = 416


def _planner(**options: object) -> RegionPlanner:
    return RegionPlanner(RegionConfig(**options), FRAME, MODEL)  # type: ignore[arg-type]


def _motion(*boxes: Box) -> MotionResult:
    return MotionResult(boxes=boxes, changed_fraction=0.01)


def _inside(inner: Box, outer: Box) -> bool:
    return (
        inner.x1 >= outer.x1 - 1e-6
        and inner.y1 >= outer.y1 - 1e-6
        and inner.x2 <= outer.x2 + 1e-6
        and inner.y2 <= outer.y2 + 1e-6
    )


def _in_frame(box: Box, size: tuple[int, int] = FRAME) -> bool:
    return _inside(box, Box(0, 0, size[0], size[1]))


def _is_square(box: Box) -> bool:
    return abs(box.width - box.height) < 1e-6


def test_nothing_moving_and_nothing_tracked_means_no_regions() -> None:
    planner = _planner()
    assert planner.plan(MotionResult(), [], 0) == []
    assert planner.plan(MotionResult(changed_fraction=0.2, light_change=True), [], 1) == []


def test_without_zoom_a_small_object_gets_one_square_of_model_size_around_it() -> None:
    person = Box(600, 300, 640, 400)
    regions = _planner(max_zoom=1.0).plan(_motion(person), [], 0)
    assert len(regions) == 1
    region = regions[0]
    assert region.reason == "motion"
    assert _is_square(region.box) and region.box.width == pytest.approx(MODEL)
    assert _inside(person, region.box)
    # Centred on the object (full detail around it, not in a corner of the crop).
    assert region.box.center == pytest.approx(person.center)


def test_near_the_edge_the_square_is_shifted_inside_not_shrunk() -> None:
    corner = Box(1250, 690, 1280, 720)
    region = _planner(max_zoom=1.0).plan(_motion(corner), [], 0)[0]
    assert _is_square(region.box) and region.box.width == pytest.approx(MODEL)
    assert _in_frame(region.box) and _inside(corner, region.box)
    assert region.box.x2 == pytest.approx(1280) and region.box.y2 == pytest.approx(720)


def test_a_big_object_gets_a_bigger_square_that_covers_it_with_margin() -> None:
    car = Box(100, 100, 600, 400)
    region = _planner().plan(_motion(car), [], 0)[0]
    assert _is_square(region.box) and region.box.width > 500
    assert _inside(car, region.box) and _in_frame(region.box)


def test_an_object_larger_than_the_frame_height_is_still_covered() -> None:
    bus = Box(100, 50, 1000, 700)
    region = _planner().plan(_motion(bus), [], 0)[0]
    assert _in_frame(region.box) and _inside(bus, region.box)


def test_frames_smaller_than_the_model_input_get_the_largest_square_that_fits() -> None:
    planner = RegionPlanner(RegionConfig(max_zoom=1.0), (480, 270), MODEL)
    region = planner.plan(_motion(Box(10, 10, 40, 80)), [], 0)[0]
    assert _is_square(region.box) and region.box.width == pytest.approx(270)
    assert _in_frame(region.box, (480, 270))


@pytest.mark.parametrize("size", [(1280, 720), (320, 240)])
def test_a_small_object_gets_a_tighter_square_so_the_detector_sees_it_enlarged(
    size: tuple[int, int],
) -> None:
    planner = RegionPlanner(RegionConfig(), size, MODEL)  # max_zoom 3: crops down to 139 px
    model_side = min(MODEL, size[1])
    cyclist = Box(size[0] / 2, size[1] / 2, size[0] / 2 + 9, size[1] / 2 + 20)  # 20 px tall
    region = planner.plan(_motion(cyclist), [], 0)[0]
    assert _is_square(region.box) and _inside(cyclist, region.box) and _in_frame(region.box, size)
    assert region.box.width == pytest.approx(MODEL / 3)
    # Motion cannot tell it from a waving hand of someone bigger: at model size the next frame.
    assert planner.plan(_motion(cyclist), [], 1)[0].box.width == pytest.approx(model_side)
    # 50 px tall (65 with its margin): enlarged about 2x, to span ZOOM_TARGET (128) px
    walker = Box(100, 100, 120, 150)
    region = planner.plan(_motion(walker), [], 2)[0]
    assert region.box.width == pytest.approx(min(MODEL * 65 / 128, model_side))
    # 100 px tall: big enough to be found in a model-size crop, which it keeps
    big = Box(100, 100, 140, 200)
    assert planner.plan(_motion(big), [], 4)[0].box.width == pytest.approx(model_side)
    # A small tracked object's refresh crop is fitted to it every time (its size is known).
    tracked = Box(500, 100, 509, 120)
    regions = planner.plan(MotionResult(), [tracked], 7)
    assert regions[0].reason == "track" and regions[0].box.width == pytest.approx(MODEL / 3)


def test_motion_on_a_tracked_object_is_enlarged_only_if_that_object_is_small() -> None:
    planner = _planner(track_refresh_frames=100, tracked_motion_at_refresh=False)
    distant = Box(900, 300, 909, 320)  # tracked, 20 px tall
    planner.plan(MotionResult(), [distant], 0)  # refresh done
    walking = Box(905, 300, 915, 320)
    for frame in (1, 2, 3):  # odd and even alike: it is known to be small
        region = planner.plan(_motion(walking), [distant], frame)[0]
        assert region.box.width == pytest.approx(MODEL / 3) and _inside(walking, region.box)
    near = Box(300, 100, 400, 400)  # tracked, 300 px tall: a waving hand is part of them
    hand = Box(390, 180, 420, 210)
    for frame in (4, 5):
        region = planner.plan(_motion(hand), [near], frame)[0]
        assert region.box.width == pytest.approx(MODEL)


def test_fragments_of_one_object_share_one_region() -> None:
    head, legs = Box(600, 200, 630, 240), Box(595, 300, 640, 390)
    regions = _planner().plan(_motion(head, legs), [], 0)
    assert len(regions) == 1
    assert _inside(head, regions[0].box) and _inside(legs, regions[0].box)


def test_objects_far_apart_get_their_own_regions_largest_motion_first() -> None:
    small, large = Box(50, 50, 80, 100), Box(900, 300, 1000, 500)
    regions = _planner().plan(_motion(small, large), [], 0)
    assert len(regions) == 2
    assert _inside(large, regions[0].box) and _inside(small, regions[1].box)
    assert all(_is_square(r.box) and _in_frame(r.box) for r in regions)


def test_regions_are_capped_by_merging_so_every_object_stays_covered() -> None:
    people = [
        Box(40 + 240 * k, 40 + 100 * (k % 2), 70 + 240 * k, 120 + 100 * (k % 2)) for k in range(5)
    ]
    for cap in (1, 2, 3):
        regions = _planner(max_regions=cap).plan(_motion(*people), [], 0)
        assert 1 <= len(regions) <= cap
        for person in people:
            assert any(_inside(person, r.box) for r in regions), (cap, person)
        assert all(_in_frame(r.box) for r in regions)


def test_a_tracked_object_that_stands_still_is_refreshed_every_few_frames() -> None:
    planner = _planner(track_refresh_frames=3)
    standing = Box(300, 200, 340, 300)
    plans = [planner.plan(MotionResult(), [standing], i) for i in range(10)]
    refreshed = [i for i, regions in enumerate(plans) if regions]
    assert refreshed == [0, 3, 6, 9]
    for i in refreshed:
        (region,) = plans[i]
        assert region.reason == "track" and _inside(standing, region.box)
        assert _is_square(region.box)


def test_a_tracked_object_already_inside_a_motion_region_gets_no_second_region() -> None:
    tracked = Box(300, 200, 340, 300)
    regions = _planner().plan(_motion(Box(310, 210, 350, 310)), [tracked], 0)
    assert len(regions) == 1 and regions[0].reason == "motion"
    assert _inside(tracked, regions[0].box)


def test_motion_elsewhere_comes_before_the_refresh_of_a_tracked_object() -> None:
    tracked, intruder = Box(100, 100, 140, 200), Box(1000, 400, 1040, 500)
    regions = _planner().plan(_motion(intruder), [tracked], 0)
    assert [r.reason for r in regions] == ["motion", "track"]
    assert _inside(intruder, regions[0].box) and _inside(tracked, regions[1].box)


def test_motion_inside_a_tracked_box_waits_for_the_refresh_frame() -> None:
    """A person standing at a table and gesturing: looked at on refresh frames only."""
    tracked = Box(300, 200, 380, 400)
    gesture = Box(350, 250, 380, 300)
    planner = _planner(track_refresh_frames=3)
    plans = [planner.plan(_motion(gesture), [tracked], i) for i in range(6)]
    assert [len(p) for p in plans] == [1, 0, 0, 1, 0, 0]
    assert _inside(tracked, plans[0][0].box) and _inside(gesture, plans[0][0].box)

    eager = _planner(track_refresh_frames=3, tracked_motion_at_refresh=False)
    assert all(len(eager.plan(_motion(gesture), [tracked], i)) == 1 for i in range(6))


def test_motion_leaving_a_tracked_box_or_elsewhere_is_looked_at_at_once() -> None:
    tracked = Box(300, 200, 380, 400)
    walking_out = Box(360, 200, 460, 400)
    elsewhere = Box(1000, 100, 1040, 200)
    planner = _planner(track_refresh_frames=5)
    planner.plan(MotionResult(), [tracked], 0)  # refresh done at frame 0
    regions = planner.plan(_motion(walking_out), [tracked], 1)
    assert len(regions) == 1 and _inside(walking_out, regions[0].box)
    regions = planner.plan(_motion(elsewhere), [tracked], 2)
    assert len(regions) == 1 and _inside(elsewhere, regions[0].box)


def test_refresh_restarts_when_frame_indices_restart() -> None:
    planner = _planner(track_refresh_frames=3)
    tracked = [Box(10, 10, 50, 90)]
    assert planner.plan(MotionResult(), tracked, 100)
    assert planner.plan(MotionResult(), tracked, 0), "a new stream starts at 0: refresh at once"


def test_regions_are_region_values() -> None:
    regions = _planner().plan(_motion(Box(0, 0, 10, 10)), [], 0)
    assert all(isinstance(r, Region) for r in regions)
