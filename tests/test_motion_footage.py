"""The motion stage on real footage: quiet on empty scenes, and every person gets looked at.

Replays clips from ``tests/footage`` (skipped with the reason when absent) through
``MotionDetector`` (BGR path, default config) and ``RegionPlanner`` with nothing tracked, so the
regions come from motion alone.  Manifest ranges are approximate (+-3..5 frames), so empty ranges
are trimmed by ``TRIM`` frames at each end.  Where the person is and whether they move comes from
an independent reference (``tests/motion_reference.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import cv2
import pytest

from camera.motion import MotionConfig, MotionDetector, RegionConfig, RegionPlanner
from camera.types import Box, Frame, Region
from tests.conftest import footage, footage_labels
from tests.motion_reference import PersonReference

ONE_BY_ONE = "clips/intel_one-by-one-person-detection.mp4"
CAR_PARK = "clips/intel_car-detection.mp4"
ROAD = "clips/bgslibrary_video.avi"
TRIM = 5
MAX_EMPTY_WAKE = 0.02
MODEL_INPUT = 416


@dataclass
class Replay:
    active: list[bool] = field(default_factory=list)
    regions: list[list[Region]] = field(default_factory=list)
    person: list[Box | None] = field(default_factory=list)
    moving: list[bool] = field(default_factory=list)


@cache
def replay(relative: str) -> Replay:
    """Run the clip through motion and region planning once per test session."""
    capture = cv2.VideoCapture(str(footage(relative)))
    fps = footage_labels(relative)["fps"]
    out = Replay()
    detector = planner = None
    reference = PersonReference()
    index = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        if detector is None:
            size = (image.shape[1], image.shape[0])
            detector = MotionDetector(MotionConfig(), size)
            planner = RegionPlanner(RegionConfig(), size, MODEL_INPUT)
        assert planner is not None
        motion = detector.update(Frame(image, index / fps, index))
        out.active.append(motion.active)
        out.regions.append(planner.plan(motion, [], index))
        person, moving = reference.update(image)
        out.person.append(person)
        out.moving.append(moving)
        index += 1
    capture.release()
    return out


def _trimmed(ranges: list[list[int]], frames: int) -> list[int]:
    return [i for lo, hi in ranges for i in range(lo + TRIM, min(hi - TRIM, frames - 1) + 1)]


@pytest.mark.parametrize("clip", [ONE_BY_ONE, CAR_PARK, ROAD])
def test_empty_scenes_almost_never_wake_the_detector(clip: str) -> None:
    """Includes the car park's auto-exposure drift (356-376) and the room between visitors."""
    result = replay(clip)
    empty = _trimmed(footage_labels(clip)["labels"]["empty"], len(result.active))
    assert len(empty) > 60
    woken = [i for i in empty if result.active[i]]
    assert len(woken) <= MAX_EMPTY_WAKE * len(empty), f"woke on empty frames {woken}"


def test_every_person_gets_regions_while_they_move() -> None:
    result = replay(ONE_BY_ONE)
    people = footage_labels(ONE_BY_ONE)["labels"]["person"]
    assert len(people) == 6
    for lo, hi in people:
        frames = range(lo, hi + 1)
        moving = [i for i in frames if result.moving[i]]
        seen_moving = sum(bool(result.regions[i]) for i in moving) / len(moving)
        seen = sum(bool(result.regions[i]) for i in frames) / len(frames)
        first = next(i for i in frames if result.regions[i])
        assert seen_moving >= 0.85, f"person {lo}-{hi}: regions on {seen_moving:.0%} of moves"
        # Standing still for long is the tracker's job (refresh regions); motion alone must
        # still carry most of each visit.
        assert seen >= 0.6, f"person {lo}-{hi}: regions on {seen:.0%} of frames"
        assert first - lo <= TRIM, f"person {lo}-{hi}: first region at {first}"


def test_regions_cover_each_person() -> None:
    """On odd frames: on even ones a small motion blob (a hand, a head) is looked at enlarged,
    as small objects are (``ZOOM_TARGET`` in camera/motion/regions.py), and its crop may hold
    only that part; the next frame's model-size crop holds the whole person."""
    result = replay(ONE_BY_ONE)
    for lo, hi in footage_labels(ONE_BY_ONE)["labels"]["person"]:
        checked = 0
        for i in range(lo | 1, hi + 1, 2):
            person, regions = result.person[i], result.regions[i]
            if person is None or not regions:
                continue
            best = max(r.box.intersection(person) for r in regions) / person.area
            assert best >= 0.9, f"frame {i}: person {person} poorly covered by {regions}"
            checked += 1
        assert checked >= 0.25 * (hi - lo + 1), f"person {lo}-{hi}: only {checked} frames checked"


def test_regions_are_squares_inside_the_frame_at_model_size_or_enlarging_up_to_max_zoom() -> None:
    result = replay(ONE_BY_ONE)
    config = RegionConfig()
    for index, regions in enumerate(result.regions):
        assert len(regions) <= config.max_regions
        for r in regions:
            assert r.box.x1 >= 0 and r.box.y1 >= 0 and r.box.x2 <= 768 and r.box.y2 <= 432
            assert abs(r.box.width - r.box.height) < 1e-6
            smallest = MODEL_INPUT / config.max_zoom if index % 2 == 0 else MODEL_INPUT
            assert r.box.width >= smallest - 1e-6
