"""What the pipeline needs from any detector backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from camera.types import Detection, ModelVariant, Precision, Region


class Detector(Protocol):
    """Finds persons and pets inside regions of a full-resolution BGR frame.

    ``detect`` returns boxes in full-frame pixels, merged across overlapping regions.
    ``set_variant`` must be instant and safe between any two frames: backends load every variant
    of ``ladder`` up front so the governor can switch without a pause.
    """

    @property
    def precision(self) -> Precision: ...

    @property
    def input_size(self) -> int: ...

    @property
    def backend(self) -> str: ...

    @property
    def variant(self) -> str: ...

    @property
    def ladder(self) -> tuple[ModelVariant, ...]: ...

    def detect(self, image: np.ndarray, regions: Sequence[Region]) -> list[Detection]: ...

    def set_variant(self, name: str) -> None: ...

    def close(self) -> None: ...
