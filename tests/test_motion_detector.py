"""MotionDetector on scenes the tests build themselves: what must wake it, and what must not."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import cv2
import numpy as np
import pytest

from camera.motion import MotionConfig, MotionDetector
from camera.types import Box, Frame, MotionResult

W, H = 640, 360
FPS = 10.0
OBJECT = (30, 60)  # width, height in full-frame pixels: a person ~1/6 of the frame high
PATH = np.s_[130:230, :]
LAWN = np.s_[240:360, :]  # textured ground below the path


def _scene(seed: int = 7) -> np.ndarray:
    """A float32 gray scene: strongly textured ground (grass/gravel-like) on a gradient, a bright
    flat wall that clips when brightened, and a lighter, finer-grained path where objects walk
    (so the tests' objects contrast with what they cover, as real people mostly do)."""
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.normal(0, 400, (H, W)).astype(np.float32), (0, 0), 3)
    gradient = np.linspace(60, 190, W, dtype=np.float32)[None, :].repeat(H, 0)
    scene = gradient + texture
    scene[20:90, 400:620] = 225.0
    scene[PATH] = 165.0 + 0.25 * texture[PATH]
    return np.clip(scene, 0, 255)


SCENE = _scene()


def _frame(image: np.ndarray, index: int, *, lores: bool = False) -> Frame:
    gray = np.clip(image, 0, 255).astype(np.uint8)
    if lores:
        small = cv2.resize(gray, (178, 100), interpolation=cv2.INTER_AREA)
        return Frame(np.zeros((H, W, 3), np.uint8), index / FPS, index, gray_small=small)
    return Frame(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), index / FPS, index)


def _with_object(image: np.ndarray, x: int, y: int, level: float = 35.0) -> np.ndarray:
    out = image.copy()
    out[y : y + OBJECT[1], x : x + OBJECT[0]] = level
    return out


def _walk(index: int, start: int = 20) -> tuple[int, int] | None:
    """Where the walking object is at ``index`` (left to right, 6 px per frame), if present."""
    return None if index < start else (40 + 6 * (index - start), 150)


def _run(
    images: Iterable[np.ndarray], config: MotionConfig | None = None, *, lores: bool = False
) -> list[MotionResult]:
    detector = MotionDetector(config or MotionConfig(), (W, H))
    return [detector.update(_frame(img, i, lores=lores)) for i, img in enumerate(images)]


def _sequence(n: int, make: Callable[[int], np.ndarray]) -> list[np.ndarray]:
    return [make(i) for i in range(n)]


def _covered(boxes: tuple[Box, ...], target: Box) -> float:
    """Fraction of ``target`` covered by the union of ``boxes`` (boxes may overlap)."""
    mask = np.zeros((H, W), np.uint8)
    for b in boxes:
        mask[int(b.y1) : int(np.ceil(b.y2)), int(b.x1) : int(np.ceil(b.x2))] = 1
    t = mask[int(target.y1) : int(target.y2), int(target.x1) : int(target.x2)]
    return float(t.mean()) if t.size else 0.0


def test_static_scene_never_wakes() -> None:
    results = _run([SCENE] * 40)
    assert not any(r.active for r in results)
    assert all(r.changed_fraction == 0.0 for r in results)
    assert not any(r.light_change for r in results)


@pytest.mark.parametrize("lores", [False, True], ids=["bgr", "gray_small"])
def test_moving_object_gives_boxes_that_cover_it(lores: bool) -> None:
    def make(i: int) -> np.ndarray:
        at = _walk(i)
        return SCENE if at is None else _with_object(SCENE, *at)

    results = _run(_sequence(100, make), lores=lores)
    assert not any(r.active for r in results[:20])
    persistence = MotionConfig().resolve().persistence_frames
    for i in range(20 + persistence, 100):
        at = _walk(i)
        assert at is not None
        target = Box(at[0], at[1], at[0] + OBJECT[0], at[1] + OBJECT[1])
        assert results[i].active, f"frame {i}: object not reported"
        assert _covered(results[i].boxes, target) >= 0.9, f"frame {i}: {results[i].boxes}"
        union = results[i].boxes[0]
        for b in results[i].boxes[1:]:
            union = union.union(b)
        # Boxes are in full-frame pixels and hug the object (one motion pixel is 3.6 px here).
        assert union.width < OBJECT[0] + 8 * 3.6 + 6 * 3.6
        assert union.height < OBJECT[1] + 8 * 3.6
        assert union.x1 >= 0 and union.x2 <= W and union.y1 >= 0 and union.y2 <= H
        assert 0.0 < results[i].changed_fraction < 0.05


