"""Local light changes: a blob that is the old scene, only brighter or darker, is not an object.

Global changes are handled by the gain (``light.py``), but many nuisances are *local*: a cloud's
shadow sliding over a lawn, headlights sweeping a driveway, a lamp lighting one corner, a person's
shadow on the ground, the glow of an out-of-focus insect in front of an IR lamp.  All of them
change the brightness of a patch while keeping its *texture* (the grass, gravel or brickwork is
still there, just lit differently); an object hides the texture behind its own.

So for each confirmed blob the high-passed frame (frame minus its 5x5 mean, which removes the
smooth shading) is correlated with the high-passed empty-scene model over the blob's changed
pixels.  Measured on synthetic scenes (``tests/test_motion_shading.py`` builds them): cloud
shadow edge 1.00, headlight sweep 0.97, insect glow 0.87, a walking shadow 0.85 (medians); solid
objects -0.1 to -0.2.  On every blob of the six footage clips (people, cars, a dog) the 95th
percentile was 0.31 and only 2 of ~2300 textured blobs passed 0.7 (both tiny, at a person's feet:
likely their shadow).  Hence ``MIN_CORRELATION``.

A blob on a flat background (a white wall, a night sky) has no texture to compare, and a shadow
there is indistinguishable from a dark object: it is kept as motion (``MIN_TEXTURE``).  The test
only runs on blobs about to be reported, i.e. on frames where the detector is going to run anyway,
so it costs nothing on quiet frames.
"""

from __future__ import annotations

import cv2
import numpy as np

from camera.motion.persistence import Blob

MIN_CORRELATION = 0.7
# RMS of the high-passed empty scene over the blob, in grey levels, below which the background is
# too flat to judge.
MIN_TEXTURE = 8.0
# Pixels of context around the blob, so the 5x5 mean at its edge sees its surroundings.
PAD = 2


def is_lighting(gray: np.ndarray, empty: np.ndarray, changed: np.ndarray, blob: Blob) -> bool:
    """True when ``blob`` in ``gray`` is the empty scene's texture under different light."""
    h, w = gray.shape
    x0, y0 = max(0, blob.x - PAD), max(0, blob.y - PAD)
    x1, y1 = min(w, blob.x + blob.w + PAD), min(h, blob.y + blob.h + PAD)
    frame_patch = gray[y0:y1, x0:x1]
    scene_patch = empty[y0:y1, x0:x1]
    where = changed[y0:y1, x0:x1] > 0
    now = (frame_patch - cv2.blur(frame_patch, (5, 5)))[where]
    was = (scene_patch - cv2.blur(scene_patch, (5, 5)))[where]
    was_energy = float(np.dot(was, was))
    if was_energy < MIN_TEXTURE**2 * was.size:
        return False
    now_energy = float(np.dot(now, now))
    if now_energy <= 0.0:
        return False
    return float(np.dot(now, was)) >= MIN_CORRELATION * float(np.sqrt(now_energy * was_energy))
