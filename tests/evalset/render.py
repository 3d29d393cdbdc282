"""Render a composed scene to a video file, with its ground truth.

A scene is a background (a real empty scene or public texture), still *props* drawn into it
(statues, a coat on a hook, a cushion: things a detector may misread, that never move), *actors*
(people, cats and dogs cut out of public photos or of the repository's clips) moving along
keyframed paths, and *conditions* applied to every frame: dusk, infrared night (monochrome, dark,
noisy), rain, and nuisances with no visitor (lights switched on, clouds, headlights sweeping,
moving shadows, swaying foliage, sensor noise bursts).  Everything is seeded by the scene's
name, so a build is the same clip every time on the same OpenCV.

Ground truth: one visit per actor, from the first to the last frame where at least
``VISIBLE_SHARE`` of it is in the picture (and not behind an occluder).
"""

from __future__ import annotations

import functools
import itertools
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from tests.conftest import footage
from tests.synthetic import Sprite, empty_room, people

VISIBLE_SHARE = 0.3
SPRITES = "sprites"


@functools.cache
def sprite(name: str) -> Sprite:
    """A cut-out of ``tests/footage/sprites`` (see ``SOURCES.md`` there), or ``room_<n>``: the
    n-th person of the one-by-one clip."""
    if name.startswith("room_"):
        return people()[int(name[5:])]
    image = cv2.imread(str(footage(f"{SPRITES}/{name}.png")), cv2.IMREAD_UNCHANGED)
    label = "person" if name.startswith("person") else "pet"
    return Sprite(np.ascontiguousarray(image[..., :3]), np.ascontiguousarray(image[..., 3]), label)


@functools.cache
def _clip_frame(relative: str, index: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(footage(relative)))
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, image = capture.read()
    capture.release()
    if not ok:
        raise RuntimeError(f"{relative} has no frame {index}")
    return image


