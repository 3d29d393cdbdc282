"""The demo's photos ship inside the package (issue 19): they are exactly scikit-image's
``astronaut`` and ``chelsea`` at the demo's sizes (so their provenance and licence notices hold),
and the demo builds its scene without scikit-image importable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from camera.demo.scene import PHOTOS

ROOT = Path(__file__).resolve().parent.parent


def _scaled(rgb: np.ndarray, height: int) -> np.ndarray:
    scale = height / rgb.shape[0]
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    return cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize(
    ("name", "original", "height"),
    [("astronaut.png", skimage.data.astronaut, 240), ("chelsea.png", skimage.data.chelsea, 150)],
)
def test_shipped_photo_is_scikit_images_scaled(name: str, original, height: int) -> None:
    shipped = cv2.imread(str(PHOTOS / name), cv2.IMREAD_COLOR)
    assert shipped is not None
    assert np.array_equal(shipped, _scaled(original(), height))
    assert name in (PHOTOS / "NOTICE").read_text(encoding="utf-8")


def test_the_scene_builds_with_scikit_image_unimportable(tmp_path: Path) -> None:
    """A plain ``pip install`` has no scikit-image: the scene must not need it."""
    code = (
        "import sys; sys.modules['skimage'] = None\n"
        "from pathlib import Path\n"
        "from camera.demo import build_scene\n"
        f"folder = build_scene(Path({str(tmp_path)!r}) / 'scene')\n"
        "print(len(list(folder.glob('frame_*.jpg'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "160"