@pytest.mark.parametrize("gain", [1.4, 0.6], ids=["brighter40", "darker40"])
def test_global_light_step_is_absorbed_not_reported(gain: float) -> None:
    step_at = 30
    images = [SCENE] * step_at + [SCENE * gain] * 50
    results = _run(images)
    assert results[step_at].light_change, "the step itself is flagged as a light change"
    assert not any(r.active for r in results), "no motion before, during or after re-learning"
    relearn = MotionConfig().resolve().relearn_frames
    assert not any(r.light_change for r in results[step_at + relearn + 1 :])


def test_light_step_does_not_blind_it_for_long() -> None:
    """A person walking while the lights switch on is seen again right after the re-learn."""
    step_at = 40

    def make(i: int) -> np.ndarray:
        at = _walk(i)
        image = SCENE if at is None else _with_object(SCENE, *at)
        return image * (1.4 if i >= step_at else 1.0)

    results = _run(_sequence(80, make))
    p = MotionConfig().resolve()
    back = step_at + p.relearn_frames + p.persistence_frames + 1
    assert all(r.active for r in results[back:])


@pytest.mark.parametrize("end", [1.4, 0.6], ids=["up", "down"])
def test_slow_light_ramp_never_wakes(end: float) -> None:
    """Clouds or dusk: 40 % over 10 s at 10 fps (0.3-0.5 % per frame)."""
    gains = list(np.linspace(1.0, end, 100)) + [end] * 20
    results = _run([SCENE * g for g in gains])
    assert not any(r.active for r in results)


def test_auto_exposure_steps_within_a_second_never_wake() -> None:
    """Our car park footage: auto-exposure moved the scene 2-8 % per frame for ~3 s."""
    gains = [1.0] * 10 + list(np.geomspace(1.0, 0.5, 12)) + list(np.geomspace(0.5, 1.0, 30))
    results = _run([SCENE * g for g in gains])
    assert not any(r.active for r in results)


@pytest.mark.parametrize("lores", [False, True], ids=["bgr", "gray_small"])
def test_sensor_noise_sigma_8_never_wakes(lores: bool) -> None:
    rng = np.random.default_rng(3)
    if lores:
        small = cv2.resize(SCENE, (178, 100), interpolation=cv2.INTER_AREA)
        detector = MotionDetector(MotionConfig(), (W, H))
        results = []
        for i in range(80):
            noisy = np.clip(small + rng.normal(0, 8, small.shape), 0, 255).astype(np.uint8)
            frame = Frame(np.zeros((H, W, 3), np.uint8), i / FPS, i, gray_small=noisy)
            results.append(detector.update(frame))
    else:
        results = _run(SCENE + rng.normal(0, 8, SCENE.shape) for _ in range(80))
    assert not any(r.active for r in results)


def test_heavy_noise_raises_the_threshold_but_objects_still_show() -> None:
    rng = np.random.default_rng(4)

    def make(i: int) -> np.ndarray:
        at = _walk(i, start=30)
        image = SCENE if at is None else _with_object(SCENE, *at, level=10.0)
        return image + rng.normal(0, 30, SCENE.shape)

    results = _run(_sequence(80, make))
    assert not any(r.active for r in results[:30])
    assert sum(r.active for r in results[30:]) >= 40


