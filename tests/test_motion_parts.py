"""The motion stage's parts, one job each: gain, noise floor, masks, drift, persistence, shrink."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camera.motion.downscale import motion_size, shrink
from camera.motion.drift import DriftEstimator, shifted
from camera.motion.light import GainTracker, is_light_step
from camera.motion.masks import MaskCache, rasterize
from camera.motion.noise import NoiseFloor
from camera.motion.persistence import Blob, Persistence
from camera.motion.shading import is_lighting

RNG = np.random.default_rng(11)
TEXTURE = np.clip(
    120 + cv2.GaussianBlur(RNG.normal(0, 120, (100, 178)).astype(np.float32), (0, 0), 1.5), 0, 255
)


def test_gain_is_the_scene_factor_even_with_an_object_covering_a_third() -> None:
    tracker = GainTracker()
    tracker.update(TEXTURE)
    darker = TEXTURE * 0.8
    darker[:, :60] = 250.0  # a white van filling a third of the frame
    assert tracker.update(darker) == pytest.approx(0.8, abs=0.01)


def test_light_step_is_symmetric_in_log_terms() -> None:
    assert is_light_step(1.2, 0.15) and is_light_step(1 / 1.2, 0.15)
    assert not is_light_step(1.1, 0.15) and not is_light_step(1 / 1.1, 0.15)


@pytest.mark.parametrize("sigma", [2.0, 6.0, 15.0])
def test_noise_floor_measures_sensor_noise_and_ignores_exposure_changes(sigma: float) -> None:
    floor = NoiseFloor()
    previous = TEXTURE + RNG.normal(0, sigma, TEXTURE.shape).astype(np.float32)
    for i in range(1, 41):
        level = 1.1 if i % 2 else 1.0  # 10 % flicker: not noise
        gain = level / (1.1 if (i - 1) % 2 else 1.0)
        frame = (TEXTURE * level + RNG.normal(0, sigma, TEXTURE.shape)).astype(np.float32)
        estimate = floor.update(frame, previous, gain)
        previous = frame
    assert estimate == pytest.approx(sigma, rel=0.3)


def test_masks_are_rasterised_from_relative_polygons_at_any_size() -> None:
    left_half = [[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]]
    for shape in ((100, 178), (144, 256)):
        keep = rasterize(left_half, shape)
        assert keep is not None and keep.shape == shape
        assert keep[:, : shape[1] // 2 - 1].max() == 0 and keep[:, shape[1] // 2 + 1 :].min() == 255
    assert rasterize([], (100, 178)) is None
    cache = MaskCache(left_half)
    assert cache.kept_pixels((100, 178)) == pytest.approx(100 * 178 / 2, rel=0.02)
    assert MaskCache([]).kept_pixels((100, 178)) == 100 * 178


def test_drift_is_estimated_and_followed() -> None:
    estimator = DriftEstimator()
    moved = np.roll(TEXTURE, (2, -3), axis=(0, 1))  # down 2, left 3
    shift = estimator.shift(TEXTURE, moved)
    assert shift is not None
    assert shift == pytest.approx((-3, 2), abs=0.6)  # half-size phase correlation: ~0.5 px
    assert estimator.shift(TEXTURE, TEXTURE) is None
    aligned = shifted(TEXTURE, -3, 2, fill=moved)
    assert np.abs(aligned[4:-4, 4:-4] - moved[4:-4, 4:-4]).max() < 1e-3


def test_persistence_counts_a_walker_and_forgets_sparkles() -> None:
    persistence = Persistence(frames=3)
    walker = [Blob(10 + 3 * i, 20, 8, 20, 120) for i in range(5)]
    sparkles = [Blob(150 - 37 * i, 5 + 23 * (i % 4), 5, 5, 20) for i in range(5)]
    hits = [
        [s.hits for s in persistence.update([w, sp])]
        for w, sp in zip(walker, sparkles, strict=True)
    ]
    assert [h[0] for h in hits] == [1, 2, 3, 4, 5]
    assert all(h[1] == 1 for h in hits)


def test_object_verdicts_carry_over_light_verdicts_only_while_the_blob_keeps_its_size() -> None:
    persistence = Persistence(frames=1)
    (shadow,) = persistence.update([Blob(10, 10, 10, 10, 60)])
    shadow.light, shadow.judged_at = True, 1
    (same,) = persistence.update([Blob(11, 10, 10, 10, 62)])
    assert same.light is True
    (grown,) = persistence.update([Blob(11, 10, 20, 20, 250)])  # the person stepped in
    assert grown.light is None
    grown.light = False
    (merged,) = persistence.update([Blob(12, 10, 40, 20, 500)])
    assert merged.light is False


def test_texture_under_new_light_is_lighting_and_an_object_is_not() -> None:
    changed = np.zeros(TEXTURE.shape, np.uint8)
    changed[30:70, 40:120] = 255
    blob = Blob(40, 30, 80, 40, 3200)
    shadow = TEXTURE.copy()
    shadow[30:70, 40:120] *= 0.6
    assert is_lighting(shadow, TEXTURE, changed, blob)
    person = TEXTURE.copy()
    person[30:70, 40:120] = 40.0 + 10 * np.sin(np.arange(80) / 3.0)
    assert not is_lighting(person, TEXTURE, changed, blob)
    flat = np.full(TEXTURE.shape, 120, np.float32)
    flat_shadow = flat.copy()
    flat_shadow[30:70, 40:120] *= 0.6
    assert not is_lighting(flat_shadow, flat, changed, blob), "no texture: cannot tell, keep it"


def test_motion_size_follows_the_aspect_ratio_and_never_upscales() -> None:
    assert motion_size((1280, 720), 100) == (178, 100)
    assert motion_size((640, 480), 120) == (160, 120)
    assert motion_size((160, 90), 100) == (160, 90)


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (480, 270), (178, 100)])
def test_shrink_gives_gray_at_motion_size_from_bgr_or_gray(size: tuple[int, int]) -> None:
    image = cv2.resize(TEXTURE, size).astype(np.uint8)
    bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    for source in (image, bgr):
        small = shrink(source, (178, 100))
        assert small.shape == (100, 178) and small.dtype == np.uint8
        reference = cv2.resize(image, (178, 100), interpolation=cv2.INTER_AREA).astype(float)
        assert np.abs(small - reference).mean() < 12
