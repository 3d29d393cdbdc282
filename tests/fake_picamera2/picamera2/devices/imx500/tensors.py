"""The metadata an AI Camera hands over with each frame, in libcamera's documented layout, for
the fake camera to deliver (``Script.metadata``) and the fake ``IMX500`` to read back.

``CnnOutputTensorInfo`` is libcamera's ``CnnOutputTensorInfoExported``: a 64-byte network name,
the tensor count, then per tensor (up to 16) its element count, dimension count and up to 16
dimension sizes (uint16), then a frame counter.  ``CnnOutputTensor`` is every tensor's floats
one after the other, each column-major (picamera2 reshapes with ``order='F'``); for a
post-processed detection network (``_pp``) that is, as rpicam-apps reads it too: the N boxes'
y0s, then their x0s, y1s and x1s (0..1 of the input tensor), then N scores, N classes and the
number of valid detections.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import numpy as np

NETWORK_NAME_LEN = 64
MAX_NUM_TENSORS = 16
MAX_NUM_DIMENSIONS = 16
SLOTS = 100
"""Detections a post-processed network reports per frame (the unused ones score 0)."""


class OutputTensorInfo(ctypes.LittleEndianStructure):
    _fields_ = [
        ("tensor_data_num", ctypes.c_uint32),
        ("num_dimensions", ctypes.c_uint32),
        ("size", ctypes.c_uint16 * MAX_NUM_DIMENSIONS),
    ]


class CnnOutputTensorInfoExported(ctypes.LittleEndianStructure):
    _fields_ = [
        ("network_name", ctypes.c_char * NETWORK_NAME_LEN),
        ("num_tensors", ctypes.c_uint32),
        ("info", OutputTensorInfo * MAX_NUM_TENSORS),
        ("frameCount", ctypes.c_uint8),
    ]


def tensor_info(shapes: Sequence[Sequence[int]], network: str = "nanodet_plus_416x416_pp") -> bytes:
    info = CnnOutputTensorInfoExported()
    info.network_name = network.encode()
    info.num_tensors = len(shapes)
    for index, shape in enumerate(shapes):
        info.info[index].tensor_data_num = int(np.prod(shape))
        info.info[index].num_dimensions = len(shape)
        for axis, size in enumerate(shape):
            info.info[index].size[axis] = size
    return bytes(info)


def detection_metadata(
    boxes: Sequence[Sequence[float]],
    scores: Sequence[float],
    classes: Sequence[int],
    slots: int = SLOTS,
) -> dict:
    """One frame's output of a post-processed detector: ``boxes`` as the network gives them
    (y0, x0, y1, x1 in 0..1 by default), padded to ``slots`` detections."""
    count = len(scores)
    assert count <= slots and len(boxes) == count == len(classes)
    padded = np.zeros((slots, 4), np.float32)
    padded[:count] = np.asarray(boxes, np.float32).reshape(-1, 4)
    score_column = np.zeros(slots, np.float32)
    score_column[:count] = scores
    class_column = np.zeros(slots, np.float32)
    class_column[:count] = classes
    flat = np.concatenate(
        [padded.flatten(order="F"), score_column, class_column, np.array([count], np.float32)]
    )
    return {
        "CnnOutputTensor": flat,
        "CnnOutputTensorInfo": tensor_info([(slots, 4), (slots,), (slots,), (1,)]),
    }
