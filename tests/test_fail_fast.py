"""Fail fast, fail alone: a camera that is not there is said before the models load, and a
model variant whose timing fails costs one log line unless it is the pinned one."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import pytest

from camera.detect import DetectorConfig, ModelError, load_detector
from camera.detect.timing import TIMINGS_ENV
from camera.sources import SourceError
from camera.sources.factory import check_opencv_uri
from tests.cli_helpers import ronda, write_config

BUNDLED = Path(__file__).resolve().parent.parent / "models" / "manifest.json"


# -- the camera, before the models ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("uri", "said"),
    [
        ("picamera2", "picamera2 is not available"),
        ("/dev/video-ronda-test", "no such device"),
        ("front door", "is neither picamera2, a device"),
    ],
)
def test_run_says_a_missing_camera_before_loading_the_models(
    tmp_path: Path, uri: str, said: str
) -> None:
    config = write_config(tmp_path, source={"uri": uri}, mqtt={"enabled": False})
    env = {k: v for k, v in os.environ.items() if k != TIMINGS_ENV}  # timing would be slow
    env["PYTHONPATH"] = ""  # no fake picamera2 on the path
    done = ronda("run", "--config", config, timeout=120, env=env)
    assert done.returncode == 1, done.stderr
    assert said in done.stderr and done.stderr.count("\n") <= 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "timing" not in done.stderr and "loaded" not in done.stderr  # no model was touched
    assert not (tmp_path / "state" / "model-timings.json").exists()


@pytest.mark.parametrize("uri", ["rtsp://cam.local:554/stream1", "http://10.0.0.5/video.mjpg"])
def test_stream_urls_are_left_to_the_source(uri: str) -> None:
    check_opencv_uri(uri)  # whether it answers is the source's business (backoff)


@pytest.mark.parametrize("uri", ["rtsp://", "ftp://host/x", "99"])
def test_what_cannot_be_a_camera_is_refused(uri: str) -> None:
    with pytest.raises(SourceError) as caught:
        check_opencv_uri(uri)
    assert "\n" not in str(caught.value)


# -- a variant whose timing fails -----------------------------------------------------------------
@pytest.fixture
def broken_large_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A models folder with the 416 px variant (whose file the runtime cannot read, though its
    size and sha256 match the manifest: its timing child fails) and the 320 px one (intact); the
    variants are really timed, in child processes."""
    monkeypatch.delenv(TIMINGS_ENV)
    document = json.loads(BUNDLED.read_text())
    keep = {"picodet-s416-float32", "picodet-s320-float32"}
    document["variants"] = [v for v in document["variants"] if v["name"] in keep]
    folder = tmp_path / "models"
    folder.mkdir()
    for variant in document["variants"]:
        model = folder / variant["file"]
        shutil.copyfile(BUNDLED.parent / variant["file"], model)
        if variant["input"]["size"] == 416:
            model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
            variant["size"] = model.stat().st_size
            variant["sha256"] = hashlib.sha256(model.read_bytes()).hexdigest()
    manifest = folder / "manifest.json"
    manifest.write_text(json.dumps(document))
    return manifest


def test_a_variant_whose_timing_fails_is_skipped_with_one_line(
    broken_large_models: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="camera.detect")
    config = DetectorConfig(manifest=broken_large_models, threads=1)
    auto = load_detector(config, cache_dir=tmp_path)
    assert auto.variant == "picodet-s320-float32"  # 416 px would be picked if it timed
    auto.close()
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1 and "picodet-s416-float32" in skipped[0], skipped
    assert "timing picodet-s416-float32 failed" in skipped[0] and "\n" not in skipped[0]

    pinned_other = load_detector(
        config.model_copy(update={"variant": "picodet-s320-float32"}), cache_dir=tmp_path
    )
    assert pinned_other.variant == "picodet-s320-float32"
    pinned_other.close()


def test_a_pinned_variant_whose_timing_fails_is_fatal(
    broken_large_models: Path, tmp_path: Path
) -> None:
    config = DetectorConfig(manifest=broken_large_models, variant="picodet-s416-float32")
    with pytest.raises(ModelError) as caught:
        load_detector(config, cache_dir=tmp_path)
    message = str(caught.value)
    assert message.startswith("detector.variant picodet-s416-float32 cannot be used: timing")
    assert "\n" not in message and len(message) < 400
