"""Reusable per-frame arrays, so the motion stage allocates nothing on a typical frame.

Each frame used to allocate a dozen 18-71 kB arrays; freed and re-allocated memory is often handed
back by the C library and faulted in again page by page.  On the dev box, keeping the heap instead
(glibc's trim threshold raised) made the whole stage ~7 % cheaper; writing into arrays kept here
does the same without tuning the allocator.
"""

from __future__ import annotations

import numpy as np


class Scratch:
    """Named arrays that are re-used while their shape and type stay the same."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """The array called ``name`` (uninitialised when new); its content is the caller's."""
        array = self._arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self._arrays[name] = np.empty(shape, dtype)
        return array
