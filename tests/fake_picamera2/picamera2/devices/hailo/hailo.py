"""A stand-in for picamera2's ``Hailo`` wrapper over HailoRT, with the calls Ronda makes.

Like the real one it needs ``hailo_platform`` (HailoRT's binding) to import, opens the device
and the ``.hef`` in its constructor (HailoRT raises when there is no device or the file is not
a network), reports the input layer's shape as ``(height, width, channels)`` and answers
``run(image)`` — one uint8 ``[h, w, 3]`` image, no batch — with the output of a network
compiled with HailoRT's NMS: one ``[k, 5]`` float array per COCO class (80), each row
``y0, x0, y1, x1`` in 0..1 of the input, then the score.  What it answers is
``ACCELERATOR.respond`` (recorded outputs, by the test); every input is kept in ``inputs``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import hailo_platform  # noqa: F401  (the real wrapper imports HEF, VDevice... from it)
import numpy as np

from picamera2.devices._state import renew

CLASSES = 80


def nothing(_image: np.ndarray) -> list[np.ndarray]:
    return [np.zeros((0, 5), np.float32) for _ in range(CLASSES)]


@dataclass
class Accelerator:
    present: bool = True
    architecture: str = "HAILO8L"
    input_shape: tuple[int, int, int] = (640, 640, 3)
    respond: Callable[[np.ndarray], list[np.ndarray]] = nothing
    inputs: list[np.ndarray] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    closed: int = 0


ACCELERATOR = Accelerator()


def reset(**values: object) -> Accelerator:
    """``ACCELERATOR`` as new, with ``values`` (in place: every importer sees the same object)."""
    return renew(ACCELERATOR, **values)


def hailo_architecture() -> str | None:
    return ACCELERATOR.architecture if ACCELERATOR.present else None


class Hailo:
    def __init__(self, hef_path, batch_size=None, output_type="FLOAT32") -> None:
        if not ACCELERATOR.present:
            raise RuntimeError("HAILO_OUT_OF_PHYSICAL_DEVICES(74): no Hailo device found")
        if not os.path.isfile(hef_path):
            raise RuntimeError(f"HAILO_OPEN_FILE_FAILURE(13): {hef_path}")
        assert batch_size is None and output_type == "FLOAT32"
        ACCELERATOR.opened.append(str(hef_path))
        self.closed = False

    def __enter__(self) -> Hailo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_input_shape(self) -> tuple[int, int, int]:
        return ACCELERATOR.input_shape

    def run(self, input_data: np.ndarray):
        assert not self.closed, "run after close"
        assert input_data.dtype == np.uint8 and input_data.shape == ACCELERATOR.input_shape
        ACCELERATOR.inputs.append(input_data)
        return ACCELERATOR.respond(input_data)

    def close(self) -> None:
        self.closed = True
        ACCELERATOR.closed += 1
