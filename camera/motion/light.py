"""Global brightness: how much the whole scene got brighter or darker since the background.

Auto-exposure, clouds and dimmers change every pixel by roughly the same *factor*: a change of
exposure multiplies linear light, and the camera's gamma curve keeps a product a product.  So the
motion stage estimates one gain per frame and rescales the background by it before differencing.
The estimate must ignore the object that caused the change (a white car entering a car park made
the auto-exposure halve the brightness of the empty asphalt around it in our footage), so it is
the *median* of per-cell ratios on a coarse grid: anything covering fewer than half the cells
does not move it.  Dark cells are left out because their ratio is mostly noise.
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


def cell_means(gray: np.ndarray) -> np.ndarray:
    """Mean level per grid cell (float32, shape ``GRID[::-1]``)."""
    return cv2.resize(gray, GRID, interpolation=cv2.INTER_AREA)


def estimate_gain(frame_cells: np.ndarray, background_cells: np.ndarray) -> float:
    """Robust factor ``g`` such that ``frame ~= g * background`` for most of the scene.

    Returns 1.0 when too few cells are bright enough to say anything.
    """
    usable = (background_cells > MIN_CELL_LEVEL) & (frame_cells > MIN_CELL_LEVEL)
    if int(np.count_nonzero(usable)) < MIN_CELLS:
        return 1.0
    return float(np.median(frame_cells[usable] / background_cells[usable]))


def is_light_step(gain: float, step: float) -> bool:
    """True when one frame's global change is larger than ``step`` in either direction.

    Symmetric in log terms, so brightening by 15 % and darkening to 1/1.15 count the same.
    """
    return abs(np.log(gain)) > np.log1p(step)