def _texture(name: str, size: tuple[int, int]) -> np.ndarray:
    from skimage import data

    image = getattr(data, name)()
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    else:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    reps = (size[1] // image.shape[0] + 1, size[0] // image.shape[1] + 1, 1)
    return np.tile(image, reps)[: size[1], : size[0]]


def background(name: str, size: tuple[int, int]) -> np.ndarray:
    """``room`` (one-by-one, empty), ``parking`` (car-detection, no car moving), ``road``
    (bgslibrary, empty), ``garden`` (brick wall, lawn and a gravel path from scikit-image's
    textures)."""
    width, height = size
    if name == "room":
        image = empty_room()
    elif name == "parking":
        image = _clip_frame("clips/intel_car-detection.mp4", 0)
    elif name == "road":
        image = _clip_frame("clips/bgslibrary_video.avi", 0)
    elif name == "garden":
        wall = _texture("brick", (width, height // 3))
        wall = cv2.addWeighted(wall, 0.5, np.full_like(wall, (60, 80, 150)), 0.5, 0)
        lawn = _texture("grass", (width, height - height // 3))
        lawn = cv2.addWeighted(lawn, 0.6, np.full_like(lawn, (40, 120, 50)), 0.4, 0)
        path = _texture("gravel", (width, height // 6))
        top = height - height // 3
        lawn[top // 3 : top // 3 + height // 6] = path
        image = np.vstack([wall, lawn])
    else:
        raise ValueError(f"unknown background {name}")
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class Actor:
    """``sprite`` ``height`` px tall; feet through ``path`` keyframes ``(t, x, y)``; ``sway``
    px of idle movement (a person standing shifts weight); ``carry``: a box held at the hip."""

    sprite: str
    height: int
    path: Sequence[tuple[float, float, float]]
    mirror: bool = False
    sway: float = 0.0
    carry: bool = False

    def feet_at(self, t: float) -> tuple[float, float] | None:
        keys = self.path
        if not keys[0][0] <= t <= keys[-1][0]:
            return None
        x, y = keys[-1][1], keys[-1][2]
        for (t0, x0, y0), (t1, x1, y1) in itertools.pairwise(keys):
            if t0 <= t <= t1:
                share = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                x, y = x0 + share * (x1 - x0), y0 + share * (y1 - y0)
                break
        if self.sway:
            x += self.sway * np.sin(2.0 * np.pi * 0.4 * t)
        return (x, y)


@dataclass(frozen=True)
class Prop:
    """A still thing, there all along: ``sprite`` drawn at feet ``(x, y)``, ``height`` px tall,
    in ``tint`` (``stone``: grey, ``bronze``, or ``none``), ``crop`` its top share (a coat)."""

    sprite: str
    height: int
    feet: tuple[float, float]
    tint: str = "stone"
    crop: float = 1.0


@dataclass(frozen=True)
class Nuisance:
    """``kind`` from ``t0`` to ``t1`` seconds: ``lights`` (brightness steps up at t0, down at t1),
    ``cloud`` (slow dimming and back), ``headlights`` (a bright cone sweeping across),
    ``shadow`` (a soft dark shape crossing), ``foliage`` (a patch of leaves swaying), ``noise``
    (a burst of sensor noise), ``flicker`` (a fluorescent tube)."""

    kind: str
    t0: float
    t1: float


@dataclass
class Scene:
    name: str
    background: str
    duration_s: float
    actors: list[Actor] = field(default_factory=list)
    props: list[Prop] = field(default_factory=list)
    nuisances: list[Nuisance] = field(default_factory=list)
    light: str = "day"
    """``day``, ``dusk`` or ``ir`` (infrared night: monochrome, dark, noisy)."""
    rain: bool = False
    occluders: list[tuple[int, int, int, int]] = field(default_factory=list)
    size: tuple[int, int] = (640, 360)
    fps: float = 10.0
    notes: str = ""

    @property
    def frame_count(self) -> int:
        return round(self.duration_s * self.fps)

    @property
    def seed(self) -> int:
        return zlib.crc32(self.name.encode())


def _scaled(name: str, height: int, mirror: bool) -> Sprite:
    scaled = sprite(name).scaled(height)
    if not mirror:
        return scaled
    mask = None if scaled.mask is None else scaled.mask[:, ::-1].copy()
    return Sprite(scaled.image[:, ::-1].copy(), mask, scaled.label)


def _place(s: Sprite, feet: tuple[float, float]) -> tuple[int, int]:
    h, w = s.image.shape[:2]
    return round(feet[0] - w / 2), round(feet[1] - h)


def _paste(frame: np.ndarray, s: Sprite, x1: int, y1: int, alpha_scale: float = 1.0) -> float:
    """Blend ``s`` with its top-left at ``(x1, y1)``; returns the share of its mask drawn."""
    height, width = frame.shape[:2]
    h, w = s.image.shape[:2]
    fx1, fy1, fx2, fy2 = max(0, x1), max(0, y1), min(width, x1 + w), min(height, y1 + h)
    if fx2 <= fx1 or fy2 <= fy1:
        return 0.0
    part = s.image[fy1 - y1 : fy2 - y1, fx1 - x1 : fx2 - x1].astype(np.float32)
    mask = s.mask if s.mask is not None else np.full((h, w), 255, np.uint8)
    alpha = mask[fy1 - y1 : fy2 - y1, fx1 - x1 : fx2 - x1, None].astype(np.float32) / 255.0
    frame[fy1:fy2, fx1:fx2] = (
        alpha * alpha_scale * part + (1.0 - alpha * alpha_scale) * frame[fy1:fy2, fx1:fx2]
    )
    return float(alpha.sum()) / max(float(mask.sum()) / 255.0, 1.0)


def _tinted(s: Sprite, tint: str, crop: float) -> Sprite:
    image, mask = s.image, s.mask
    rows = max(1, round(image.shape[0] * crop))
    image, mask = image[:rows], None if mask is None else mask[:rows]
    if tint != "none":
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
        colour = (0.55, 0.55, 0.55) if tint == "stone" else (0.35, 0.5, 0.65)
        image = np.clip(np.dstack([gray * c + 60 for c in colour]), 0, 255).astype(np.uint8)
    return Sprite(image, mask, s.label)


def still_things(scene: Scene) -> list[dict[str, object]]:
    """The props as the manifest's ``still`` entries: what they are and their boxes."""
    things: list[dict[str, object]] = []
    for prop in scene.props:
        s = _tinted(sprite(prop.sprite).scaled(prop.height), prop.tint, prop.crop)
        x1, y1 = _place(s, prop.feet)
        h, w = s.image.shape[:2]
        what = f"{prop.sprite} ({'coat' if prop.crop < 1 else prop.tint})"
        things.append({"what": what, "box": [x1, y1, x1 + w, y1 + h]})
    return things


def base_image(scene: Scene) -> np.ndarray:
    """The background with its props: what an empty picture of this scene looks like."""
    image = background(scene.background, scene.size).astype(np.float32)
    for prop in scene.props:
        s = _tinted(sprite(prop.sprite).scaled(prop.height), prop.tint, prop.crop)
        _paste(image, s, *_place(s, prop.feet))
    return image


def render(scene: Scene, path: Path) -> list[tuple[str, int, int]]:
    """Write ``scene`` to ``path`` (mp4); return its visits ``(label, first, last)`` frames."""
    rng = np.random.default_rng(scene.seed)
    _width, height = scene.size
    base = base_image(scene)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), scene.fps, scene.size)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path}")
    shown: list[list[int]] = [[] for _ in scene.actors]
    sprites = [_scaled(a.sprite, a.height, a.mirror) for a in scene.actors]
    drops = _rain_drops(rng, scene) if scene.rain else None
    try:
        for index in range(scene.frame_count):
            t = index / scene.fps
            frame = base.copy()
            _background_nuisances(frame, scene, t, rng)
            for number, (actor, s) in enumerate(zip(scene.actors, sprites, strict=True)):
                feet = actor.feet_at(t)
                if feet is None:
                    continue
                x1, y1 = _place(s, feet)
                share = _paste(frame, s, x1, y1)
                if actor.carry:
                    h, w = s.image.shape[:2]
                    bx, by = x1 + (w * 2) // 3, y1 + h // 2
                    frame[max(0, by) : max(0, by + h // 5), max(0, bx) : max(0, bx + w // 2)] = (
                        40,
                        90,
                        150,
                    )
                hidden = sum(
                    _overlap((x1, y1, x1 + s.image.shape[1], y1 + s.image.shape[0]), o)
                    for o in scene.occluders
                )
                if share - hidden >= VISIBLE_SHARE:
                    shown[number].append(index)
            for x1, y1, x2, y2 in scene.occluders:
                frame[y1:y2, x1:x2] = (70, 95, 110)
            if drops is not None:
                _rain(frame, drops, index, height)
            frame = _light(frame, scene, t, rng)
            writer.write(np.clip(frame, 0, 255).astype(np.uint8))
    finally:
        writer.release()
    return [
        (sprite(a.sprite).label, frames[0], frames[-1])
        for a, frames in zip(scene.actors, shown, strict=True)
        if frames
    ]


def _overlap(box: tuple[int, int, int, int], occluder: tuple[int, int, int, int]) -> float:
    w = min(box[2], occluder[2]) - max(box[0], occluder[0])
    h = min(box[3], occluder[3]) - max(box[1], occluder[1])
    area = max((box[2] - box[0]) * (box[3] - box[1]), 1)
    return (w * h) / area if w > 0 and h > 0 else 0.0


def _background_nuisances(frame: np.ndarray, scene: Scene, t: float, rng: np.random.Generator):
    height, width = frame.shape[:2]
    for n in scene.nuisances:
        if not n.t0 <= t <= n.t1:
            continue
        share = (t - n.t0) / max(n.t1 - n.t0, 1e-6)
        if n.kind == "shadow":
            cx, cy = -0.2 * width + share * 1.4 * width, 0.6 * height
            mask = np.zeros((height, width), np.float32)
            cv2.ellipse(mask, (int(cx), int(cy)), (width // 5, height // 4), 20, 0, 360, 1.0, -1)
            mask = cv2.GaussianBlur(mask, (0, 0), width / 30)
            frame *= (1.0 - 0.45 * mask)[..., None]
        elif n.kind == "headlights":
            cx = -0.3 * width + share * 1.6 * width
            mask = np.zeros((height, width), np.float32)
            cone = np.array(
                [[cx, 0.75 * height], [cx + 0.5 * width, 0.55 * height], [cx + 0.5 * width, height]]
            ).astype(np.int32)
            cv2.fillConvexPoly(mask, cone, 1.0)
            mask = cv2.GaussianBlur(mask, (0, 0), width / 25)
            frame += (mask * 150.0)[..., None]
        elif n.kind == "foliage":
            _foliage(frame, t, n.t0)


@functools.cache
def _leaves(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    from skimage import data

    leaves = cv2.cvtColor(data.grass(), cv2.COLOR_GRAY2BGR).astype(np.float32)
    leaves = leaves * np.array([0.35, 0.8, 0.4], np.float32)
    leaves = cv2.resize(leaves, (width // 3, height // 2))
    mask = np.zeros(leaves.shape[:2], np.float32)
    cv2.ellipse(mask, (width // 6, height // 4), (width // 7, height // 5), 0, 0, 360, 1.0, -1)
    return leaves, cv2.GaussianBlur(mask, (0, 0), 6)


def _foliage(frame: np.ndarray, t: float, t0: float) -> None:
    """A bush in the top-right corner, swaying in gusts."""
    height, width = frame.shape[:2]
    leaves, mask = _leaves(width, height)
    dx = 6.0 * np.sin(2 * np.pi * 0.7 * t) * (0.5 + 0.5 * np.sin(0.3 * (t - t0)))
    matrix = np.float32([[1, 0, dx], [0, 1, 0]])
    moved = cv2.warpAffine(leaves, matrix, leaves.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
    alpha = cv2.warpAffine(mask, matrix, mask.shape[1::-1])[..., None]
    y, x = 0, width - leaves.shape[1]
    region = frame[y : y + leaves.shape[0], x:]
    frame[y : y + leaves.shape[0], x:] = alpha * moved + (1 - alpha) * region


def _rain_drops(rng: np.random.Generator, scene: Scene) -> np.ndarray:
    width, height = scene.size
    count = width * height // 900
    return np.column_stack(
        [rng.uniform(0, width, count), rng.uniform(0, height, count), rng.uniform(10, 22, count)]
    )


def _rain(frame: np.ndarray, drops: np.ndarray, index: int, height: int) -> None:
    """Falling streaks, brighter than the scene, each keeping its lane and speed."""
    overlay = np.zeros(frame.shape[:2], np.float32)
    for x, y0, speed in drops:
        y = (y0 + index * speed) % height
        cv2.line(overlay, (int(x), int(y)), (int(x - 2), int(y + speed * 0.8)), 1.0, 1)
    frame += (overlay * 45.0)[..., None]


def _light(frame: np.ndarray, scene: Scene, t: float, rng: np.random.Generator) -> np.ndarray:
    gain, noise = 1.0, 2.0
    for n in scene.nuisances:
        if n.kind == "lights" and n.t0 <= t < n.t1:
            gain *= 1.7
        elif n.kind == "cloud" and n.t0 <= t <= n.t1:
            share = (t - n.t0) / max(n.t1 - n.t0, 1e-6)
            gain *= 1.0 - 0.5 * np.sin(np.pi * share)
        elif n.kind == "noise" and n.t0 <= t <= n.t1:
            noise = 14.0
        elif n.kind == "flicker" and n.t0 <= t <= n.t1:
            gain *= 0.85 + 0.15 * float(rng.random())
    if scene.light == "dusk":
        frame = 255.0 * np.power(np.clip(frame, 0, 255) / 255.0, 1.4) * 0.45
        noise = max(noise, 4.0)
    elif scene.light == "ir":
        gray = cv2.cvtColor(np.clip(frame, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY)
        gray = cv2.GaussianBlur(gray.astype(np.float32), (3, 3), 0) * 0.35 + 8.0
        frame = np.repeat(gray[..., None], 3, axis=2)
        noise = max(noise, 7.0)
    frame = frame * gain
    frame += rng.normal(0.0, noise, frame.shape[:2])[..., None]
    return frame
