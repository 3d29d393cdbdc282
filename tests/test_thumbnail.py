"""Thumbnails: a JPEG around the object, box drawn, within the byte budget."""

from __future__ import annotations

import cv2
import numpy as np

from camera.events import ThumbnailConfig, render_thumbnail
from camera.types import Box


def test_thumbnail_is_a_small_jpeg_around_the_object() -> None:
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)  # noise: worst case for JPEG
    box = Box(600, 200, 700, 500)
    data = render_thumbnail(frame, box, "person", ThumbnailConfig())
    assert data[:2] == b"\xff\xd8"
    assert len(data) <= 40_000
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    assert max(image.shape[:2]) <= 480
    # The crop is around the object with context, not the whole frame: roughly square.
    assert 0.7 < image.shape[1] / image.shape[0] < 1.4


def test_box_is_drawn_in_the_label_colour() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    data = render_thumbnail(frame, Box(200, 100, 300, 400), "person", ThumbnailConfig(context=0.2))
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    reds = (image[:, :, 2] > 150) & (image[:, :, 1] < 100)
    assert reds.sum() > 100


def test_tight_budget_is_respected() -> None:
    rng = np.random.default_rng(2)
    frame = rng.integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    config = ThumbnailConfig(max_bytes=8_000, max_side=1920)
    data = render_thumbnail(frame, Box(100, 100, 1800, 1000), "pet", config)
    assert len(data) <= 8_000
