"""Local light changes: a blob that is the old scene under different light is not an object.

Global changes are handled by the gain (``light.py``), but many nuisances are *local*: a cloud's
shadow sliding over a lawn, headlights sweeping a driveway, a lamp lighting one corner, a person's
shadow on the ground, the glow of an out-of-focus insect in front of an IR lamp.  Light changes
the brightness of a patch but keeps its *texture* (the grass, gravel or brickwork is still
there); an object hides the texture behind its own.

So each blob about to be reported is checked: the frame and the empty-scene model are high-passed
(minus their 5x5 mean, which removes smooth shading) and correlated over the blob's changed
pixels.  Medians measured on synthetic scenes over strongly textured ground: cloud shadow edge
1.00, headlight 0.97, insect glow 0.87, a walking person's shadow 0.85; solid objects -0.1 to
-0.2.  Over the ~3800 reported blobs of the six footage clips (people, cars, a dog), real objects
on textured ground correlated at most 0.45 on every clip, except 3 tiny blobs at a person's feet
(likely their shadow): ``MIN_CORRELATION``.

Texture must be there to judge (``MIN_TEXTURE``): on a white wall or a night-time road a shadow
and a dark object look the same, and such blobs stay motion.  Lowering ``MIN_TEXTURE`` from 8 to 5
already let parts of a standing person on the indoor clip pass as light (coverage of their moving
frames fell from 93 % to 88 %).  A sharpness test (light changes have no edges) was tried for flat
ground and dropped: objects entering the frame are cut off at the border and blurred by motion,
and scored as low as beams did.

The check runs only on blobs about to be reported, i.e. on frames where the detector is going to
run anyway, so it costs nothing on quiet frames.
"""

from __future__ import annotations

import cv2
import numpy as np

from camera.motion.persistence import Blob

MIN_CORRELATION = 0.7
# RMS of the high-passed empty scene over the blob, in grey levels, below which the background is
# too flat to judge by texture.
MIN_TEXTURE = 8.0
# Pixels of context around the blob, so the 5x5 mean at its edge sees its surroundings.
PAD = 2


def is_lighting(gray: np.ndarray, empty: np.ndarray, changed: np.ndarray, blob: Blob) -> bool:
    """True when ``blob`` in ``gray`` (float32) is the empty scene's texture under different
    light: the high-passed frame correlates with the high-passed empty scene over the blob's
    changed pixels, and the empty scene has texture there to judge by."""
    h, w = gray.shape
    x0, y0 = max(0, blob.x - PAD), max(0, blob.y - PAD)
    x1, y1 = min(w, blob.x + blob.w + PAD), min(h, blob.y + blob.h + PAD)
    now, was = gray[y0:y1, x0:x1], empty[y0:y1, x0:x1]
    where = changed[y0:y1, x0:x1] > 0
    now_hp = (now - cv2.blur(now, (5, 5)))[where]
    was_hp = (was - cv2.blur(was, (5, 5)))[where]
    was_energy = float(np.dot(was_hp, was_hp))
    now_energy = float(np.dot(now_hp, now_hp))
    if was_energy < MIN_TEXTURE**2 * was_hp.size or now_energy <= 0.0:
        return False
    agreement = float(np.dot(now_hp, was_hp))
    return agreement >= MIN_CORRELATION * float(np.sqrt(now_energy * was_energy))
