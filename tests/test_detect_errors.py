"""Broken installs fail at start with one clear line: missing, corrupt, altered, bad manifest,
no runtime.  Also where the bundled manifest is looked for, and the ``ronda models`` catalog."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from camera.detect import DetectorConfig, ModelError, load_detector
from camera.detect import runtime as runtime_module
from camera.detect.catalog import catalog
from camera.detect.manifest import MODELS_DIR_ENV, bundled_manifest

BUNDLED = Path("models/manifest.json")
SMALLEST = "picodet-s320-float32"
OTHER = "picodet-s416-float32"


def one_variant_manifest(folder: Path, edit=None) -> Path:
    """A manifest in ``folder`` listing only the smallest variant (``SMALLEST``), with a copy of
    its file.

    ``edit(variant, model_path)`` may damage the copy or the entry before the manifest is written.
    """
    document = json.loads(BUNDLED.read_text())
    variant = next(v for v in document["variants"] if v["name"] == SMALLEST)
    model = folder / variant["file"]
    shutil.copyfile(BUNDLED.parent / variant["file"], model)
    if edit is not None:
        edit(variant, model)
    document["variants"] = [variant]
    path = folder / "manifest.json"
    path.write_text(json.dumps(document))
    return path


def load_error(manifest: Path) -> str:
    with pytest.raises(ModelError) as caught:
        load_detector(DetectorConfig(manifest=manifest))
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300, message
    return message


def test_a_clean_copy_loads(tmp_path):
    detector = load_detector(DetectorConfig(manifest=one_variant_manifest(tmp_path), threads=1))
    assert detector.variant == SMALLEST
    detector.close()


def test_missing_model_file(tmp_path):
    manifest = one_variant_manifest(tmp_path, lambda variant, model: model.unlink())
    message = load_error(manifest)
    assert message.startswith("model file missing:")
    assert str(tmp_path / "picodet_s320_float32.tflite") in message


def truncate(variant, model):
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])


def test_truncated_model_file(tmp_path):
    message = load_error(one_variant_manifest(tmp_path, truncate))
    assert message.startswith("model file corrupt:")
    assert "bytes, manifest says" in message


def test_truncated_model_with_matching_manifest_is_unreadable(tmp_path):
    """Someone 'fixed' the manifest to the damaged file: the runtime still refuses it."""

    def truncate_and_rehash(variant, model):
        truncate(variant, model)
        variant["size"] = model.stat().st_size
        variant["sha256"] = hashlib.sha256(model.read_bytes()).hexdigest()

    message = load_error(one_variant_manifest(tmp_path, truncate_and_rehash))
    assert message.startswith("model file unreadable by ")


def test_altered_model_file(tmp_path):
    def flip_one_byte(variant, model):
        data = bytearray(model.read_bytes())
        data[len(data) // 2] ^= 0xFF
        model.write_bytes(bytes(data))

    message = load_error(one_variant_manifest(tmp_path, flip_one_byte))
    assert message.startswith("model file sha256 mismatch:")


@pytest.mark.parametrize(
    ("content", "start"),
    [
        ("{not json", "models manifest unreadable:"),
        ('{"schema": 1}', "models manifest invalid:"),
        ('{"variants": []}', "models manifest invalid:"),
        ('{"variants": [{"name": "x", "precision": "int4"}]}', "models manifest invalid:"),
    ],
    ids=["not-json", "no-variants-key", "empty", "bad-precision"],
)
def test_bad_manifest(tmp_path, content, start):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(content)
    message = load_error(manifest)
    assert message.startswith(start)
    assert str(manifest) in message


def test_missing_manifest(tmp_path):
    message = load_error(tmp_path / "nowhere" / "manifest.json")
    assert message.startswith("models manifest not found:")


def test_unknown_label_in_manifest(tmp_path):
    def label_car(variant, model):
        variant["labels"]["2"] = {"label": "vehicle", "subclass": "car"}

    assert "label must be person or pet" in load_error(one_variant_manifest(tmp_path, label_car))


def test_pinned_variant_not_in_the_manifest(tmp_path):
    manifest = one_variant_manifest(tmp_path)
    pinned = DetectorConfig(manifest=manifest, variant=OTHER)
    with pytest.raises(ModelError, match=f"'{OTHER}' is not in the models manifest"):
        load_detector(pinned)


def test_no_runtime_installed(monkeypatch, tmp_path):
    monkeypatch.setattr(runtime_module, "RUNTIMES", ("ronda_no_such_runtime",))
    message = load_error(one_variant_manifest(tmp_path))
    assert message.startswith("no TFLite runtime:")
    assert "ai-edge-litert" in message


def test_switching_to_a_variant_not_loaded_keeps_the_running_model(tmp_path, caplog):
    detector = load_detector(DetectorConfig(manifest=one_variant_manifest(tmp_path)))
    with caplog.at_level(logging.WARNING, logger="camera.detect"):
        detector.set_variant(OTHER)
    assert (detector.variant, detector.precision) == (SMALLEST, "float32")
    assert f"{OTHER} is not loaded" in caplog.text
    detector.close()
    with pytest.raises(RuntimeError, match="closed"):
        detector.detect(np.zeros((8, 8, 3), np.uint8), [])


# -- where the bundled manifest is found --


def test_bundled_manifest_is_the_checkout_models_folder(monkeypatch):
    monkeypatch.delenv(MODELS_DIR_ENV, raising=False)
    assert bundled_manifest() == BUNDLED.resolve()


def test_models_dir_env_overrides(monkeypatch, tmp_path):
    manifest = one_variant_manifest(tmp_path, truncate)
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path))
    assert bundled_manifest() == manifest
    with pytest.raises(ModelError, match="model file corrupt"):
        load_detector(DetectorConfig())


# -- the catalog behind `ronda models` --


def test_catalog_times_every_bundled_variant(monkeypatch):
    monkeypatch.delenv(MODELS_DIR_ENV, raising=False)
    entries = {e.name: e for e in catalog(runs=2, threads=1)}
    assert set(entries) == {SMALLEST, OTHER}
    for entry in entries.values():
        assert entry.sha256_ok and entry.error is None
        assert entry.median_ms is not None and entry.median_ms > 0
        assert entry.size == entry.file.stat().st_size


def test_catalog_reports_a_broken_variant_instead_of_failing(tmp_path):
    (entry,) = catalog(one_variant_manifest(tmp_path, truncate), runs=2)
    assert not entry.sha256_ok
    assert entry.median_ms is None
    assert entry.error.startswith("model file corrupt:")
