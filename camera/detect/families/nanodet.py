"""Turn NanoDet's raw output tensors into scored boxes (the "nanodet" decoder family).

Per stride s (8, 16, 32) the model gives, for every cell of its grid (row-major), class scores
with the sigmoid already applied and 4 x (reg_max + 1) bin logits.  The box side distances are the
expected bin under a softmax, times s, measured from the cell centre ((col + 0.5) s, (row + 0.5) s)
to the left, top, right and bottom edges (NanoDet's GFL head).  Only the classes Ronda maps are
read, and only candidates above the score floor are decoded, so the cost stays small.
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
    centres: np.ndarray  # [N, 2] cell centres in model pixels


class NanoDetDecoder:
    """Decoder for one model input size; built once, reused for every inference."""

    def __init__(
        self,
        input_size: int,
        strides: Sequence[int],
        reg_max: int,
        outputs: Mapping[str, Mapping[str, str]],
        class_ids: Sequence[int],
    ) -> None:
        self.class_ids = np.asarray(sorted(class_ids), dtype=int)
        self.bins = reg_max + 1
        self._projection = np.arange(self.bins, dtype=np.float32)
        self.levels = [
            _Level(
                s,
                outputs[str(s)]["scores"],
                outputs[str(s)]["boxes"],
                _centres(input_size, s),
            )
            for s in strides
        ]

    def check(self, shapes: Mapping[str, tuple[int, ...]]) -> str | None:
        """What is wrong with a model's output ``shapes`` for this decoder, or None."""
        for level in self.levels:
            cells = len(level.centres)
            score_shape = tuple(shapes.get(level.scores, ()))
            box_shape = tuple(shapes.get(level.boxes, ()))
            if len(score_shape) != 3 or score_shape[1] != cells:
                return f"output {level.scores!r} has shape {score_shape}, expected (1, {cells}, C)"
            if score_shape[2] <= self.class_ids.max():
                return f"output {level.scores!r} has {score_shape[2]} classes"
            if box_shape != (1, cells, 4 * self.bins):
                return f"output {level.boxes!r} has shape {box_shape}"
        return None

    def decode(self, outputs: Mapping[str, np.ndarray], min_score: float) -> Candidates:
        """Every (cell, mapped class) pair scoring at least ``min_score``, as a box."""
        boxes, scores, class_ids = [], [], []
        for level in self.levels:
            level_scores = outputs[level.scores][0][:, self.class_ids]
            cells, which = np.nonzero(level_scores >= min_score)
            if cells.size == 0:
                continue
            logits = outputs[level.boxes][0][cells].reshape(-1, 4, self.bins)
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


def from_spec(spec: ModelSpec) -> NanoDetDecoder:
    """The decoder for a manifest variant of the ``nanodet`` family."""
    return NanoDetDecoder(
        spec.input_size,
        spec.decoder["strides"],
        int(spec.decoder["reg_max"]),
        spec.decoder["outputs"],
        list(spec.classes),
    )


def _centres(input_size: int, stride: int) -> np.ndarray:
    cells = -(-input_size // stride)
    coords = (np.arange(cells, dtype=np.float32) + 0.5) * stride
    ys, xs = np.meshgrid(coords, coords, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def _expected_bin(logits: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, then the expected bin index."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (shifted * projection).sum(axis=-1) / shifted.sum(axis=-1)
