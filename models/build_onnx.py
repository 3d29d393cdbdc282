"""Build COCO detectors from their ONNX release files: ONNX -> onnx2tf -> float32 and int8 TFLite.

Run in the ONNX build venv (``models/requirements-build.txt``), from the repository root:

    python models/build_onnx.py            # the shipped variants -> models/ + manifest.json
    python models/build_onnx.py --candidates [--only picodet-s416 ...] [--sources DIR]
                                           # every candidate, both precisions (the survey)
                                           # -> models/build-cache/candidates

The default run builds exactly ``SHIPPED`` (family and precisions) from ``models/sources`` into
``models/`` and writes ``models/manifest.json`` (``default_variant: auto``) with those variants
only.  ``--candidates`` builds the survey's candidates (their files in
``/work/shared/models-incoming``, or wherever ``--sources`` says) into the build cache.

Per candidate (``CANDIDATES``): check the source file's sha256; rewrite the ONNX graph
(``onnx_surgery``: the family's normalisation in front so the model takes raw 0..255 pixels,
no NCHW reshapes left for the converter to wrap in layout transposes, head tensors with int8
ranges of their own); convert it channels-last with ``onnx2tf``; convert that to float32 TFLite
and to full-integer int8 TFLite (uint8 input as the camera's pixels, per-channel int8 weights,
activations calibrated on ``models/calibration.py``'s set prepared in the family's own input
format, float outputs); then check every file against onnxruntime on the *untouched* ONNX
source with the family's own pre-processing (largest output difference, and the detections on
real photos), and write ``manifest.json`` (the camera's schema) beside the files.

Nothing here is imported at run time.  The camera's decoders (``camera/detect/families``) are
loaded by path for the detection check, so the build checks the very code that runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import onnx2tf
import onnx_surgery as surgery
import onnxruntime
import onnxsim
import tensorflow as tf
import tf_keras
from calibration import InputFormat, Sample, calibration_set, describe, prepare

MODELS = Path(__file__).resolve().parent
REPO = MODELS.parent
LABELS = {0: ("person", "person"), 15: ("pet", "cat"), 16: ("pet", "dog")}
PRECISIONS = ("float32", "int8")
SHIPPED: dict[str, tuple[str, ...]] = {
    "picodet-s416": ("float32",),
    "picodet-s320": ("float32",),
}
"""What the repository ships: candidate -> precisions (issue 26's survey, docs/models.md)."""
REPRODUCIBLE = (
    "building twice with the pinned tools (models/requirements-build.txt) gives byte-identical "
    ".tflite files and manifest (checked by building twice)"
)
INT8_WITHHELD = (
    "int8 not shipped: post-training int8 (per-tensor activations) collapses PP-PicoDet-S's ESNet "
    "backbone (0 of 26 reference detections kept at 416); a float stem is not enough, because the "
    "two branches of every ES block are concatenated under one int8 scale (ranges 91 against 21 "
    "in the first block) and the depthwise convolution after each concatenation loses its small "
    "channels (relative error 0.1 -> 0.7-1.4 of the tensor's spread, block after block); see "
    "models/README.md"
)
IMAGENET_MEAN_RGB = (123.675, 116.28, 103.53)
IMAGENET_STD_RGB = (58.395, 57.12, 57.375)
# onnx2tf checks its conversion on this file of 20 RGB 128x128 images in 0..1 when it finds it in
# its working folder (else it downloads its own): made here from scikit-image's photos.
ONNX2TF_SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"
PARITY_SCORE = 0.3  # the camera's candidate floor (detector.min_score)


@dataclass(frozen=True)
class Candidate:
    """One variant family at one input size, and how to build it."""

    name: str  # variant name prefix, e.g. "picodet-s416"
    source: str
    sha256: str
    size: int
    fmt: InputFormat
    family: str
    input_name: str
    scale: tuple[float, ...]  # raw pixel -> model input: x * scale + bias, per channel
    bias: tuple[float, ...]
    rewrite: Callable[[onnx.ModelProto], dict[str, str]]
    """Edits the graph in place; returns the new outputs (name -> tensor) in their order."""
    reference: Callable[[list[np.ndarray]], dict[str, np.ndarray]]
    """The untouched source's outputs as the built model's outputs, each ``[cells, C]``."""
    decoder: dict
    origin: dict
    notes: list[str] = field(default_factory=list)
    float_ops: int = 0
    """Leading operators of the int8 model kept in float (see ``convert``)."""
    why_float: str = ""

    def file(self, precision: str) -> str:
        return f"{self.name.replace('-', '_')}_{precision}.tflite"


# -- the families -------------------------------------------------------------------------------


def _gfl_rewrite(strides: tuple[int, ...]) -> Callable[[onnx.ModelProto], dict[str, str]]:
    """PP-PicoDet: per stride, the class scores' and box bins' 4-D head tensors, in that order
    (the source lists every stride's scores, then every stride's boxes)."""

    def rewrite(model: onnx.ModelProto) -> dict[str, str]:
        surgery.split_head_convs(model)
        surgery.shuffles_to_gather(model)
        heads = [surgery.head_tensor(model, o.name) for o in model.graph.output]
        count = len(strides)
        outputs = {}
        for index, stride in enumerate(strides):
            outputs[f"cls_{stride}"] = heads[index]
            outputs[f"box_{stride}"] = heads[count + index]
        return outputs

    return rewrite


def _gfl_reference(strides: tuple[int, ...]) -> Callable[[list[np.ndarray]], dict]:
    def reference(outputs: list[np.ndarray]) -> dict[str, np.ndarray]:
        count = len(strides)
        named = {}
        for index, stride in enumerate(strides):
            named[f"cls_{stride}"] = outputs[index][0]
            named[f"box_{stride}"] = outputs[count + index][0]
        return named

    return reference


YOLOX_STRIDES = (8, 16, 32)


def _yolox_rewrite(model: onnx.ModelProto) -> dict[str, str]:
    """YOLOX: the source ends in Concat(per stride Reshape(Concat(box, objectness, classes)))
    then a Transpose; the graph is cut before the inner Concats."""
    (output,) = model.graph.output
    flattened = surgery.concat_inputs(model, surgery.head_tensor(model, output.name))
    outputs = {}
    for stride, tensor in zip(YOLOX_STRIDES, flattened, strict=True):
        per_stride = surgery.concat_inputs(model, surgery.head_tensor(model, tensor))
        for kind, part in zip(("box", "obj", "cls"), per_stride, strict=True):
            outputs[f"{kind}_{stride}"] = part
    return outputs


def _yolox_reference(size: int) -> Callable[[list[np.ndarray]], dict]:
    def reference(outputs: list[np.ndarray]) -> dict[str, np.ndarray]:
        rows = outputs[0][0]
        named, start = {}, 0
        for stride in YOLOX_STRIDES:
            cells = (size // stride) ** 2
            block = rows[start : start + cells]
            named |= {
                f"box_{stride}": block[:, :4],
                f"obj_{stride}": block[:, 4:5],
                f"cls_{stride}": block[:, 5:],
            }
            start += cells
        return named

    return reference


def _gfl_decoder(strides: tuple[int, ...]) -> dict:
    return {
        "family": "gfl",
        "strides": list(strides),
        "reg_max": 7,
        "cell_offset": 0.5,
        "scores": "sigmoid",
        "outputs": {str(s): {"scores": f"cls_{s}", "boxes": f"box_{s}"} for s in strides},
    }


def _picodet(
    name: str, source: str, sha256: str, size: int, origin: dict, notes: list[str]
) -> Candidate:
    strides = (8, 16, 32, 64)
    return Candidate(
        name=name,
        source=source,
        sha256=sha256,
        size=size,
        fmt=InputFormat(resize="stretch", channels="RGB"),
        family="gfl",
        input_name="image",
        scale=tuple(1.0 / s for s in IMAGENET_STD_RGB),
        bias=tuple(-m / s for m, s in zip(IMAGENET_MEAN_RGB, IMAGENET_STD_RGB, strict=True)),
        rewrite=_gfl_rewrite(strides),
        reference=_gfl_reference(strides),
        decoder=_gfl_decoder(strides),
        origin=origin,
        notes=notes,
    )


PICODET_S_ORIGIN = {
    "repository": "hpc203/picodet-onnxruntime",
    "commit": "dfe4d6cd0a18cd4126ee381e81df8a0b1e6ad97b",
    "upstream": "PaddlePaddle/PaddleDetection PP-PicoDet-S (legacy 2021 release, ESNet backbone), "
    "PaddleDetection's own paddle2onnx export",
    "licence": "Apache-2.0 (PaddlePaddle)",
    "trained_on": "COCO 2017 (80 classes)",
}
PICODET_XS_ORIGIN = {
    "repository": "PaddlePaddle/PaddleDetection",
    "commit": "4e8cb7cd1c8d9c69ea40da74a0c4720d7b986166",
    "upstream": "PaddlePaddle/PaddleDetection PP-PicoDet-XS (2022, LCNet backbone, PicoHeadV2), "
    "deploy/third_engine/demo_openvino/python/out_onnxsim",
    "licence": "Apache-2.0 (PaddlePaddle)",
    "trained_on": "COCO 2017 (80 classes)",
}
YOLOX_ORIGIN = {
    "repository": "Kazuhito00/YOLOX-ONNX-TFLite-Sample",
    "commit": "3d4f1119d0694200671c08069ecb847aa0d8495a",
    "upstream": "Megvii-BaseDetection/YOLOX yolox_nano, exported to ONNX (opset 11)",
    "licence": "Apache-2.0 (Megvii)",
    "trained_on": "COCO 2017 (80 classes)",
}
PICODET_NOTES = ["ESNet channel shuffles (Reshape-Transpose-Reshape) -> one channel Gather each"]

CANDIDATES = {
    c.name: c
    for c in [
        _picodet(
            "picodet-s416",
            "hpc203_picodet_s_416_coco.onnx",
            "cdab77bdde16e4f76bec734c4e5791801d1739e4c7ec1995e0e110e04300d0c2",
            416,
            PICODET_S_ORIGIN | {"path": "coco/picodet_s_416_coco.onnx"},
            PICODET_NOTES,
        ),
        _picodet(
            "picodet-s320",
            "hpc203_picodet_s_320_coco.onnx",
            "d7852a1508b36bfc2739770ad52ff28bf81e219dc5c15dd7868d5ebdf007b6c8",
            320,
            PICODET_S_ORIGIN | {"path": "coco/picodet_s_320_coco.onnx"},
            PICODET_NOTES,
        ),
        Candidate(
            name="yolox-nano416",
            source="kazuhito00_yolox_nano.onnx",
            sha256="695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14",
            size=416,
            fmt=InputFormat(resize="letterbox", anchor="top-left", pad=114, channels="BGR"),
            family="yolox",
            input_name="images",
            scale=(1.0, 1.0, 1.0),
            bias=(0.0, 0.0, 0.0),
            rewrite=_yolox_rewrite,
            reference=_yolox_reference(416),
            decoder={
                "family": "yolox",
                "strides": list(YOLOX_STRIDES),
                "scores": "objectness x class, sigmoid",
                "outputs": {
                    str(s): {"boxes": f"box_{s}", "objectness": f"obj_{s}", "scores": f"cls_{s}"}
                    for s in YOLOX_STRIDES
                },
            },
            origin=YOLOX_ORIGIN | {"path": "model/yolox_nano.onnx"},
            notes=["the final Concat of box offsets and probabilities cut: 9 outputs"],
        ),
        _picodet(
            "picodet-xs416",
            "paddledet_picodet_xs_416_processed.onnx",
            "8059fe99225b95298e90e00e2fd88b6803d4564b20d18315ef609eb851b2bae9",
            416,
            PICODET_XS_ORIGIN
            | {
                "path": "deploy/third_engine/demo_openvino/python/out_onnxsim/"
                "picodet_xs_416_processed.onnx"
            },
            [],
        ),
        _picodet(
            "picodet-xs320",
            "paddledet_picodet_xs_320_processed.onnx",
            "e83deca19863b127e702ae340ed7f7455334471886f0251413be459142a08aec",
            320,
            PICODET_XS_ORIGIN
            | {
                "path": "deploy/third_engine/demo_openvino/python/out_onnxsim/"
                "picodet_xs_320_processed.onnx"
            },
            [],
        ),
    ]
}


# -- building -----------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rewritten_onnx(candidate: Candidate, source: Path) -> tuple[onnx.ModelProto, list[str]]:
    """The source with the normalisation in front, the family's rewrites and its new outputs."""
    model = onnx.load(str(source))
    surgery.strip_initializer_inputs(model)
    surgery.fix_input(model, candidate.input_name, (1, 3, candidate.size, candidate.size))
    model, ok = onnxsim.simplify(model)  # folds Constant nodes into initializers
    if not ok:
        sys.exit(f"{source}: onnxsim could not check the simplified graph")
    outputs = candidate.rewrite(model)
    surgery.maxpool_pads_to_edge(model)
    surgery.set_outputs(model, outputs)
    if candidate.scale != (1.0, 1.0, 1.0) or any(candidate.bias):
        surgery.normalise_in_front(model, candidate.input_name, candidate.scale, candidate.bias)
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model)
    return model, list(outputs)


def onnx2tf_sample(folder: Path) -> None:
    """The sample file onnx2tf checks its conversion with (see ``ONNX2TF_SAMPLE``)."""
    import cv2
    import skimage.data

    images = []
    for name in ("astronaut", "chelsea", "coffee", "rocket", "camera"):
        rgb = getattr(skimage.data, name)()
        rgb = np.stack([rgb] * 3, axis=-1) if rgb.ndim == 2 else rgb[..., :3]
        images.append(cv2.resize(rgb, (128, 128), interpolation=cv2.INTER_AREA))
    batch = [np.rot90(images[i % 5], i // 5) for i in range(20)]
    np.save(folder / ONNX2TF_SAMPLE, np.stack(batch).astype(np.float32) / 255.0)


def to_tensorflow(onnx_path: Path, work: Path, names: list[str]):
    """onnx2tf's channels-last Keras model, saved with one signature: ``image`` in, the
    outputs named ``names``."""
    # Keras numbers layer names per process ("model_1/tf.math.add_422"): start afresh, so a file
    # does not depend on which candidates were built before it in the same run.
    tf_keras.backend.clear_session()
    tf.keras.backend.clear_session()
    previous = Path.cwd()
    os.chdir(work)  # onnx2tf reads its sample file from the working folder
    try:
        keras_model = onnx2tf.convert(
            input_onnx_file_path=str(onnx_path),
            output_folder_path=str(work / "saved_model"),
            disable_model_save=True,
            non_verbose=True,
            check_onnx_tf_outputs_sample_data_normalization="denorm",
        )
    finally:
        os.chdir(previous)
    (size, _, channels) = keras_model.inputs[0].shape[1:]

    def detect(image):
        results = keras_model(image)
        results = results if isinstance(results, list | tuple) else [results]
        return {name: tf.identity(r, name=name) for name, r in zip(names, results, strict=True)}

    spec = tf.TensorSpec([1, size, size, channels], tf.float32, name="image")
    archive = tf_keras.export.ExportArchive()  # tracks the variables onnx2tf's layers hold
    archive.track(keras_model)
    archive.add_endpoint(name="serving_default", fn=detect, input_signature=[spec])
    saved = work / "saved_model"
    archive.write_out(str(saved))
    return saved


def convert(
    saved: Path, samples: list[Sample] | None, float_ops: int = 0
) -> tuple[bytes, list[str]]:
    """float32 TFLite, or int8 (uint8 input, float outputs) when given samples: every operator
    int8, except the first ``float_ops`` of the all-int8 graph, kept in float (TensorFlow's
    selective quantization).  Returns the model and the float operators' output names."""

    def converter(integer: bool, only_int8: bool = True):
        made = tf.lite.TFLiteConverter.from_saved_model(str(saved))
        if integer:
            made.optimizations = [tf.lite.Optimize.DEFAULT]
            made.representative_dataset = representative
            if only_int8:
                made.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            made.inference_input_type = tf.uint8
            made.inference_output_type = tf.float32
        return made

    def representative():
        for sample in samples or []:
            yield {"image": sample.pixels[None].astype(np.float32)}

    if samples is None:
        return converter(False).convert(), []
    full = converter(True).convert()
    if not float_ops:
        return full, []
    kept = leading_outputs(full, float_ops)
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter(True, only_int8=False),
        debug_dataset=representative,
        debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=kept),
    )
    return debugger.get_nondebug_quantized_model(), kept


def leading_outputs(model: bytes, count: int) -> list[str]:
    """Output tensor names of the first ``count`` operators after the input's QUANTIZE."""
    interpreter = tf.lite.Interpreter(model_content=model)
    names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    ops = [op for op in interpreter._get_ops_details() if op["op_name"] != "QUANTIZE"]
    return [names[op["outputs"][0]] for op in ops[:count]]


class TfliteModel:
    def __init__(self, content: bytes) -> None:
        self.interpreter = tf.lite.Interpreter(model_content=content)
        self.interpreter.allocate_tensors()
        self.runner = self.interpreter.get_signature_runner()
        ((self.input, detail),) = self.runner.get_input_details().items()
        self.dtype = detail["dtype"]
        self.quantization = detail["quantization"]

    def ops(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op in self.interpreter._get_ops_details():
            counts[op["op_name"]] = counts.get(op["op_name"], 0) + 1
        return dict(sorted(counts.items()))

    def __call__(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        out = self.runner(**{self.input: pixels[None].astype(self.dtype)})
        return {k: v.reshape(-1, v.shape[-1]) for k, v in out.items()}


class Reference:
    """The untouched ONNX source under onnxruntime, fed as its family expects."""

    def __init__(self, candidate: Candidate, source: Path) -> None:
        model = onnx.load(str(source))
        surgery.strip_initializer_inputs(model)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(model.SerializeToString(), options)
        self.candidate = candidate

    def __call__(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        c = self.candidate
        x = pixels.astype(np.float32) * np.float32(c.scale) + np.float32(c.bias)
        feed = {c.input_name: x.transpose(2, 0, 1)[None].astype(np.float32)}
        return c.reference(self.session.run(None, feed))


def _camera_decoders():
    """``camera.detect.families`` and ``camera.detect.nms`` by path, without the package's
    ``__init__`` (which pulls in the whole camera's dependencies)."""
    for name, folder in (("camera", REPO / "camera"), ("camera.detect", REPO / "camera/detect")):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [str(folder)]
            sys.modules[name] = package
    import importlib

    return importlib.import_module, importlib.import_module("camera.detect.nms").nms


def detections(candidate: Candidate, outputs: dict[str, np.ndarray]) -> list[tuple]:
    """(class, score, box) the camera's decoder and a per-class NMS make of ``outputs``."""
    import_module, nms = _camera_decoders()
    family = import_module(f"camera.detect.families.{candidate.decoder['family']}")
    spec = types.SimpleNamespace(
        input_size=candidate.size, decoder=candidate.decoder, classes=dict.fromkeys(LABELS)
    )
    decoder = family.from_spec(spec)
    found = decoder.decode({k: v[None] for k, v in outputs.items()}, PARITY_SCORE)
    result = []
    for class_id in sorted(set(found.class_ids.tolist())):
        mine = found.class_ids == class_id
        keep = nms(found.boxes[mine], found.scores[mine], 0.5)
        result += [
            (class_id, float(found.scores[mine][k]), found.boxes[mine][k].tolist()) for k in keep
        ]
    return result


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def compare_detections(want: list[tuple], got: list[tuple]) -> dict:
    """Greedy same-class matching at IoU >= 0.5 of the reference's detections."""
    used, ious, score_diffs = set(), [], []
    for class_id, score, box in sorted(want, key=lambda d: -d[1]):
        best, best_iou = None, 0.5
        for index, (other_class, _, other_box) in enumerate(got):
            if index in used or other_class != class_id:
                continue
            if (overlap := _iou(box, other_box)) >= best_iou:
                best, best_iou = index, overlap
        if best is not None:
            used.add(best)
            ious.append(best_iou)
            score_diffs.append(abs(got[best][1] - score))
    return {
        "reference": len(want),
        "matched": len(ious),
        "extra": len(got) - len(used),
        "min_iou": round(min(ious), 3) if ious else None,
        "max_score_diff": round(max(score_diffs), 3) if score_diffs else None,
    }


def parity_images() -> list[tuple[str, np.ndarray]]:
    """Real photos with people, cats and dogs: the footage stills and two scikit-image photos."""
    import cv2
    import skimage.data

    images = [
        (f"tests/footage/stills/{p.name}", cv2.imread(str(p), cv2.IMREAD_COLOR))
        for p in sorted((REPO / "tests/footage/stills").glob("*.jpg"))
    ]
    for name in ("astronaut", "chelsea"):
        images.append(
            (f"skimage {name}", np.ascontiguousarray(getattr(skimage.data, name)()[..., ::-1]))
        )
    return images


def check(candidate: Candidate, reference: Reference, model: TfliteModel, integer: bool) -> dict:
    """Input contract, operators, and agreement with the ONNX source on real photos."""
    if integer and (model.dtype != np.uint8 or tuple(model.quantization) != (1.0, 0)):
        sys.exit(f"int8 input must be raw uint8 pixels, got {model.dtype} {model.quantization}")
    ops = model.ops()
    worst: dict[str, float] = {}
    totals = {"reference": 0, "matched": 0, "extra": 0}
    min_iou, max_score = 1.0, 0.0
    for _, image in parity_images():
        pixels, _ = prepare(image, candidate.size, candidate.fmt)
        want, got = reference(pixels), model(pixels)
        for name, value in want.items():
            diff = float(np.abs(got[name] - value.reshape(got[name].shape)).max())
            worst[name] = max(worst.get(name, 0.0), diff)
        match = compare_detections(detections(candidate, want), detections(candidate, got))
        for key in totals:
            totals[key] += match[key]
        if match["min_iou"] is not None:
            min_iou = min(min_iou, match["min_iou"])
            max_score = max(max_score, match["max_score_diff"])
    digits = 2 if integer else 4
    return {
        "transposes": ops.get("TRANSPOSE", 0),
        "operators": ops,
        "max_abs_diff_vs_onnxruntime": {k: round(v, digits) for k, v in sorted(worst.items())},
        "detections_vs_onnxruntime": totals
        | {"min_iou": round(min_iou, 2), "max_score_diff": round(max_score, 2)},
        "photos": [name for name, _ in parity_images()],
    }


def tools() -> dict:
    import cv2
    import skimage

    return {
        "python": platform.python_version(),
        "onnx2tf": onnx2tf.__version__,
        "tensorflow": tf.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "scikit-image": skimage.__version__,
    }


def variant_entry(candidate: Candidate, precision: str, out: Path, extra: dict) -> dict:
    path = out / candidate.file(precision)
    fmt = candidate.fmt
    block = {
        "size": candidate.size,
        "dtype": "uint8" if precision == "int8" else "float32",
        "layout": "NHWC",
        "channels": fmt.channels,
        "range": [0, 255],
        "resize": fmt.resize,
    }
    if fmt.resize == "letterbox":
        block |= {"anchor": fmt.anchor, "pad": fmt.pad}
    return {
        "name": f"{candidate.name}-{precision}",
        "file": path.name,
        "sha256": sha256_file(path),
        "size": path.stat().st_size,
        "precision": precision,
        "input": block,
        "normalisation": {
            "in_model": True,
            "order": fmt.channels,
            "scale": [round(s, 8) for s in candidate.scale],
            "bias": [round(b, 8) for b in candidate.bias],
            "note": "model input = raw pixel x scale + bias, per channel, inside the model",
        },
        "decoder": candidate.decoder,
        "labels_file": "labels.txt",
        "labels": {str(k): {"label": v[0], "subclass": v[1]} for k, v in LABELS.items()},
        "licence": f"{candidate.origin['licence']}; see models/NOTICE",
        "origin": candidate.origin | {"file": candidate.source, "sha256": candidate.sha256},
        "build": {"script": "models/build_onnx.py", "tools": tools(), "rewrites": candidate.notes}
        | extra,
    }


def build(
    candidate: Candidate,
    precisions: tuple[str, ...],
    sources: Path,
    out: Path,
    cache: Path,
    footage: Path | None,
) -> list[dict]:
    """``precisions`` of ``candidate`` into ``out``; returns their manifest entries."""
    source = sources / candidate.source
    actual = sha256_file(source)
    if candidate.sha256 and actual != candidate.sha256:
        sys.exit(f"{source}: sha256 {actual} differs from the pinned {candidate.sha256}")
    candidate = _with_sha(candidate, actual)
    work = cache / candidate.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    model, names = rewritten_onnx(candidate, source)
    onnx_path = work / "rewritten.onnx"
    onnx.save(model, str(onnx_path))
    onnx2tf_sample(work)
    saved = to_tensorflow(onnx_path, work, names)
    reference = Reference(candidate, source)
    integer_wanted = "int8" in precisions
    samples = calibration_set(footage, candidate.size, candidate.fmt) if integer_wanted else []
    entries = []
    for precision in precisions:
        integer = precision == "int8"
        content, float_layers = convert(
            saved, samples if integer else None, candidate.float_ops if integer else 0
        )
        (out / candidate.file(precision)).write_bytes(content)
        result = check(candidate, reference, TfliteModel(content), integer)
        digest = hashlib.sha256(content).hexdigest()
        print(f"{candidate.file(precision)}: {len(content)} bytes, sha256 {digest}", flush=True)
        print(json.dumps(result), flush=True)
        extra = {"check": result, "reproducible": REPRODUCIBLE}
        if "int8" not in precisions:
            extra["int8"] = INT8_WITHHELD
        if integer:
            footage_hash = sha256_file(footage / "manifest.json") if footage else None
            extra |= {
                "calibration": describe(samples, candidate.fmt)
                | {"footage_manifest_sha256": footage_hash},
                "int8": {
                    "weights": "int8, per output channel",
                    "activations": "int8, per tensor, ranges from the calibration set",
                    "float_layers": float_layers,
                    "why_float": candidate.why_float,
                },
            }
        entries.append(variant_entry(candidate, precision, out, extra))
    return entries


def _with_sha(candidate: Candidate, sha: str) -> Candidate:
    from dataclasses import replace

    return replace(candidate, sha256=sha)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--candidates", action="store_true", help="every candidate, both precisions (the survey)"
    )
    parser.add_argument("--only", nargs="*", choices=sorted(CANDIDATES), default=None)
    parser.add_argument("--sources", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--cache", type=Path, default=MODELS / "build-cache" / "onnx-work")
    parser.add_argument("--footage", type=Path, default=REPO / "tests" / "footage")
    args = parser.parse_args()
    footage = args.footage if (args.footage / "manifest.json").exists() else None
    if args.candidates:
        plan = {name: PRECISIONS for name in args.only or CANDIDATES}
        sources = args.sources or Path("/work/shared/models-incoming")
        out = args.out or MODELS / "build-cache" / "candidates"
    else:
        plan = {name: p for name, p in SHIPPED.items() if not args.only or name in args.only}
        sources, out = args.sources or MODELS / "sources", args.out or MODELS
    if footage is None and any("int8" in p for p in plan.values()):
        print(f"warning: no footage at {args.footage}; calibrating on scikit-image photos only")
    out.mkdir(parents=True, exist_ok=True)
    built = {}
    for name, precisions in plan.items():
        for entry in build(CANDIDATES[name], precisions, sources, out, args.cache, footage):
            built[entry["name"]] = entry
    manifest_path = out / "manifest.json"
    if args.candidates and manifest_path.exists():  # keep what an earlier --only run built
        built = {e["name"]: e for e in json.loads(manifest_path.read_text())["variants"]} | built
    order = [f"{n}-{p}" for n in CANDIDATES for p in PRECISIONS]
    variants = [built[n] for n in order if n in built]
    if out.resolve() != MODELS:
        shutil.copy(MODELS / "labels.txt", out / "labels.txt")
    document = {"schema": 1, "default_variant": "auto", "variants": variants}
    manifest_path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {manifest_path} ({len(variants)} variants)")


if __name__ == "__main__":
    main()
