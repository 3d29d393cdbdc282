"""The start scan: when a stream begins, the detector looks at the whole picture once.

Motion gates the detector, and motion is change against a background learned from the first
frame on: whoever is already in view when Ronda starts (an intruder standing in the hall at a
restart, shoppers browsing an aisle) *is* that background, and wakes no motion until they move
enough for the motion frame (about 100-180 px high) to see it.  A person swaying on the spot in
the eval set's ``standing-at-start`` scene woke none for 5.5 s, and was alerted after 6.3 s.

So at the start of every stream (the first frame, a camera reconnected, privacy mode turned
off) the frame is covered with model-size squares, a few per frame (``max_regions``, as many as
motion may ask for), until all were looked at once: 2 squares at 640x360, 8 at 1280x720 with a
416 px model (3 frames), 15 at 1920x1080.  What the detector finds there becomes a track like
any other, and the tracker's own rules decide (a statue found by the scan is a still thing, and
stays quiet).  That is the only time the detector runs without motion or a track.
"""

from __future__ import annotations

import math

from camera.motion.config import RegionConfig
from camera.motion.regions import model_side
from camera.types import Box, Region


class StartScan:
    """The squares covering one stream's frame, handed out ``max_regions`` per frame."""

    def __init__(
        self, config: RegionConfig, frame_size: tuple[int, int], model_input_size: int
    ) -> None:
        width, height = frame_size
        side = model_side(config, frame_size, model_input_size)
        self._per_frame = config.max_regions
        self._left = [
            Region(Box(x, y, x + side, y + side), "scan")
            for y in _starts(height, side)
            for x in _starts(width, side)
        ]

    @property
    def done(self) -> bool:
        return not self._left

    def take(self) -> list[Region]:
        """This frame's share of the squares not looked at yet (``[]`` once all were)."""
        taken, self._left = self._left[: self._per_frame], self._left[self._per_frame :]
        return taken


def _starts(limit: int, side: float) -> list[float]:
    """Where squares of ``side`` start so that as few as possible cover ``[0, limit]``, spread
    evenly (they overlap where the frame is not a multiple of the side)."""
    if side >= limit:
        return [0.0]
    count = math.ceil(limit / side)
    step = (limit - side) / (count - 1)
    return [i * step for i in range(count)]