def test_mask_hides_motion_inside_it_and_only_there() -> None:
    # The left half of the frame is masked; one object walks there, another on the right.
    masked = MotionConfig(masks=[[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]])

    def left_only(i: int) -> np.ndarray:
        return _with_object(SCENE, 20 + 4 * i, 150)

    def both(i: int) -> np.ndarray:
        return _with_object(_with_object(SCENE, 20 + 4 * i, 150), 600 - 4 * i, 200)

    assert not any(r.active for r in _run(_sequence(50, left_only), masked))
    assert sum(r.active for r in _run(_sequence(50, left_only))) > 40, "unmasked, it is seen"
    results = _run(_sequence(50, both), masked)
    assert sum(r.active for r in results) > 40
    for r in results:
        for b in r.boxes:
            assert b.x1 >= W / 2 - 8, f"box {b} reaches into the masked half"


def test_mask_polygons_are_relative_so_they_survive_a_resolution_change() -> None:
    config = MotionConfig(masks=[[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]])
    big = cv2.resize(SCENE, (1280, 720))
    detector = MotionDetector(config, (1280, 720))
    results = []
    for i in range(40):
        image = big.copy()
        image[300:420, 40 + 8 * i : 100 + 8 * i] = 35.0  # inside the left half all along
        gray = np.clip(image, 0, 255).astype(np.uint8)
        results.append(detector.update(Frame(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), i / FPS, i)))
    assert not any(r.active for r in results)


def test_one_frame_sparkles_never_wake() -> None:
    """A drop on the lens, an insect through the IR beam, a decoding glitch: a bright blob
    somewhere else on every frame, each gone the next frame."""
    rng = np.random.default_rng(5)

    def make(i: int) -> np.ndarray:
        image = SCENE.copy()
        if i >= 5:
            x, y = int(rng.integers(0, W - 30)), int(rng.integers(0, H - 30))
            image[y : y + 20, x : x + 20] = 255.0
        return image

    assert not any(r.active for r in _run(_sequence(120, make)))


def test_rain_never_wakes() -> None:
    """Hundreds of short bright streaks per frame, different every frame."""
    rng = np.random.default_rng(8)

    def make(_: int) -> np.ndarray:
        image = SCENE.copy()
        xs = rng.integers(0, W - 2, 300)
        ys = rng.integers(0, H - 12, 300)
        for x, y in zip(xs, ys, strict=True):
            image[y : y + 12, x : x + 2] += 70.0
        return image

    assert not any(r.active for r in _run(_sequence(60, make)))


def test_a_single_glitch_frame_never_wakes() -> None:
    images = [SCENE] * 20 + [_with_object(SCENE, 300, 100)] + [SCENE] * 20
    assert not any(r.active for r in _run(images))


def test_persistence_frames_sets_the_delay() -> None:
    def make(i: int) -> np.ndarray:
        at = _walk(i)
        return SCENE if at is None else _with_object(SCENE, *at)

    for frames in (1, 2, 4):
        results = _run(_sequence(40, make), MotionConfig(persistence_frames=frames))
        first = next(i for i, r in enumerate(results) if r.active)
        assert first == 20 + frames - 1


def test_an_object_that_stops_stops_waking_it_and_leaves_no_ghost() -> None:
    """Stops for 15 s (absorbed by the recent background), then leaves: no ghost afterwards."""

    def make(i: int) -> np.ndarray:
        if i < 20 or i >= 200:
            return SCENE
        return _with_object(SCENE, 40 + 6 * min(i - 20, 20), 150)

    results = _run(_sequence(260, make))
    assert all(r.active for r in results[24:40]), "seen while walking"
    assert not any(r.active for r in results[150:200]), "quiet once it has stood for ~10 s"
    assert sum(r.active for r in results[200:]) <= 2, "no ghost when it leaves"


def _cloud(i: int) -> np.ndarray:
    """A cloud's shadow edge (30 % darker, soft) sliding over the lawn."""
    xs = np.arange(W, dtype=np.float32)
    image = SCENE.copy()
    image[LAWN] *= 1 - 0.3 / (1 + np.exp(-(xs - (-200 + 8 * i)) / 40.0))
    return image


