"""Decoder families and input formats on synthetic data: the decoding maths of GFL (PicoDet's
layout) and YOLOX, and each way a variant's manifest asks for its pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from camera.detect import ModelError
from camera.detect.decoding import decoder_for
from camera.detect.families.gfl import GflDecoder
from camera.detect.families.yolox import YoloxDecoder
from camera.detect.letterbox import InputFormat, prepare
from camera.detect.manifest import ClassMapping, ModelSpec, read_manifest

CLASSES = [0, 15, 16]


def spec(family: str, decoder: dict, size: int = 320) -> ModelSpec:
    mapping = {0: ClassMapping("person", "person"), 15: ClassMapping("pet", "cat"),
               16: ClassMapping("pet", "dog")}  # fmt: skip
    return ModelSpec(
        "m", Path("m.tflite"), "0" * 64, 1, "int8", size, "uint8", family,
        {"family": family, **decoder}, mapping,
    )  # fmt: skip


def picodet_outputs(size: int = 320) -> dict[str, np.ndarray]:
    """Channels-last heads, as the build writes them: [1, H, W, C] per stride 8..64."""
    out = {}
    for stride in (8, 16, 32, 64):
        cells = -(-size // stride)
        out[f"cls_{stride}"] = np.zeros((1, cells, cells, 80), np.float32)
        out[f"box_{stride}"] = np.full((1, cells, cells, 32), -50.0, np.float32)
    return out


PICODET = {
    "strides": [8, 16, 32, 64],
    "reg_max": 7,
    "cell_offset": 0.5,
    "outputs": {str(s): {"scores": f"cls_{s}", "boxes": f"box_{s}"} for s in (8, 16, 32, 64)},
}


def test_gfl_reads_channels_last_heads_row_major_with_eight_bins():
    outputs = picodet_outputs()
    row, col, stride = 2, 3, 64  # a 5 x 5 grid at 320 px (ceil)
    outputs["cls_64"][0, row, col, 15] = 0.8
    bins = outputs["box_64"][0, row, col].reshape(4, 8)
    for side, index in enumerate((1, 2, 3, 7)):  # left, top, right, bottom
        bins[side, index] = 50.0
    decoder = decoder_for(spec("gfl", PICODET), {k: v.shape for k, v in outputs.items()})
    found = decoder.decode(outputs, 0.3)
    cx, cy = (col + 0.5) * stride, (row + 0.5) * stride
    np.testing.assert_allclose(found.boxes, [[cx - 64, cy - 128, cx + 192, cy + 448]], atol=1e-3)
    assert found.class_ids.tolist() == [15]


def test_gfl_cell_offset_moves_the_anchor_and_shapes_are_checked():
    outputs = picodet_outputs()
    outputs["cls_8"][0, 0, 1, 0] = 0.6
    outputs["box_8"][0, 0, 1].reshape(4, 8)[:, 0] = 50.0  # zero distance: the anchor itself
    corner = GflDecoder(320, (8, 16, 32, 64), 7, PICODET["outputs"], CLASSES, cell_offset=0.0)
    np.testing.assert_allclose(corner.decode(outputs, 0.3).boxes, [[8, 0, 8, 0]], atol=1e-3)
    shapes = {k: v.shape for k, v in outputs.items()}
    shapes["box_16"] = (1, 20, 20, 44)
    assert "box_16" in corner.check(shapes)


YOLOX = {
    "strides": [8, 16, 32],
    "outputs": {
        str(s): {"boxes": f"box_{s}", "objectness": f"obj_{s}", "scores": f"cls_{s}"}
        for s in (8, 16, 32)
    },
}


def yolox_outputs(size: int = 416) -> dict[str, np.ndarray]:
    out = {}
    for stride in (8, 16, 32):
        cells = size // stride
        out[f"box_{stride}"] = np.zeros((1, cells, cells, 4), np.float32)
        out[f"obj_{stride}"] = np.zeros((1, cells, cells, 1), np.float32)
        out[f"cls_{stride}"] = np.zeros((1, cells, cells, 80), np.float32)
    return out


def test_yolox_box_is_offset_from_the_cell_corner_with_log_sizes_and_score_is_obj_x_cls():
    outputs = yolox_outputs()
    row, col, stride = 4, 7, 32
    outputs["obj_32"][0, row, col, 0] = 0.9
    outputs["cls_32"][0, row, col, 0] = 0.5  # person: 0.45
    outputs["cls_32"][0, row, col, 2] = 0.99  # car: not mapped
    outputs["box_32"][0, row, col] = (0.25, 0.5, np.log(2.0), np.log(4.0))
    decoder = decoder_for(spec("yolox", YOLOX, 416), {k: v.shape for k, v in outputs.items()})
    assert isinstance(decoder, YoloxDecoder)
    found = decoder.decode(outputs, 0.3)
    cx, cy = (col + 0.25) * stride, (row + 0.5) * stride
    np.testing.assert_allclose(found.boxes, [[cx - 32, cy - 64, cx + 32, cy + 64]], atol=1e-3)
    assert found.scores.tolist() == pytest.approx([0.45])
    assert decoder.decode(outputs, 0.5).boxes.shape == (0, 4)  # obj x cls, not cls alone


def test_yolox_refuses_a_single_concatenated_output():
    shapes = {k: v.shape for k, v in yolox_outputs().items()}
    shapes["box_8"] = (1, 52, 52, 85)
    with pytest.raises(ModelError, match="box_8"):
        decoder_for(spec("yolox", YOLOX, 416), shapes)


def test_stretch_fills_the_square_and_maps_back_per_axis():
    image = np.zeros((100, 300, 3), np.uint8)
    image[:, :, 2] = 200  # red in BGR
    pixels, placement = prepare(image, 320, InputFormat(resize="stretch", channels="RGB"))
    assert pixels.shape == (320, 320, 3)
    assert (pixels[..., 0] == 200).all() and (pixels[..., 2] == 0).all()  # now RGB
    back = placement.to_source(np.array([[0, 0, 320, 320]], np.float32))
    np.testing.assert_allclose(back, [[0, 0, 300, 100]], atol=1e-3)


def test_top_left_letterbox_pads_grey_below_and_right():
    image = np.full((200, 400, 3), 10, np.uint8)
    fmt = InputFormat(resize="letterbox", anchor="top-left", pad=114)
    pixels, placement = prepare(image, 416, fmt)
    assert (pixels[:208] == 10).all() and (pixels[208:] == 114).all()
    assert (placement.offset_x, placement.offset_y) == (0.0, 0.0)
    back = placement.to_source(np.array([[0, 0, 416, 208]], np.float32))
    np.testing.assert_allclose(back, [[0, 0, 400, 200]], atol=1e-3)


def write_manifest(folder: Path, input_block: dict) -> Path:
    variant = {
        "name": "x-int8", "file": "x.tflite", "sha256": "0" * 64, "size": 1,
        "precision": "int8", "input": {"size": 320, "dtype": "uint8", **input_block},
        "decoder": {"family": "gfl"}, "labels": {"0": {"label": "person", "subclass": "person"}},
    }  # fmt: skip
    path = folder / "manifest.json"
    path.write_text(json.dumps({"schema": 1, "variants": [variant]}))
    return path


def test_manifest_states_the_input_format_and_old_manifests_keep_nanodets(tmp_path):
    new = {"resize": "stretch", "channels": "RGB"}
    (variant,) = read_manifest(write_manifest(tmp_path, new))
    assert variant.input_format == InputFormat(resize="stretch", channels="RGB")
    old = {"resize": "letterbox, centred, black padding", "channels": "BGR"}
    (variant,) = read_manifest(write_manifest(tmp_path, old))
    assert variant.input_format == InputFormat()


def test_an_unknown_input_format_is_one_clear_error(tmp_path):
    path = write_manifest(tmp_path, {"resize": "crop"})
    with pytest.raises(ModelError, match=r"models manifest invalid:.*'crop' is not one of"):
        read_manifest(path)
