"""Lower the processed frame rate by dropping frames on their timestamps.

Used for sources without a hardware rate control (replay, OpenCV).  Frames are kept on a fixed
schedule (every ``1/fps`` seconds of the source's clock) rather than "at least ``1/fps`` after the
last kept one", so a 10 fps stream limited to 3 fps really gives 3 frames a second, not 2.5.
"""

from __future__ import annotations


class FrameRateLimiter:
    """``accept(t)`` is True for the frames to process; ``fps=None`` keeps every frame."""

    def __init__(self, fps: float | None = None) -> None:
        self._fps = fps
        self._next_due: float | None = None

    @property
    def fps(self) -> float | None:
        return self._fps

    @fps.setter
    def fps(self, value: float | None) -> None:
        if value != self._fps:
            self._fps = value
            self._next_due = None

    def accept(self, timestamp: float) -> bool:
        if self._fps is None:
            return True
        period = 1.0 / self._fps
        if self._next_due is None or timestamp - self._next_due > period:
            # First frame, or a gap in the stream: restart the schedule here.
            self._next_due = timestamp
        # Half a millisecond of slack absorbs rounding in container timestamps.
        if timestamp + 5e-4 < self._next_due:
            return False
        self._next_due += period
        return True