def _headlight(i: int) -> np.ndarray:
    """A headlight beam sweeping across the lawn."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    x = -200 + 15 * i
    return SCENE + 120 * np.exp(-((xx - x) ** 2) / (2 * 80**2) - (yy - 300) ** 2 / (2 * 20**2))


@pytest.mark.parametrize("make", [_cloud, _headlight], ids=["cloud", "headlight"])
def test_local_light_changes_on_textured_ground_are_not_motion(
    make: Callable[[int], np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lawn's texture stays, only its brightness changes.  Patches where the lawn happens to
    be nearly flat cannot be judged and may still wake it for a frame; on flat ground light and
    smooth objects cannot be told apart at all (see README "Motion")."""
    woken = sum(r.active for r in _run(_sequence(80, make)))
    assert woken <= 2
    monkeypatch.setattr("camera.motion.shading.MIN_CORRELATION", 2.0)  # texture check off
    assert sum(r.active for r in _run(_sequence(80, make))) >= 30, "the scene is a real test"


def test_an_object_on_textured_ground_is_not_mistaken_for_light() -> None:
    def make(i: int) -> np.ndarray:
        return SCENE if i < 10 else _with_object(SCENE, 40 + 6 * (i - 10), 270, level=200.0)

    results = _run(_sequence(80, make))
    assert all(r.active for r in results[13:])


def test_camera_shake_of_a_pixel_or_two_never_wakes() -> None:
    rng = np.random.default_rng(6)
    padded = cv2.copyMakeBorder(SCENE, 4, 4, 4, 4, cv2.BORDER_REFLECT)

    def make(_: int) -> np.ndarray:
        dx, dy = (int(v) for v in rng.integers(-2, 3, 2))
        return padded[4 + dy : 4 + dy + H, 4 + dx : 4 + dx + W]

    assert not any(r.active for r in _run(_sequence(60, make)))


def test_a_slowly_drifting_camera_never_wakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """16 px (4.4 motion pixels) over 30 s, like our car park clip's mount; sharp wall edges."""
    padded = cv2.copyMakeBorder(SCENE, 0, 0, 0, 20, cv2.BORDER_REFLECT)

    def make(i: int) -> np.ndarray:
        dx = i * 16 // 300
        return padded[:, dx : dx + W]

    for sensitivity in ("medium", "high"):
        config = MotionConfig(sensitivity=sensitivity)  # type: ignore[arg-type]
        assert not any(r.active for r in _run(_sequence(300, make), config)), sensitivity
    monkeypatch.setattr("camera.motion.drift.MIN_RESPONSE", 2.0)  # realignment off
    assert sum(r.active for r in _run(_sequence(300, make))) > 30, "the drift is a real test"


def test_reset_forgets_the_background() -> None:
    detector = MotionDetector(MotionConfig(), (W, H))
    for i in range(10):
        detector.update(_frame(SCENE, i))
    detector.reset()
    # A different scene right after reset is the new background, not motion.
    other = _scene(seed=99)
    results = [detector.update(_frame(other, 10 + i)) for i in range(10)]
    assert not any(r.active for r in results)


def test_frame_size_change_starts_over() -> None:
    detector = MotionDetector(MotionConfig(), (W, H))
    for i in range(5):
        detector.update(_frame(SCENE, i))
    small = cv2.resize(SCENE, (320, 180))
    gray = small.astype(np.uint8)
    result = detector.update(Frame(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), 0.5, 5))
    assert not result.active


def test_timestamps_that_do_not_advance_are_tolerated() -> None:
    detector = MotionDetector(MotionConfig(), (W, H))
    results = []
    for i in range(60):
        at = _walk(i)
        image = SCENE if at is None else _with_object(SCENE, *at)
        gray = np.clip(image, 0, 255).astype(np.uint8)
        results.append(detector.update(Frame(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), 0.0, i)))
    assert not any(r.active for r in results[:20])
    assert all(r.active for r in results[25:])
