"""Replay sources: real files decode with their own timeline; bad files fail in one line."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from camera.sources import SourceError, open_replay
from tests.conftest import footage

ONE_BY_ONE = "clips/intel_one-by-one-person-detection.mp4"


def test_mp4_timeline_comes_from_the_video() -> None:
    source = open_replay(footage(ONE_BY_ONE))
    assert source.fps == pytest.approx(10.0)
    frames = []
    for frame in source.frames():
        frames.append(frame)
        if len(frames) == 25:
            break
    source.close()
    assert [f.index for f in frames] == list(range(25))
    assert frames[24].timestamp == pytest.approx(2.4)
    assert frames[0].size == (768, 432)


def test_whole_clip_frame_count_matches_manifest() -> None:
    source = open_replay(footage("clips/intel_car-detection.mp4"))
    assert sum(1 for _ in source.frames()) == 377


def test_gif_and_avi_decode() -> None:
    gif = open_replay(footage("clips/intel_people-detection_preview.gif"))
    assert sum(1 for _ in gif.frames()) == 23
    avi = open_replay(footage("clips/bgslibrary_video.avi"))
    first = next(iter(avi.frames()))
    assert first.image.shape == (360, 640, 3)


def test_image_folder_in_natural_order(tmp_path: Path) -> None:
    for i in (1, 2, 10):
        image = np.full((48, 64, 3), i, np.uint8)
        cv2.imwrite(str(tmp_path / f"img{i}.png"), image)
    frames = list(open_replay(tmp_path).frames())
    assert [int(f.image[0, 0, 0]) for f in frames] == [1, 2, 10]
    assert frames[2].timestamp == pytest.approx(0.2)


def test_missing_video_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"^video not found: .*nope\.mp4$"):
        open_replay(tmp_path / "nope.mp4")


def test_corrupt_video_is_one_clear_line(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    with pytest.raises(SourceError) as error:
        open_replay(corrupt)
    assert "cannot decode video" in str(error.value)
    assert "\n" not in str(error.value)


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no images"):
        open_replay(tmp_path)
