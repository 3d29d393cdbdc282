"""Global brightness: how much the whole scene got brighter or darker since the previous frame.

Auto-exposure, clouds and dimmers change every pixel by roughly the same *factor*: a change of
exposure multiplies linear light, and the camera's gamma curve keeps a product a product.  So the
motion stage estimates one gain per frame and rescales its backgrounds by it before differencing.
The estimate must ignore the object that caused the change (a white car entering our car park clip
made the auto-exposure halve the brightness of the empty asphalt around it, in steps of up to 8 %
per frame), so it is the *median* of per-cell ratios on a coarse grid: anything covering fewer
than half the cells does not move it.  Dark cells are left out because their ratio is mostly
noise.

The gain is measured frame to frame (not against the background): that is what a "sudden jump"
means for light-change detection, and it needs no per-frame statistics of the background.
"""

from __future__ import annotations

import cv2
import numpy as np

# Coarse grid for the gain estimate: 8x6 = 48 cells; a cell is ~1/50 of the frame, small enough
# that one person or car covers a minority of cells even close to the lens.
GRID = (8, 6)
# Cells darker than this (0..255) give unreliable ratios (noise, black level) and are skipped.
MIN_CELL_LEVEL = 12.0
# Fewer usable cells than this and the frame is too dark to estimate a gain: assume none.
MIN_CELLS = 8
# Gains closer to 1 than this are treated as exactly 1, which saves rescaling the backgrounds on
# most frames of a static scene; drifts slower than 0.05 % per frame are learned by the
# background anyway (lag = drift / per-frame learning weight, a few grey levels at most).
DEAD_BAND = 0.0005


def cell_means(gray: np.ndarray) -> np.ndarray:
    """Mean level per grid cell, float32 of shape ``(GRID[1], GRID[0])``.

    The frame is cropped (centred) to a multiple of the grid so OpenCV's integer-factor area
    resize applies: ~6x cheaper than the general case on a 178x100 frame.
    """
    h, w = gray.shape[:2]
    cw, ch = max(1, w // GRID[0]), max(1, h // GRID[1])
    x0, y0 = (w - cw * GRID[0]) // 2, (h - ch * GRID[1]) // 2
    crop = gray[y0 : y0 + ch * GRID[1], x0 : x0 + cw * GRID[0]]
    return cv2.resize(crop, GRID, interpolation=cv2.INTER_AREA).astype(np.float32, copy=False)


class GainTracker:
    """Robust frame-to-frame global gain."""

    def __init__(self) -> None:
        self._previous: np.ndarray | None = None

    def reset(self) -> None:
        self._previous = None

    def update(self, gray: np.ndarray) -> float:
        """Gain ``g`` such that ``gray ~= g * previous frame`` for most of the scene (1.0 when
        unknown, too dark, or within the dead band)."""
        cells = cell_means(gray)
        previous, self._previous = self._previous, cells
        if previous is None:
            return 1.0
        usable = (previous > MIN_CELL_LEVEL) & (cells > MIN_CELL_LEVEL)
        ratios = cells[usable] / previous[usable]
        if ratios.size < MIN_CELLS:
            return 1.0
        gain = float(np.sort(ratios)[ratios.size // 2])
        return 1.0 if abs(gain - 1.0) < DEAD_BAND else gain


def is_light_step(gain: float, step: float) -> bool:
    """True when one frame's global change is larger than ``step`` in either direction.

    Symmetric in log terms, so brightening by 15 % and darkening to 1/1.15 count the same.
    """
    return abs(np.log(gain)) > np.log1p(step)
