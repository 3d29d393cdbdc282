"""A second opinion on one crop: does it look like a cat or a dog to an independent model?

The detector decides person against pet from one network's class scores.  Where those hesitate
(one object scored as both, a track whose votes are split, a still thing read as a person) a
model trained on other data and for another task can break the tie: Google's MobileNet v2 1.0
224 ImageNet classifier (int8, 3.6 MB, about 0.3 G multiply-accumulates, Apache-2.0) knows
five domestic cat breeds and 118 dog breeds.  Its answer here is one number, the probability
mass on those classes, for the crop around a box.  ImageNet has no person class, so it can say
"this is a cat" but never "this is a person": it can only turn a hesitant person into a pet.

``bench/second_opinion.py`` measures it on the labelled set's crops; whether the pipeline asks
it, and where, is decided by those numbers (``docs/models.md``, "A second opinion").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from camera.detect.errors import ModelError
from camera.detect.runtime import interpreter_class, native_stderr_to_log
from camera.types import Box

INPUT_SIZE = 224
DOG_CLASSES = range(152, 270)
"""ImageNet's 118 dog breeds (Chihuahua .. Mexican hairless), in the 1001-class labels where 0
is background."""
CAT_CLASSES = range(282, 287)
"""tabby, tiger cat, Persian, Siamese, Egyptian cat."""
CONTEXT = 0.15
"""Share of the box's size added on each side: the classifier was trained on whole-animal
photos, and a box cut tight to a cat loses the ears and tail it looks for."""


@dataclass(frozen=True, slots=True)
class Opinion:
    cat: float
    dog: float

    @property
    def pet(self) -> float:
        return self.cat + self.dog


class PetClassifier:
    """The ImageNet classifier, loaded once; ``opinion(image, box)`` for one BGR crop."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        backend, interpreter_cls = interpreter_class()
        try:
            with native_stderr_to_log():
                self._interpreter = interpreter_cls(model_path=str(path), num_threads=threads)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            text = " ".join(str(exc).split())[:200]
            raise ModelError(f"classifier unreadable by {backend}: {path}: {text}") from None
        (detail,) = self._interpreter.get_input_details()
        (output,) = self._interpreter.get_output_details()
        if tuple(detail["shape"]) != (1, INPUT_SIZE, INPUT_SIZE, 3) or output["shape"][-1] != 1001:
            raise ModelError(f"classifier {path}: not a 224x224 ImageNet (1001-class) model")
        self._input = detail["index"]
        self._output = output["index"]
        self._scale, self._zero = output["quantization"]

    def opinion(self, image: np.ndarray, box: Box) -> Opinion:
        """Cat and dog probability of the square crop around ``box`` (frame pixels)."""
        crop = square_crop(image, box, CONTEXT)
        pixels = cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
        if pixels.ndim == 2:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
        rgb = np.ascontiguousarray(pixels[:, :, ::-1])[None]
        self._interpreter.set_tensor(self._input, rgb)
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._output)[0].astype(np.float32)
        probabilities = (raw - self._zero) * self._scale if self._scale else raw
        return Opinion(
            cat=float(probabilities[CAT_CLASSES.start : CAT_CLASSES.stop].sum()),
            dog=float(probabilities[DOG_CLASSES.start : DOG_CLASSES.stop].sum()),
        )


def square_crop(image: np.ndarray, box: Box, context: float) -> np.ndarray:
    """The square around ``box`` grown by ``context`` of its longer side, inside the frame."""
    height, width = image.shape[:2]
    cx, cy = box.center
    side = max(box.x2 - box.x1, box.y2 - box.y1) * (1 + 2 * context)
    side = max(8.0, min(side, float(max(width, height))))
    x1 = int(max(0.0, min(cx - side / 2, width - side)))
    y1 = int(max(0.0, min(cy - side / 2, height - side)))
    return image[y1 : y1 + int(side), x1 : x1 + int(side)]
