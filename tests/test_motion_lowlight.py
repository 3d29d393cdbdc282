"""Motion in the dark: a real clip re-exposed by the sensor model of ``tests/lowlight.py`` (a Pi
Camera v2 class sensor out of gain, shot and read noise, gamma, H.264 at a camera's bitrate) and
decoded again, through the real motion stage.

The room clip's first 23 s, small: 6 s empty, a person walking in and out, empty again.  Where
the person is comes from the *day* frames (``tests/motion_reference.py``).  At 0.5 lux the
picture's median is 36 of 255 and the person stands about a third as far off the floor as by
day: the daylight threshold (``motion.low_light: false``) touched them on 37 % of their frames,
the threshold that follows the scene's brightness on 74 %, with no empty frame waking either.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from camera.motion import MotionConfig, MotionDetector
from camera.types import Box, Frame
from tests.conftest import footage
from tests.lowlight import read_frames, write_night_clip
from tests.motion_reference import PersonReference

ROOM = "clips/intel_one-by-one-person-detection.mp4"
SIZE = (384, 216)
FPS = 10.0
FRAMES = 230
VISIT = range(60, 203)  # the manifest's first person range
EMPTY = [*range(5, 55), *range(208, 222)]  # its empty ranges, trimmed by 5 frames
LUX = 0.5


@dataclass(frozen=True)
class NightRoom:
    frames: list[np.ndarray]
    person: list[Box | None]


@pytest.fixture(scope="module")
def night_room(tmp_path_factory: pytest.TempPathFactory) -> NightRoom:
    source = footage(ROOM)
    path = tmp_path_factory.mktemp("lowlight") / "room_0.5lux.mp4"
    write_night_clip(source, path, LUX, FPS, size=SIZE, limit=FRAMES)
    reference = PersonReference()
    day = (cv2.resize(f, SIZE, interpolation=cv2.INTER_AREA) for f in read_frames(source, FRAMES))
    return NightRoom(list(read_frames(path)), [reference.update(f)[0] for f in day])


def _boxes(room: NightRoom, config: MotionConfig) -> list[tuple[Box, ...]]:
    detector = MotionDetector(config, SIZE)
    return [detector.update(Frame(f, i / FPS, i)).boxes for i, f in enumerate(room.frames)]


def _on_person(room: NightRoom, boxes: list[tuple[Box, ...]]) -> float:
    seen = [i for i in VISIT if room.person[i] is not None]
    hits = [i for i in seen if any(b.intersection(room.person[i]) > 0 for b in boxes[i])]
    return len(hits) / len(seen)


def test_a_person_walking_at_half_a_lux_wakes_motion_and_the_empty_room_does_not(
    night_room: NightRoom,
) -> None:
    assert np.median(night_room.frames[0]) < 45  # really dark: the day clip's is 140
    boxes = _boxes(night_room, MotionConfig(low_light=True))
    assert _on_person(night_room, boxes) >= 0.6
    assert [i for i in EMPTY if boxes[i]] == []


def test_without_low_light_the_same_person_is_mostly_missed(night_room: NightRoom) -> None:
    """The contrast the test above depends on: the daylight threshold on the same frames."""
    assert _on_person(night_room, _boxes(night_room, MotionConfig(low_light=False))) < 0.5
