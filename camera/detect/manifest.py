"""Find, read and check ``models/manifest.json``: every model variant and how to use it.

The manifest is the contract between ``models/build_onnx.py`` and the camera: file, sha256,
size, precision, input size and dtype, decoder family and the label mapping.  Everything is checked
here, once, at start-up, so a broken install fails with one clear line instead of odd detections.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import camera
from camera.detect.errors import ModelError
from camera.detect.letterbox import InputFormat
from camera.files import UnusableFile, describe_mode, describe_os_error, read_small, shown
from camera.types import PRECISIONS, Label, Precision

MODELS_DIR_ENV = "RONDA_MODELS_DIR"
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 10_000_000  # the bundled one is 12 KB
_LABELS: tuple[Label, ...] = ("person", "pet")
DEFAULT_FORMAT = InputFormat()  # NanoDet's centred black letterbox, BGR


@dataclass(frozen=True, slots=True)
class ClassMapping:
    """How one model class id maps to Ronda's label and the subclass it keeps."""

    label: Label
    subclass: str


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One variant of the manifest, with its file resolved to an absolute path."""

    name: str
    path: Path
    sha256: str
    size: int
    precision: Precision
    input_size: int
    input_dtype: str
    family: str
    decoder: Mapping[str, Any]
    """The family's decoder settings as the manifest gives them; the decoder validates them."""
    classes: dict[int, ClassMapping]
    input_format: InputFormat = DEFAULT_FORMAT
    """How the crop is fitted into the input and in which channel order (``input`` block)."""


def bundled_manifest() -> Path:
    """The manifest to use when the config names none.

    ``$RONDA_MODELS_DIR`` wins; then the ``models/`` folder beside the ``camera`` package (a
    checkout); then ``camera/bundled_models`` (package data of a wheel install); then
    ``<prefix>/share/ronda/models`` (where earlier installers copied them).  When none
    exists the checkout path is returned, so the error names the place a developer expects.
    """
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override) / MANIFEST_NAME
    package = Path(camera.__file__).resolve().parent
    checkout = package.parent / "models" / MANIFEST_NAME
    bundled = package / "bundled_models" / MANIFEST_NAME
    installed = Path(sys.prefix) / "share" / "ronda" / "models" / MANIFEST_NAME
    return next((p for p in (checkout, bundled, installed) if p.is_file()), checkout)


def read_manifest(path: Path) -> list[ModelSpec]:
    """Parse the manifest at ``path``; raises ModelError naming the file and the problem."""
    try:
        document = json.loads(read_small(path, MAX_MANIFEST_BYTES).decode("utf-8"))
    except UnusableFile as problem:
        if str(problem) == "does not exist":
            raise ModelError(
                f"models manifest not found: {shown(path)} (set detector.manifest or "
                f"{MODELS_DIR_ENV})"
            ) from None
        raise ModelError(f"models manifest unreadable: {shown(path)}: {problem}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelError(f"models manifest unreadable: {shown(path)}: {_one_line(exc)}") from None
    try:
        specs = [_variant(entry, path.parent) for entry in document["variants"]]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"models manifest invalid: {path}: {_one_line(exc)}") from None
    if not specs:
        raise ModelError(f"models manifest invalid: {path}: it lists no variants")
    return specs


def _variant(entry: dict, folder: Path) -> ModelSpec:
    precision = entry["precision"]
    if precision not in PRECISIONS:
        raise ValueError(f"variant {entry['name']!r}: unknown precision {precision!r}")
    classes = {}
    for class_id, mapping in entry["labels"].items():
        if mapping["label"] not in _LABELS:
            raise ValueError(f"class {class_id}: label must be person or pet")
        classes[int(class_id)] = ClassMapping(mapping["label"], str(mapping["subclass"]))
    return ModelSpec(
        name=str(entry["name"]),
        path=(folder / entry["file"]).resolve(),
        sha256=str(entry["sha256"]).lower(),
        size=int(entry["size"]),
        precision=precision,
        input_size=int(entry["input"]["size"]),
        input_dtype=str(entry["input"]["dtype"]),
        family=str(entry["decoder"]["family"]),
        decoder=dict(entry["decoder"]),
        classes=classes,
        input_format=_input_format(entry["input"]),
    )


# What manifests written before the input format was structured say (NanoDet's letterbox).
_LEGACY_RESIZE = "letterbox, centred, black padding"


def _input_format(block: dict) -> InputFormat:
    """The ``input`` block's resize, anchor, pad and channels (defaults: NanoDet's)."""
    resize = str(block.get("resize", "letterbox"))
    if resize == _LEGACY_RESIZE:
        resize = "letterbox"
    return InputFormat(
        resize=resize,
        anchor=str(block.get("anchor", "centre")),
        pad=int(block.get("pad", 0)),
        channels=str(block.get("channels", "BGR")),
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(spec: ModelSpec) -> None:
    """Raise ModelError unless the file exists with the manifest's size and sha256."""
    try:
        info = spec.path.stat()
    except FileNotFoundError:
        raise ModelError(
            f"model file missing: {spec.path} ({spec.name}); rebuild with "
            "models/build_onnx.py or reinstall"
        ) from None
    except OSError as error:
        raise ModelError(
            f"model file unreadable: {spec.path}: {describe_os_error(error)}"
        ) from None
    if (kind := describe_mode(info.st_mode)) is not None:  # /dev/zero would be hashed forever
        raise ModelError(f"model file unusable: {spec.path} {kind} ({spec.name})")
    size = info.st_size
    if size != spec.size:
        raise ModelError(
            f"model file corrupt: {spec.path} is {size} bytes, manifest says {spec.size}; "
            "restore it from the repository or rebuild"
        )
    try:
        actual = sha256_of(spec.path)
    except OSError as error:
        raise ModelError(
            f"model file unreadable: {spec.path}: {describe_os_error(error)}"
        ) from None
    if actual != spec.sha256:
        raise ModelError(
            f"model file sha256 mismatch: {spec.path} has {actual[:12]}…, manifest says "
            f"{spec.sha256[:12]}…; restore it or rebuild (and update the manifest)"
        )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
