"""Build the demo scene: a person walks through an empty room, then a cat does.

The person and the cat are real photographs (``astronaut`` and ``chelsea``, from scikit-image's
data: public domain and CC0, notices in ``photos/NOTICE``) shipped inside this package, so the
demo needs no camera, no network and no extra package: the first thing an owner runs on a Pi
works from any install (``setup.sh``, ``pip install``, the service installer).  The scene is
written as numbered JPEGs, which also exercises the image-folder replay path.  It is
deterministic: the same frames every time, so the same events.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from camera.files import describe_os_error, shown

WIDTH, HEIGHT, FPS = 640, 360, 10
SCENE_VERSION = 2  # bump when the scene changes, so a cached copy is rebuilt


PHOTOS = Path(__file__).resolve().parent / "photos"


class DemoSceneError(Exception):
    """The demo scene cannot be built (its photos are missing, the folder is not writable)."""


@dataclass(frozen=True)
class Walk:
    """A sprite that walks from ``x_from`` to ``x_to`` between two times, pausing in the middle."""

    sprite: np.ndarray
    start_s: float
    end_s: float
    x_from: float
    x_to: float
    y: int
    pause_s: float = 1.5

    def x_at(self, t: float) -> float | None:
        if not self.start_s <= t <= self.end_s:
            return None
        walking = (self.end_s - self.start_s) - self.pause_s
        elapsed = t - self.start_s
        half = walking / 2
        if elapsed > half:
            elapsed = max(half, elapsed - self.pause_s)
        return self.x_from + (self.x_to - self.x_from) * (elapsed / walking)


def _photo(name: str) -> np.ndarray:
    path = PHOTOS / name
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DemoSceneError(
            f"the demo photo {shown(path)} is missing or unreadable: reinstall Ronda"
        )
    return image


def _photos() -> tuple[np.ndarray, np.ndarray]:
    return _photo("astronaut.png"), _photo("chelsea.png")


def _room(rng: np.random.Generator) -> np.ndarray:
    """A plain room: warm wall, darker floor, a skirting line, a little texture."""
    room = np.empty((HEIGHT, WIDTH, 3), np.float32)
    floor_y = int(HEIGHT * 0.72)
    room[:floor_y] = (176, 196, 214)
    room[floor_y:] = (70, 100, 135)
    room[floor_y - 3 : floor_y] = (235, 235, 235)
    room += rng.normal(0, 3, room.shape)
    return np.clip(room, 0, 255).astype(np.uint8)


def _scaled(image: np.ndarray, height: int) -> np.ndarray:
    scale = height / image.shape[0]
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _paste(frame: np.ndarray, sprite: np.ndarray, x: float, y: int) -> None:
    h, w = sprite.shape[:2]
    x0 = round(x)
    fx0, fx1 = max(0, x0), min(WIDTH, x0 + w)
    if fx1 <= fx0:
        return
    frame[y : y + h, fx0:fx1] = sprite[:, fx0 - x0 : fx1 - x0]


def build_scene(folder: Path) -> Path:
    """Write the scene into ``folder`` (reused when already built) and return it."""
    marker = folder / f".scene-v{SCENE_VERSION}"
    if marker.exists():
        return folder
    person_photo, cat_photo = _photos()
    rng = np.random.default_rng(7)
    room = _room(rng)
    person = _scaled(person_photo, 240)
    cat = _scaled(cat_photo, 150)
    walks = [
        Walk(person, 2.0, 7.5, -person.shape[1], WIDTH, HEIGHT - 240 - 20),
        Walk(cat, 9.5, 14.0, WIDTH, -cat.shape[1], HEIGHT - 150 - 10),
    ]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("frame_*.jpg"):
            old.unlink()
        for index in range(int(16.0 * FPS)):
            t = index / FPS
            frame = room.copy()
            for walk in walks:
                x = walk.x_at(t)
                if x is not None:
                    _paste(frame, walk.sprite, x, walk.y)
            noise = rng.normal(0, 2.0, frame.shape)
            frame = np.clip(frame + noise, 0, 255).astype(np.uint8)
            path = folder / f"frame_{index:05d}.jpg"
            if not cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, 90]):
                raise OSError(errno.EIO, f"cannot write {path.name} (is the disk full?)")
        marker.touch()
    except OSError as error:
        raise DemoSceneError(
            f"cannot build the demo scene in {shown(folder)}: {describe_os_error(error)}"
        ) from None
    return folder
