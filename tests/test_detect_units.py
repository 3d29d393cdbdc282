"""The detector's pure parts on synthetic data: decoder, NMS, letterbox, config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from camera.detect import DetectorConfig, ModelError
from camera.detect.decoding import decoder_for
from camera.detect.families.nanodet import NanoDetDecoder
from camera.detect.letterbox import letterbox
from camera.detect.manifest import ClassMapping, ModelSpec
from camera.detect.merge import merge_detections
from camera.detect.nms import nms

OUTPUTS = {str(s): {"scores": f"cls_{s}", "boxes": f"box_{s}"} for s in (8, 16, 32)}


def raw_outputs(size: int = 416, classes: int = 80, bins: int = 11) -> dict[str, np.ndarray]:
    out = {}
    for stride in (8, 16, 32):
        cells = (size // stride) ** 2
        out[f"cls_{stride}"] = np.zeros((1, cells, classes), np.float32)
        out[f"box_{stride}"] = np.zeros((1, cells, 4 * bins), np.float32)
    return out


def make_decoder() -> NanoDetDecoder:
    return NanoDetDecoder(416, (8, 16, 32), 10, OUTPUTS, [0, 15, 16])


def test_decoder_places_a_box_around_its_cell_centre():
    outputs = raw_outputs()
    row, col, stride = 3, 5, 16
    cell = row * (416 // stride) + col
    outputs["cls_16"][0, cell, 16] = 0.9  # dog
    outputs["cls_16"][0, cell, 2] = 0.99  # car: not a class Ronda maps
    logits = np.full((4, 11), -50.0, np.float32)
    for side, bin_index in enumerate((2, 3, 4, 5)):  # left, top, right, bottom
        logits[side, bin_index] = 50.0
    outputs["box_16"][0, cell] = logits.ravel()

    found = make_decoder().decode(outputs, min_score=0.3)

    cx, cy = (col + 0.5) * stride, (row + 0.5) * stride
    expected = [cx - 2 * stride, cy - 3 * stride, cx + 4 * stride, cy + 5 * stride]
    np.testing.assert_allclose(found.boxes, [expected], atol=1e-3)
    assert found.class_ids.tolist() == [16]
    assert found.scores.tolist() == pytest.approx([0.9])


def test_decoder_uses_the_expected_bin_not_the_top_one():
    outputs = raw_outputs()
    outputs["cls_8"][0, 0, 0] = 0.5
    logits = np.full((4, 11), -50.0, np.float32)
    logits[:, 1] = logits[:, 2] = 0.0  # half on bin 1, half on bin 2: 1.5 bins
    outputs["box_8"][0, 0] = logits.ravel()
    (box,) = make_decoder().decode(outputs, 0.3).boxes
    np.testing.assert_allclose(box, [4 - 12, 4 - 12, 4 + 12, 4 + 12], atol=1e-3)


def test_decoder_floor_and_shape_check():
    decoder = make_decoder()
    outputs = raw_outputs()
    outputs["cls_32"][0, 7, 15] = 0.29
    assert decoder.decode(outputs, 0.3).boxes.shape == (0, 4)
    assert decoder.decode(outputs, 0.25).class_ids.tolist() == [15]
    shapes = {name: value.shape for name, value in outputs.items()}
    assert decoder.check(shapes) is None
    shapes["box_8"] = (1, 2704, 40)
    assert "box_8" in decoder.check(shapes)


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    keep = nms(boxes, np.array([0.6, 0.9, 0.5], np.float32), 0.5)
    assert keep.tolist() == [1, 2]


def test_nms_merges_a_cut_box_only_across_regions():
    whole, cut = [0, 0, 100, 200], [0, 0, 40, 200]  # IoU 0.4: plain NMS keeps both
    boxes = np.array([whole, cut], np.float32)
    scores = np.array([0.8, 0.7], np.float32)
    assert nms(boxes, scores, 0.5).tolist() == [0, 1]
    assert nms(boxes, scores, 0.5, np.array([0, 0]), 0.8).tolist() == [0, 1]  # same region
    assert nms(boxes, scores, 0.5, np.array([0, 1]), 0.8).tolist() == [0]


@pytest.mark.parametrize("shape", [(100, 200, 3), (300, 120, 3), (416, 416, 3), (900, 1600, 3)])
def test_letterbox_keeps_aspect_and_maps_back(shape):
    image = np.full(shape, 200, np.uint8)
    canvas, placement = letterbox(image, 416)
    assert canvas.shape == (416, 416, 3)
    assert placement.scale_x == pytest.approx(placement.scale_y, rel=0.01)
    filled = np.argwhere(canvas[..., 0] == 200)
    (top, left), (bottom, right) = filled.min(0), filled.max(0) + 1
    back = placement.to_source(np.array([[left, top, right, bottom]], np.float32))[0]
    np.testing.assert_allclose(back, [0, 0, shape[1], shape[0]], atol=0.5)
    assert min(top, left) == 0 or max(bottom, right) == 416  # touches the canvas on one axis
    assert abs(top - (416 - bottom)) <= 1 and abs(left - (416 - right)) <= 1  # centred


def test_config_is_strict():
    assert (DetectorConfig().variant, DetectorConfig().budget_ms) == ("auto", 300.0)
    with pytest.raises(ValidationError, match="threads"):
        DetectorConfig(threads=0)
    with pytest.raises(ValidationError, match="budget_ms"):
        DetectorConfig(budget_ms=float("nan"))
    with pytest.raises(ValidationError, match=r"replaced by detector\.variant"):
        DetectorConfig.model_validate({"precision": "int8"})  # an old config says what to write
    with pytest.raises(ValidationError, match="extra"):
        DetectorConfig(score=0.5)


CLASSES = {
    0: ClassMapping("person", "person"),
    15: ClassMapping("pet", "cat"),
    16: ClassMapping("pet", "dog"),
}


def merge(rows, nms_iou=0.5):
    """rows: (region, class id, score, x1, y1, x2, y2)."""
    table = np.array(rows, dtype=np.float64)
    return merge_detections(
        table[:, 3:].astype(np.float32),
        table[:, 2].astype(np.float32),
        table[:, 1].astype(int),
        table[:, 0].astype(int),
        CLASSES,
        nms_iou,
    )


def test_merge_cat_and_dog_on_one_animal_is_one_pet():
    found = merge([(0, 15, 0.6, 10, 10, 110, 90), (0, 16, 0.4, 12, 10, 112, 92)])
    assert [(d.label, d.subclass, d.score) for d in found] == [("pet", "cat", pytest.approx(0.6))]


def test_merge_drops_a_pet_echo_of_a_person_but_keeps_a_pet_beside_one():
    found = merge(
        [
            (0, 0, 0.47, 350, 85, 515, 426),  # person seen from behind ...
            (0, 16, 0.60, 352, 85, 509, 425),  # ... also scored as dog, same box
            (0, 15, 0.50, 520, 350, 600, 426),  # a cat at the person's feet
        ]
    )
    assert [(d.subclass, d.box.as_list()) for d in found] == [
        ("cat", [520, 350, 600, 426]),
        ("person", [350, 85, 515, 426]),
    ]


def test_merge_keeps_two_people_and_sorts_by_score():
    found = merge([(0, 0, 0.5, 0, 0, 50, 100), (1, 0, 0.9, 200, 0, 250, 100)])
    assert [d.score for d in found] == pytest.approx([0.9, 0.5])


def test_merge_keeps_a_strong_pet_with_a_faint_person_echo():
    found = merge([(0, 16, 0.54, 100, 50, 300, 400), (0, 0, 0.23, 102, 50, 300, 398)])
    assert [d.subclass for d in found] == ["dog", "person"]


def family_spec(family: str, decoder: dict | None = None) -> ModelSpec:
    return ModelSpec(
        "m", Path("m.tflite"), "0" * 64, 1, "int8", 416, "uint8", family,
        {"family": family, **(decoder or {})}, {0: ClassMapping("person", "person"),
        15: ClassMapping("pet", "cat"), 16: ClassMapping("pet", "dog")},
    )  # fmt: skip


@pytest.mark.parametrize("family", ["yolo", "../nanodet", "decoding", "NanoDet"])
def test_an_unknown_decoder_family_is_one_clear_error(family):
    with pytest.raises(ModelError, match=f"decoder family {family!r} is not supported"):
        decoder_for(family_spec(family), {})


def test_a_family_module_is_found_by_the_manifest_name_and_checks_the_outputs():
    settings = {"strides": [8, 16, 32], "reg_max": 10, "outputs": OUTPUTS}
    shapes = {name: value.shape for name, value in raw_outputs().items()}
    decoder = decoder_for(family_spec("nanodet", settings), shapes)
    assert isinstance(decoder, NanoDetDecoder)
    shapes["box_8"] = (1, 2704, 40)
    with pytest.raises(ModelError, match="box_8"):
        decoder_for(family_spec("nanodet", settings), shapes)
    with pytest.raises(ModelError, match="decoder settings invalid"):
        decoder_for(family_spec("nanodet", {"strides": [8]}), shapes)


def centernet_outputs(size: int = 416, classes: int = 80) -> dict[str, np.ndarray]:
    cells = size // 4
    return {
        "heatmap": np.zeros((1, cells, cells, classes), np.float32),
        "sizes": np.zeros((1, cells, cells, 4), np.float32),
    }


def test_centernet_decoder_keeps_local_peaks_and_measures_from_the_cell_corner():
    settings = {"stride": 4, "outputs": {"heatmap": "heatmap", "sizes": "sizes"}}
    outputs = centernet_outputs()
    decoder = decoder_for(
        family_spec("centernet", settings), {k: v.shape for k, v in outputs.items()}
    )
    heat, sizes = outputs["heatmap"][0], outputs["sizes"][0]
    heat[10, 20, 0] = 0.8  # a person peak at row 10, col 20 ...
    heat[10, 21, 0] = 0.6  # ... and its shoulder: not a peak, no second box
    heat[40, 5, 16] = 0.5  # a dog
    heat[50, 50, 2] = 0.9  # a car: not mapped
    sizes[10, 20] = (8, 12, 16, 20)
    found = decoder.decode(outputs, 0.3)
    assert sorted(found.class_ids.tolist()) == [0, 16]
    person = found.boxes[found.class_ids == 0][0]
    assert person.tolist() == [80 - 8, 40 - 12, 80 + 16, 40 + 20]
    assert decoder.decode(outputs, 0.55).class_ids.tolist() == [0]


def test_centernet_decoder_refuses_outputs_of_another_size():
    settings = {"stride": 4, "outputs": {"heatmap": "heatmap", "sizes": "sizes"}}
    shapes = {k: v.shape for k, v in centernet_outputs(320).items()}
    with pytest.raises(ModelError, match="heatmap"):
        decoder_for(family_spec("centernet", settings), shapes)
