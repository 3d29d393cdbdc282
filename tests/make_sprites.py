"""Cut the eval set's actors out of public photos (run once; the PNGs are committed).

``python -m tests.make_sprites DARKNET_DATA SKIMAGE_DATA`` writes ``tests/footage/sprites/*.png``
(BGRA, the alpha channel is the cut-out).  Each object's box is where Ronda's own float32
detector found it in the photo; GrabCut (seeded, so the same OpenCV cuts the same way) separates
it from its background.  Sources and licences: ``tests/footage/sprites/SOURCES.md``.
DARKNET_DATA is ``/usr/share/darknet/data`` of Debian's ``darknet`` package (``apt-get
download darknet``); SKIMAGE_DATA is ``skimage/data`` of the scikit-image wheel.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from tests.conftest import footage

# name: (source, file, box x1 y1 x2 y2, label)
CUTS = {
    "person_woman": ("darknet", "person.jpg", (188, 99, 275, 372), "person"),
    "person_beach_a": ("darknet", "kite.jpg", (213, 700, 273, 858), "person"),
    "person_beach_b": ("darknet", "kite.jpg", (114, 607, 165, 765), "person"),
    "dog_collie": ("darknet", "person.jpg", (66, 265, 201, 347), "pet"),
    "dog_spaniel": ("darknet", "dog.jpg", (130, 208, 336, 542), "pet"),
    "cat_chelsea": ("skimage", "chelsea.png", (4, 2, 440, 298), "pet"),
    "cat_tabby": ("footage", "stills/opencvcourse_cat.jpg", (341, 54, 622, 427), "pet"),
    "cat_kitten": ("footage", "stills/opencvcourse_cats.jpg", (298, 133, 493, 270), "pet"),
}

MAX_SIDE = 200


def cut(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The object in ``box`` as BGRA, cropped to the box (alpha 255 on the object)."""
    cv2.setRNGSeed(20)
    x1, y1, x2, y2 = box
    height, width = image.shape[:2]
    pad = 8
    rect = (max(0, x1 - pad), max(0, y1 - pad), 0, 0)
    rect = (rect[0], rect[1], min(width, x2 + pad) - rect[0], min(height, y2 + pad) - rect[1])
    mask = np.zeros(image.shape[:2], np.uint8)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(image, mask, rect, background, foreground, 6, cv2.GC_INIT_WITH_RECT)
    alpha = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    alpha = cv2.morphologyEx(alpha, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(alpha)
    if count > 1:
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        alpha = np.where(labels == largest, 255, 0).astype(np.uint8)
    alpha = cv2.GaussianBlur(alpha, (3, 3), 0)
    ys, xs = np.nonzero(alpha > 127)
    bx1, by1, bx2, by2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    bgra = np.dstack([image, alpha])[by1:by2, bx1:bx2]
    scale = MAX_SIDE / max(bgra.shape[:2])
    if scale < 1.0:  # the scenes show actors at most about this big: keep the files small
        size = (round(bgra.shape[1] * scale), round(bgra.shape[0] * scale))
        bgra = cv2.resize(bgra, size, interpolation=cv2.INTER_AREA)
    return bgra


def main(darknet: Path, skimage: Path) -> None:
    out = footage("sprites")
    out.mkdir(exist_ok=True)
    roots = {"darknet": darknet, "skimage": skimage, "footage": footage("")}
    for name, (source, file, box, _label) in CUTS.items():
        image = cv2.imread(str(roots[source] / file), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"cannot read {roots[source] / file}")
        cv2.imwrite(str(out / f"{name}.png"), cut(image, box), [cv2.IMWRITE_PNG_COMPRESSION, 9])


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
