"""Infrared crops reach the detector as grey in three channels; colour crops are untouched."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camera.detect.infrared import is_monochrome, model_view
from tests.conftest import FOOTAGE


@pytest.fixture(scope="module")
def colour() -> np.ndarray:
    return cv2.imread(str(FOOTAGE / "stills" / "opencvcourse_cats.jpg"))


def test_a_colour_crop_is_handed_over_as_it_is(colour):
    assert not is_monochrome(colour)
    assert model_view(colour, night_contrast=True) is colour


def test_a_one_channel_crop_becomes_three_equal_channels(colour):
    grey = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
    view = model_view(grey, night_contrast=False)
    assert view.shape == (*grey.shape, 3)
    assert np.array_equal(view[:, :, 0], grey) and np.array_equal(view[:, :, 2], grey)


def test_an_infrared_frame_encoded_as_colour_is_grey_and_its_contrast_spread(colour):
    """An IR picture stored as colour (chroma noise of a few levels), dark and flat."""
    grey = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY) // 4 + 10  # dark, a quarter of the range
    noise = np.random.default_rng(1).integers(-2, 3, (*grey.shape, 3))
    infrared = np.clip(grey[:, :, None] + noise, 0, 255).astype(np.uint8)
    assert is_monochrome(infrared)
    plain = model_view(infrared, night_contrast=False)
    spread = model_view(infrared, night_contrast=True)
    assert plain is infrared  # off: exactly what the camera gave
    assert np.array_equal(spread[:, :, 0], spread[:, :, 1])
    assert float(np.std(spread)) > 1.5 * float(np.std(plain))
