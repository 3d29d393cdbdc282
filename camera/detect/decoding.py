"""The decoder interface: raw model outputs in, scored boxes in model-input pixels out.

Each model family (how a detector lays out its outputs) has one module in
``camera.detect.families`` named as the manifest's ``decoder.family`` says, with a
``from_spec(spec)`` that builds its ``Decoder`` from the manifest's decoder settings.  Adding a
family is adding that one file: nothing else in the camera names a family.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from camera.detect.errors import ModelError

if TYPE_CHECKING:
    from camera.detect.manifest import ModelSpec

_FAMILY_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Candidates:
    """Boxes in model-input pixels (x1, y1, x2, y2), their scores and model class ids."""

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray

    @staticmethod
    def empty() -> Candidates:
        return Candidates(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, int))


class Decoder(Protocol):
    """Built once per model variant, reused for every inference."""

    def check(self, shapes: Mapping[str, tuple[int, ...]]) -> str | None:
        """What is wrong with a model's output ``shapes`` for this decoder, or None."""
        ...

    def decode(self, outputs: Mapping[str, np.ndarray], min_score: float) -> Candidates:
        """Every (box, mapped class) pair scoring at least ``min_score``."""
        ...


def decoder_for(spec: ModelSpec, shapes: Mapping[str, tuple[int, ...]]) -> Decoder:
    """The decoder for ``spec``'s family, checked against the model's output ``shapes``.

    Raises ModelError (one line) for an unknown family, invalid settings or mismatched outputs.
    """
    module = None
    if _FAMILY_NAME.fullmatch(spec.family):
        try:
            module = importlib.import_module(f"camera.detect.families.{spec.family}")
        except ModuleNotFoundError:
            module = None
    if module is None or not hasattr(module, "from_spec"):
        raise ModelError(f"model {spec.name}: decoder family {spec.family!r} is not supported")
    try:
        decoder: Decoder = module.from_spec(spec)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"model {spec.name}: decoder settings invalid: {exc}") from None
    problem = decoder.check(shapes)
    if problem:
        raise ModelError(f"model file does not match its manifest: {spec.path}: {problem}")
    return decoder
