"""Turn a GFL head's raw output tensors into scored boxes (the "gfl" decoder family).

Generalised Focal Loss heads (NanoDet, PP-PicoDet) give, per stride s, for every cell of the grid
(row-major), class scores with the sigmoid already applied and 4 x (reg_max + 1) bin logits.  A
box side's distance is the expected bin under a softmax, times s, measured from the cell's
anchor point ((col + offset) s, (row + offset) s) to the left, top, right and bottom edges.
``cell_offset`` is 0.5 (the cell centre) for both families Ronda builds.  Outputs may be
``[1, N, C]`` or ``[1, H, W, C]`` (a channels-last head, read row-major: the same cells).  Only
the classes Ronda maps are read, and only candidates above the score floor are decoded, so the
cost stays small.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from camera.detect.decoding import Candidates

if TYPE_CHECKING:
    from camera.detect.manifest import ModelSpec


@dataclass(frozen=True, slots=True)
class _Level:
    stride: int
    scores: str
    boxes: str
    centres: np.ndarray  # [N, 2] anchor points in model pixels


class GflDecoder:
    """Decoder for one model input size; built once, reused for every inference."""

    def __init__(
        self,
        input_size: int,
        strides: Sequence[int],
        reg_max: int,
        outputs: Mapping[str, Mapping[str, str]],
        class_ids: Sequence[int],
        cell_offset: float = 0.5,
    ) -> None:
        self.class_ids = np.asarray(sorted(class_ids), dtype=int)
        self.bins = reg_max + 1
        self._projection = np.arange(self.bins, dtype=np.float32)
        self.levels = [
            _Level(
                s,
                outputs[str(s)]["scores"],
                outputs[str(s)]["boxes"],
                anchor_points(input_size, s, cell_offset),
            )
            for s in strides
        ]

    def check(self, shapes: Mapping[str, tuple[int, ...]]) -> str | None:
        """What is wrong with a model's output ``shapes`` for this decoder, or None."""
        for level in self.levels:
            cells = len(level.centres)
            score_shape = tuple(shapes.get(level.scores, ()))
            box_shape = tuple(shapes.get(level.boxes, ()))
            if cells_of(score_shape) != cells:
                return f"output {level.scores!r} has shape {score_shape}, expected {cells} cells"
            if score_shape[-1] <= self.class_ids.max():
                return f"output {level.scores!r} has {score_shape[-1]} classes"
            if cells_of(box_shape) != cells or box_shape[-1] != 4 * self.bins:
                return f"output {level.boxes!r} has shape {box_shape}"
        return None

    def decode(self, outputs: Mapping[str, np.ndarray], min_score: float) -> Candidates:
        """Every (cell, mapped class) pair scoring at least ``min_score``, as a box."""
        boxes, scores, class_ids = [], [], []
        for level in self.levels:
            level_scores = as_cells(outputs[level.scores])[:, self.class_ids]
            cells, which = np.nonzero(level_scores >= min_score)
            if cells.size == 0:
                continue
            logits = as_cells(outputs[level.boxes])[cells].reshape(-1, 4, self.bins)
            distances = _expected_bin(logits, self._projection) * level.stride
            centres = level.centres[cells]
            boxes.append(
                np.concatenate([centres - distances[:, :2], centres + distances[:, 2:]], 1)
            )
            scores.append(level_scores[cells, which])
            class_ids.append(self.class_ids[which])
        if not boxes:
            return Candidates.empty()
        return Candidates(
            np.concatenate(boxes).astype(np.float32),
            np.concatenate(scores).astype(np.float32),
            np.concatenate(class_ids),
        )


def from_spec(spec: ModelSpec) -> GflDecoder:
    """The decoder for a manifest variant of the ``gfl`` family."""
    return GflDecoder(
        spec.input_size,
        spec.decoder["strides"],
        int(spec.decoder["reg_max"]),
        spec.decoder["outputs"],
        list(spec.classes),
        float(spec.decoder.get("cell_offset", 0.5)),
    )


def anchor_points(input_size: int, stride: int, offset: float) -> np.ndarray:
    """``[N, 2]`` (x, y) of every cell's anchor point, row-major, in model pixels."""
    cells = -(-input_size // stride)
    coords = (np.arange(cells, dtype=np.float32) + offset) * stride
    ys, xs = np.meshgrid(coords, coords, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def cells_of(shape: tuple[int, ...]) -> int | None:
    """How many grid cells an output of ``shape`` holds: ``[1, N, C]`` or ``[1, H, W, C]``."""
    if len(shape) == 3 and shape[0] == 1:
        return shape[1]
    if len(shape) == 4 and shape[0] == 1:
        return shape[1] * shape[2]
    return None


def as_cells(output: np.ndarray) -> np.ndarray:
    """``[N, C]`` view of a ``[1, N, C]`` or ``[1, H, W, C]`` output (row-major cells)."""
    return output.reshape(-1, output.shape[-1])


def _expected_bin(logits: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, then the expected bin index."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (shifted * projection).sum(axis=-1) / shifted.sum(axis=-1)
