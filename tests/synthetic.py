"""Synthetic footage from the repository's real clips and photos, with exact ground truth.

People are cut out of the one-by-one clip (each standing person against the empty room of
frame 0, by background difference); pets are the dog of ``stills/darknet_dog.jpg`` and the cat
``chelsea`` shipped with scikit-image (rectangular photos, as ``ronda demo`` uses them).  Actors
move along keyframed paths over an empty scene (that clip's empty room), optionally behind a
drawn occluder; each actor on screen is one labelled visit.  Frames get camera noise and JPEG
compression and are written as numbered JPEGs, so the real replay path reads them.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from tests.conftest import footage

ONE_BY_ONE = "clips/intel_one-by-one-person-detection.mp4"
# Frames of the one-by-one clip where one person stands still at the table (visits 1-6).
PERSON_FRAMES = (120, 300, 600, 800, 1000, 1300)
DOG_BOX = (125, 220, 320, 545)  # x1, y1, x2, y2 of the dog in stills/darknet_dog.jpg


@dataclass(frozen=True)
class Sprite:
    """A picture of one object; ``mask`` 255 where it is (None: the whole rectangle)."""

    image: np.ndarray
    mask: np.ndarray | None
    label: str

    def scaled(self, height: int) -> Sprite:
        scale = height / self.image.shape[0]
        size = (max(1, round(self.image.shape[1] * scale)), max(1, height))
        image = cv2.resize(self.image, size, interpolation=cv2.INTER_AREA)
        mask = None
        if self.mask is not None:
            mask = cv2.resize(self.mask, size, interpolation=cv2.INTER_AREA)
        return Sprite(image, mask, self.label)


@functools.cache
def _clip_frames(indices: tuple[int, ...]) -> dict[int, np.ndarray]:
    capture = cv2.VideoCapture(str(footage(ONE_BY_ONE)))
    wanted, found, index = set(indices), {}, 0
    while wanted - found.keys():
        ok, image = capture.read()
        if not ok:
            raise RuntimeError(f"{ONE_BY_ONE} ended before frame {max(wanted)}")
        if index in wanted:
            found[index] = image
        index += 1
    capture.release()
    return found


def empty_room() -> np.ndarray:
    """The one-by-one clip's empty room (frame 0), 768x432."""
    return _clip_frames((0, *PERSON_FRAMES))[0].copy()


@functools.cache
def people() -> tuple[Sprite, ...]:
    """The six people of the one-by-one clip, cut out of the empty room by difference."""
    frames = _clip_frames((0, *PERSON_FRAMES))
    background = frames[0].astype(np.int16)
    sprites = []
    for index in PERSON_FRAMES:
        image = frames[index]
        changed = np.abs(image.astype(np.int16) - background).max(axis=2) > 40
        mask = cv2.morphologyEx(changed.astype(np.uint8) * 255, cv2.MORPH_OPEN, np.ones((3, 3)))
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
        _, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        x, y, w, h = (int(v) for v in stats[largest, :4])
        person = (labels == largest).astype(np.uint8) * 255
        holes = cv2.bitwise_not(person)
        cv2.floodFill(holes, None, (0, 0), 0)
        person |= holes
        sprites.append(
            Sprite(image[y : y + h, x : x + w].copy(), person[y : y + h, x : x + w], "person")
        )
    return tuple(sprites)


@functools.cache
def dog() -> Sprite:
    image = cv2.imread(str(footage("stills/darknet_dog.jpg")), cv2.IMREAD_COLOR)
    x1, y1, x2, y2 = DOG_BOX
    return Sprite(image[y1:y2, x1:x2].copy(), None, "pet")


@functools.cache
def cat() -> Sprite:
    from skimage import data

    return Sprite(cv2.cvtColor(data.chelsea(), cv2.COLOR_RGB2BGR), None, "pet")


@dataclass(frozen=True)
class Actor:
    """A sprite ``height`` px tall whose feet move through ``path`` keyframes ``(t, x, y)``
    (feet centre, pixels), linearly; on screen from the first to the last keyframe.
    ``mirror`` flips it (walking the other way).  ``heights``, one per keyframe, make it grow
    or shrink on the way (walking towards the lens or away); ``carry`` draws a parcel held in
    front of the body."""

    sprite: Sprite
    height: int
    path: Sequence[tuple[float, float, float]]
    mirror: bool = False
    heights: Sequence[int] | None = None
    carry: bool = False

    def feet_at(self, t: float) -> tuple[float, float] | None:
        where = self._at(t)
        return None if where is None else (where[0], where[1])

    def height_at(self, t: float) -> int:
        where = self._at(t)
        return self.height if where is None or self.heights is None else round(where[2])

    def _at(self, t: float) -> tuple[float, float, float] | None:
        keys = self.path
        if not keys[0][0] <= t <= keys[-1][0]:
            return None
        heights = self.heights or [self.height] * len(keys)
        for ((t0, x0, y0), h0), ((t1, x1, y1), h1) in itertools.pairwise(
            zip(keys, heights, strict=True)
        ):
            if t0 <= t <= t1:
                share = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                return (x0 + share * (x1 - x0), y0 + share * (y1 - y0), h0 + share * (h1 - h0))
        return (keys[-1][1], keys[-1][2], heights[-1])


