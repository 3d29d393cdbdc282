"""Still things stay quiet; people who stand still are still alerted (``camera.track.own_motion``).

Each case feeds the tracker what the pipeline feeds it: the frame's motion blobs
(``observe_motion``), then its detections.  Both sides of the rule are here: the still thing
beside something moving (cushion, stone, statue passed by a walker) and the person standing at
the door, already in view or having walked up.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from camera.track import Tracker, TrackerConfig
from camera.track.own_motion import ContentShift, owners
from camera.types import Box, Detection

FRAME = (640, 480)
FPS = 10.0
CUSHION = Box(300, 300, 380, 360)


def seen(box: Box, score: float, label: str = "person") -> Detection:
    return Detection(
        label=label, subclass="person" if label == "person" else "cat", score=score, box=box
    )


def replay(tracker: Tracker, frames: list[tuple[list[Box], list[Detection]]]) -> list:
    events = []
    for index, (blobs, detections) in enumerate(frames):
        now = index / FPS
        tracker.observe_motion(blobs, now)
        events += tracker.update(detections, now)
    return events


def kitten_at(index: int) -> Box:
    x = 400 + 30 * ((index // 5) % 3)  # playing: darting about beside the cushion
    return Box(x, 320, x + 40, 360)


def test_a_cushion_beside_a_playing_kitten_never_alerts_as_a_person() -> None:
    tracker = Tracker(TrackerConfig(), FRAME)
    frames = [
        ([kitten_at(i)], [seen(CUSHION, 0.45 + 0.15 * (i % 2)), seen(kitten_at(i), 0.7, "pet")])
        for i in range(120)
    ]
    events = replay(tracker, frames)
    assert {e.label for e in events if e.kind == "start"} == {"pet"}
    assert tracker.occupancy() == {}  # no zones; and the held cushion is nobody


def test_a_kitten_playing_on_a_cushion_read_as_a_person_is_a_pet_alert_only() -> None:
    """The regression of issue 20: the kitten's box inside the cushion's "person" box was taken
    for part of that person (``pet_plausible``), so its pet votes were thrown away and the
    cushion alerted as a person.  A "person" that never moved on its own vetoes no pet."""
    cushion = Box(300, 260, 400, 340)
    tracker = Tracker(TrackerConfig(), (640, 360))
    frames = []
    for i in range(120):
        x = 310 + 25 * ((i // 4) % 3)
        kitten = Box(x, 280, x + 45, 330)
        detections = [seen(cushion, 0.33 + 0.27 * ((i * 7) % 5) / 4)]
        if i % 3:  # the kitten is found on two frames in three
            detections.append(seen(kitten, 0.65, "pet"))
        frames.append(([kitten], detections))
    events = replay(tracker, frames)
    assert [(e.kind, e.label) for e in events if e.kind == "start"] == [("start", "pet")]


def test_the_same_cushion_without_motion_information_alerts_as_before() -> None:
    """A tracker never told about motion (a caller without a motion stage) holds nothing."""
    tracker = Tracker(TrackerConfig(), FRAME)
    events = []
    for i in range(30):
        events += tracker.update([seen(CUSHION, 0.55)], i / FPS)
    assert [e.kind for e in events] == ["start"]


def test_a_sure_still_thing_alerts_at_the_still_threshold() -> None:
    tracker = Tracker(TrackerConfig(), FRAME)
    frames = [([kitten_at(i)], [seen(CUSHION, 0.97)]) for i in range(10)]
    assert [e.kind for e in replay(tracker, frames)] == ["start"]


def test_a_stone_beside_a_footpath_stays_quiet_while_people_walk_past() -> None:
    stone = Box(330, 250, 360, 273)  # 30x23 px
    tracker = Tracker(TrackerConfig(), FRAME)
    frames = []
    for i in range(250):
        x = -60 + 4 * (i % 180)  # a walker every 18 s, passing right over the stone
        walker = Box(x, 120, x + 60, 280)
        frames.append(([walker], [seen(stone, 0.6, "pet"), seen(walker, 0.8)]))
    events = replay(tracker, frames)
    assert [e.label for e in events if e.kind == "start"] == ["person", "person"]


def test_a_person_already_in_view_who_shifts_on_the_spot_alerts() -> None:
    body = Box(200, 100, 260, 300)
    tracker = Tracker(TrackerConfig(), FRAME)
    shifts = [Box(210, 150, 250, 250) if i % 7 == 3 else None for i in range(40)]
    frames = [([b] if b else [], [seen(body, 0.55)]) for b in shifts]
    events = replay(tracker, frames)
    assert [e.kind for e in events] == ["start"]
    # held at first (one shift of weight may be noise), announced once they shifted again
    # 1.5 s or more later (frames 3, 10, 17, 24: at 2.4 s)
    assert events[0].frame_time == 2.4


def test_a_person_who_walked_up_before_being_recognised_alerts_at_once() -> None:
    door = Box(200, 100, 260, 300)
    tracker = Tracker(TrackerConfig(), FRAME)
    walking = [Box(200 - 3 * (20 - i), 100, 260 - 3 * (20 - i), 300) for i in range(20)]
    frames = [([b], []) for b in walking]  # too dark to recognise while walking
    frames += [([], [seen(door, 0.6)]) for _ in range(10)]  # recognised once standing
    events = replay(tracker, frames)
    assert [e.kind for e in events] == ["start"]
    assert events[0].frame_time < 2.5  # confirmed at the third look, not held


def test_a_blob_on_two_objects_counts_for_neither() -> None:
    statue, walker = Box(100, 100, 160, 260), Box(110, 100, 170, 260)
    moved, unowned = owners([statue, walker], [Box(112, 105, 168, 255)])
    assert moved == [] and unowned == []
    moved, unowned = owners([statue, walker], [Box(120, 110, 140, 130), Box(500, 0, 520, 40)])
    assert moved == [] and unowned == [Box(500, 0, 520, 40)]
    moved, _ = owners([statue, Box(300, 100, 360, 260)], [Box(310, 120, 330, 140)])
    assert moved == [1]


def test_a_walker_hidden_for_a_while_does_not_take_over_the_statue_they_passed() -> None:
    """The detector looks at a held statue again only when something moves near it: after a
    second unseen, its detection is still the statue's, not a hidden walker's to re-attach."""
    statue = Box(500, 100, 550, 250)
    tracker = Tracker(TrackerConfig(), FRAME)
    frames = []
    for i in range(15):  # a walker passes beside the statue, both are found
        walker = Box(300 + 10 * i, 100, 350 + 10 * i, 250)
        frames.append(([walker], [seen(walker, 0.85), seen(statue, 0.86)]))
    frames += [([], []) for _ in range(12)]  # 1.2 s: the detector sees neither
    frames += [([], [seen(statue, 0.86)]) for _ in range(80)]  # the statue alone, for 8 s
    events = replay(tracker, frames)
    assert [e.kind for e in events] == ["start", "end"]  # the walker's visit ends


@functools.cache
def _noise(sigma: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, sigma, (480, 640)).astype(np.float32)


def _textured(shift: float = 0.0, gain: float = 1.0, noise: float = 2.0, seed: int = 0):
    """A 640x480 grey scene with a textured 60x160 object at x=200+shift (sub-pixel: the
    object is drawn at 4x and reduced, as a camera would see a body sway)."""
    texture = np.random.default_rng(42).integers(40, 220, (40, 15)).astype(np.float32)
    window = np.full((200 * 4, 120 * 4), 120, np.float32)  # x 170..290, y 80..280
    x = round((30 + shift) * 4)
    window[20 * 4 : 180 * 4, x : x + 240] = cv2.resize(
        texture, (240, 640), interpolation=cv2.INTER_NEAREST
    )
    image = np.full((480, 640), 120, np.float32)
    image[80:280, 170:290] = cv2.resize(window, (120, 200), interpolation=cv2.INTER_AREA)
    image = image * gain + _noise(noise, seed % 8)
    return cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


OBJECT = Box(190, 90, 270, 270)


def _looks(frames: list[np.ndarray]) -> ContentShift:
    content = ContentShift(frames[0], OBJECT)
    for index, image in enumerate(frames[1:], 1):
        content.observe(image, index / FPS)
    return content


def test_content_that_sways_by_two_pixels_moved_and_a_still_one_did_not() -> None:
    swaying = _looks([_textured(2.0 * np.sin(i), seed=i) for i in range(6)])
    assert swaying.moved and swaying.shifted_at[0] == 0.1
    still = _looks([_textured(seed=i) for i in range(30)])
    assert still.usable and not still.moved and still.shifted_at == []


def test_light_changes_noise_and_a_passer_by_do_not_move_a_still_thing() -> None:
    lights = _looks([_textured(gain=g, seed=i) for i, g in enumerate([1.0, 1.6, 0.5, 1.3])])
    noisy = _looks([_textured(noise=12.0, seed=i) for i in range(30)])
    covered = []
    for i in range(10):
        image = _textured(seed=i)
        image[80:280, 150 + 10 * i : 230 + 10 * i] = (30, 90, 160)  # someone walks in front
        covered.append(image)
    passer_by = _looks([_textured(), *covered])
    assert not lights.moved and not noisy.moved and not passer_by.moved


def test_a_person_in_view_from_the_start_who_sways_is_alerted_in_half_a_second() -> None:
    """No motion at all (the motion stage learned them into the background at the first frame):
    the tracker sees their box's content shift, a statue's never."""
    tracker = Tracker(TrackerConfig(), FRAME)
    events = []
    for i in range(30):
        now = i / FPS
        tracker.observe_motion([], now)
        image = _textured(2.5 * np.sin(2 * np.pi * 0.4 * now), seed=i)
        events += tracker.update([seen(Box(195, 95, 265, 265), 0.7)], now, image)
    assert [e.kind for e in events] == ["start"] and events[0].frame_time <= 0.5
    statue = Tracker(TrackerConfig(), FRAME)
    for i in range(50):
        now = i / FPS
        statue.observe_motion([], now)
        assert statue.update([seen(Box(195, 95, 265, 265), 0.7)], now, _textured(seed=i)) == []
