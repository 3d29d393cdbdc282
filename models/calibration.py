"""The int8 calibration set: real photos and video frames, prepared exactly as at run time.

Calibration only measures activation ranges, so it must look like what the camera feeds the model:
whole frames letterboxed, and square crops (the pipeline's motion regions).  Sources: the photos
bundled in scikit-image (no download), the project's footage stills, and frames spread evenly over
every clip in the footage manifest.  The list (with a hash of every prepared sample) goes into the
model manifest, so a rebuild can show it calibrated on the same pixels.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "motorcycle_left")
FRAMES_PER_CLIP = 12


def _load_letterbox():
    """Import ``camera/detect/letterbox.py`` by path: same pixels as run time, no package init."""
    path = REPO / "camera" / "detect" / "letterbox.py"
    spec = importlib.util.spec_from_file_location("ronda_letterbox", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


_letterbox = _load_letterbox()
InputFormat = _letterbox.InputFormat
prepare = _letterbox.prepare


@dataclass(frozen=True)
class Sample:
    """One calibration input: where it came from and the model-ready uint8 pixels."""

    source: str
    pixels: np.ndarray


def _skimage_photos() -> Iterator[tuple[str, np.ndarray]]:
    import skimage
    import skimage.data

    for name in SKIMAGE_PHOTOS:
        if name == "motorcycle_left":
            rgb = skimage.data.stereo_motorcycle()[0]
        else:
            rgb = getattr(skimage.data, name)()
        rgb = np.stack([rgb] * 3, axis=-1) if rgb.ndim == 2 else rgb[..., :3]
        yield (
            f"scikit-image {skimage.__version__} data.{name}",
            np.ascontiguousarray(rgb[..., ::-1]),
        )


def _footage(footage: Path) -> Iterator[tuple[str, np.ndarray]]:
    spec = json.loads((footage / "manifest.json").read_text())
    for item in spec["items"]:
        path = footage / item["path"]
        if item["path"].startswith("stills/"):
            yield item["path"], cv2.imread(str(path), cv2.IMREAD_COLOR)
            continue
        wanted = set(
            np.linspace(0, item["frames"] - 1, FRAMES_PER_CLIP).round().astype(int).tolist()
        )
        capture = cv2.VideoCapture(str(path))
        index = 0
        while wanted:
            ok, frame = capture.read()
            if not ok:
                break
            if index in wanted:
                wanted.discard(index)
                yield f"{item['path']}#{index}", frame
            index += 1
        capture.release()


def _centre_square(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return image[top : top + side, left : left + side]


def calibration_set(footage: Path | None, size: int, fmt=None) -> list[Sample]:
    """Every source image as a whole frame and as a centred square crop, each prepared for the
    model as the camera prepares it (``fmt``, an ``InputFormat``; default NanoDet's letterbox)."""
    fmt = fmt if fmt is not None else InputFormat()
    sources = list(_skimage_photos())
    if footage is not None:
        sources += list(_footage(footage))
    samples = []
    for name, image in sources:
        samples.append(Sample(f"{name} (frame)", prepare(image, size, fmt)[0]))
        samples.append(
            Sample(f"{name} (centre square)", prepare(_centre_square(image), size, fmt)[0])
        )
    return samples


def describe(samples: list[Sample], fmt=None) -> dict:
    """Manifest entry: the sample list and one sha256 over all prepared pixels, in order."""
    done = {"letterbox": "letterboxed", "stretch": "stretched"}[(fmt or InputFormat()).resize]
    digest = hashlib.sha256()
    for sample in samples:
        digest.update(sample.pixels.tobytes())
    return {
        "samples": len(samples),
        "sources": list(dict.fromkeys(s.source.rsplit(" (", 1)[0] for s in samples)),
        "views": [f"whole frame, {done}", f"centred square crop, {done}"],
        "frames_per_clip": FRAMES_PER_CLIP,
        "pixels_sha256": digest.hexdigest(),
    }
