"""Turn YOLOX's raw head tensors into scored boxes (the "yolox" decoder family).

YOLOX is anchor-free with one prediction per cell and stride s (8, 16, 32).  Per stride the model
gives three outputs, cells row-major (``[1, H, W, C]`` or ``[1, N, C]``): ``boxes`` (4: the
centre's offset from the cell's corner in cells, then the log of width and height in cells),
``objectness`` (1, sigmoid applied) and ``scores`` (80, sigmoid applied).  A class's score is
objectness x class score; the box is centre ``((col + dx) s, (row + dy) s)``, size
``(exp(lw) s, exp(lh) s)``.  The three are separate outputs, not YOLOX's usual single
``[N, 85]`` tensor, so that an int8 model quantizes the box logits and the probabilities with
scales of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from camera.detect.decoding import Candidates
from camera.detect.families.gfl import anchor_points, as_cells, cells_of

if TYPE_CHECKING:
    from camera.detect.manifest import ModelSpec

_MAX_LOG_SIZE = 12.0  # exp(12) cells is far beyond any input: caps a wild logit, avoids inf


@dataclass(frozen=True, slots=True)
class _Level:
    stride: int
    boxes: str
    objectness: str
    scores: str
    corners: np.ndarray  # [N, 2] cell corners in cells (col, row)


class YoloxDecoder:
    """Decoder for one model input size; built once, reused for every inference."""

    def __init__(
        self,
        input_size: int,
        strides: Sequence[int],
        outputs: Mapping[str, Mapping[str, str]],
        class_ids: Sequence[int],
    ) -> None:
        self.class_ids = np.asarray(sorted(class_ids), dtype=int)
        self.levels = [
            _Level(
                s,
                outputs[str(s)]["boxes"],
                outputs[str(s)]["objectness"],
                outputs[str(s)]["scores"],
                anchor_points(input_size, s, 0.0) / s,
            )
            for s in strides
        ]

    def check(self, shapes: Mapping[str, tuple[int, ...]]) -> str | None:
        """What is wrong with a model's output ``shapes`` for this decoder, or None."""
        for level in self.levels:
            cells = len(level.corners)
            for name, channels in (
                (level.boxes, 4),
                (level.objectness, 1),
                (level.scores, None),
            ):
                shape = tuple(shapes.get(name, ()))
                if cells_of(shape) != cells:
                    return f"output {name!r} has shape {shape}, expected {cells} cells"
                if channels is not None and shape[-1] != channels:
                    return f"output {name!r} has shape {shape}, expected {channels} channels"
                if channels is None and shape[-1] <= self.class_ids.max():
                    return f"output {name!r} has {shape[-1]} classes"
        return None

    def decode(self, outputs: Mapping[str, np.ndarray], min_score: float) -> Candidates:
        """Every (cell, mapped class) pair whose objectness x class score reaches
        ``min_score``, as a box."""
        boxes, scores, class_ids = [], [], []
        for level in self.levels:
            objectness = as_cells(outputs[level.objectness])
            level_scores = as_cells(outputs[level.scores])[:, self.class_ids] * objectness
            cells, which = np.nonzero(level_scores >= min_score)
            if cells.size == 0:
                continue
            raw = as_cells(outputs[level.boxes])[cells]
            centres = (level.corners[cells] + raw[:, :2]) * level.stride
            half = np.exp(np.minimum(raw[:, 2:], _MAX_LOG_SIZE)) * (level.stride / 2)
            boxes.append(np.concatenate([centres - half, centres + half], axis=1))
            scores.append(level_scores[cells, which])
            class_ids.append(self.class_ids[which])
        if not boxes:
            return Candidates.empty()
        return Candidates(
            np.concatenate(boxes).astype(np.float32),
            np.concatenate(scores).astype(np.float32),
            np.concatenate(class_ids),
        )


def from_spec(spec: ModelSpec) -> YoloxDecoder:
    """The decoder for a manifest variant of the ``yolox`` family."""
    return YoloxDecoder(
        spec.input_size, spec.decoder["strides"], spec.decoder["outputs"], list(spec.classes)
    )