@dataclass(frozen=True)
class Visit:
    """Ground truth: ``label`` on screen from ``start`` to ``end`` seconds."""

    label: str
    start: float
    end: float


@dataclass
class Scene:
    """Actors over a background; ``occluders`` are drawn over everything (pillars, hedges)."""

    name: str
    size: tuple[int, int]
    duration_s: float
    actors: list[Actor]
    fps: float = 10.0
    occluders: list[tuple[int, int, int, int]] = field(default_factory=list)
    background: np.ndarray | None = None
    noise: float = 2.0

    def visits(self) -> list[Visit]:
        """One visit per actor: from its first to its last frame with a visible part."""
        visits = []
        for actor in self.actors:
            shown = [
                i / self.fps for i in range(self.frame_count) if self._box(actor, i / self.fps)
            ]
            if shown:
                visits.append(Visit(actor.sprite.label, shown[0], shown[-1]))
        return visits

    @property
    def frame_count(self) -> int:
        return round(self.duration_s * self.fps)

    def _box(self, actor: Actor, t: float) -> tuple[int, int, int, int] | None:
        feet = actor.feet_at(t)
        if feet is None:
            return None
        h = actor.height_at(t)
        source_h, source_w = actor.sprite.image.shape[:2]
        w = max(1, round(source_w * h / source_h))
        x1, y1 = round(feet[0] - w / 2), round(feet[1] - h)
        width, height = self.size
        if x1 >= width or y1 >= height or x1 + w <= 0 or y1 + h <= 0:
            return None
        return (x1, y1, x1 + w, y1 + h)

    def render(self, folder: Path) -> Path:
        """Write the frames as numbered JPEGs into ``folder`` (reused if already there)."""
        marker = folder / ".complete"
        if marker.exists():
            return folder
        folder.mkdir(parents=True, exist_ok=True)
        width, height = self.size
        base = self.background if self.background is not None else empty_room()
        base = cv2.resize(base, (width, height), interpolation=cv2.INTER_AREA)
        rng = np.random.default_rng(len(self.name))
        scaled: dict[tuple[int, int], Sprite] = {}
        for index in range(self.frame_count):
            t = index / self.fps
            frame = base.astype(np.float32)
            for number, actor in enumerate(self.actors):
                box = self._box(actor, t)
                if box is not None:
                    key = (number, actor.height_at(t))
                    if key not in scaled:
                        scaled[key] = actor.sprite.scaled(key[1])
                    _paste(frame, scaled[key], box, actor.mirror)
                    if actor.carry:
                        _parcel(frame, box)
            for x1, y1, x2, y2 in self.occluders:
                frame[y1:y2, x1:x2] = (96, 110, 120)
            frame += rng.normal(0.0, self.noise, frame.shape)
            image = np.clip(frame, 0, 255).astype(np.uint8)
            cv2.imwrite(
                str(folder / f"frame_{index:05d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 85]
            )
        (folder / "truth.json").write_text(
            json.dumps([v.__dict__ for v in self.visits()], indent=1)
        )
        marker.touch()
        return folder


def _parcel(frame: np.ndarray, box: tuple[int, int, int, int]) -> None:
    """A cardboard box held in front of the body, from the hips to the chest."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    px1, py1 = x1 + w // 8, y1 + (2 * h) // 5
    px2, py2 = x2 - w // 8, y1 + (3 * h) // 5
    height, width = frame.shape[:2]
    py1, py2 = (min(max(0, y), height) for y in (py1, py2))
    px1, px2 = (min(max(0, x), width) for x in (px1, px2))
    frame[py1:py2, px1:px2] = (70, 120, 165)


def _paste(frame: np.ndarray, sprite: Sprite, box: tuple[int, int, int, int], mirror: bool) -> None:
    height, width = frame.shape[:2]
    x1, y1, x2, y2 = box
    fx1, fy1, fx2, fy2 = max(0, x1), max(0, y1), min(width, x2), min(height, y2)
    if fx2 <= fx1 or fy2 <= fy1:
        return
    image = sprite.image[:, ::-1] if mirror else sprite.image
    part = image[fy1 - y1 : fy2 - y1, fx1 - x1 : fx2 - x1].astype(np.float32)
    if sprite.mask is None:
        frame[fy1:fy2, fx1:fx2] = part
        return
    mask = sprite.mask[:, ::-1] if mirror else sprite.mask
    alpha = mask[fy1 - y1 : fy2 - y1, fx1 - x1 : fx2 - x1, None].astype(np.float32) / 255.0
    frame[fy1:fy2, fx1:fx2] = alpha * part + (1.0 - alpha) * frame[fy1:fy2, fx1:fx2]
