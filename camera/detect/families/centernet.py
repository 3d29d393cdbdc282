"""Turn a CenterNet's heatmap and box sizes into scored boxes (the "centernet" decoder family).

The model gives, on one grid at ``stride`` (row-major, channels last), a heatmap with one sigmoid
score per class and 4 distances per cell (left, top, right, bottom, in model pixels, measured from
the cell's corner ``(col * stride, row * stride)``: how the MobileNetV3 CenterNet we evaluated
was trained).  An object is a local maximum of its class's heatmap (3x3 neighbourhood), CenterNet's
replacement for box NMS; only the classes Ronda maps are read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from camera.detect.decoding import Candidates

if TYPE_CHECKING:
    from camera.detect.manifest import ModelSpec


class CenterNetDecoder:
    """Decoder for one model input size; built once, reused for every inference."""

    def __init__(
        self,
        input_size: int,
        stride: int,
        heatmap: str,
        sizes: str,
        class_ids: Sequence[int],
    ) -> None:
        self.class_ids = np.asarray(sorted(class_ids), dtype=int)
        self.stride = stride
        self.cells = -(-input_size // stride)
        self.heatmap = heatmap
        self.sizes = sizes

    def check(self, shapes: Mapping[str, tuple[int, ...]]) -> str | None:
        """What is wrong with a model's output ``shapes`` for this decoder, or None."""
        heat = tuple(shapes.get(self.heatmap, ()))
        sizes = tuple(shapes.get(self.sizes, ()))
        if len(heat) != 4 or heat[1:3] != (self.cells, self.cells):
            return f"output {self.heatmap!r} has shape {heat}, expected (1, {self.cells}, ...)"
        if heat[3] <= self.class_ids.max():
            return f"output {self.heatmap!r} has {heat[3]} classes"
        if sizes != (1, self.cells, self.cells, 4):
            return f"output {self.sizes!r} has shape {sizes}"
        return None

    def decode(self, outputs: Mapping[str, np.ndarray], min_score: float) -> Candidates:
        """Every local heatmap peak of a mapped class scoring at least ``min_score``, as a box."""
        heat = outputs[self.heatmap][0][:, :, self.class_ids]
        rows, cols, which = np.nonzero((heat >= min_score) & (heat >= _max3x3(heat)))
        if rows.size == 0:
            return Candidates.empty()
        distances = outputs[self.sizes][0][rows, cols]
        corner = np.stack([cols, rows], axis=1).astype(np.float32) * self.stride
        boxes = np.concatenate([corner - distances[:, :2], corner + distances[:, 2:]], axis=1)
        return Candidates(
            boxes.astype(np.float32),
            heat[rows, cols, which].astype(np.float32),
            self.class_ids[which],
        )


def from_spec(spec: ModelSpec) -> CenterNetDecoder:
    """The decoder for a manifest variant of the ``centernet`` family."""
    outputs = spec.decoder["outputs"]
    return CenterNetDecoder(
        spec.input_size,
        int(spec.decoder["stride"]),
        str(outputs["heatmap"]),
        str(outputs["sizes"]),
        list(spec.classes),
    )


def _max3x3(heat: np.ndarray) -> np.ndarray:
    """Each cell's maximum over its 3x3 neighbourhood (edges padded with -inf), per channel."""
    padded = np.pad(heat, ((1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    height, width = heat.shape[:2]
    result = padded[1 : height + 1, 1 : width + 1].copy()
    for dy in range(3):
        for dx in range(3):
            np.maximum(result, padded[dy : dy + height, dx : dx + width], out=result)
    return result
