"""Exponential backoff with jitter, shared by every reconnecting source."""

from __future__ import annotations

import random
import threading


class Backoff:
    """Delays of min, 2·min, 4·min ... capped at max, each with ±20 % jitter.

    Jitter keeps several cameras that lost the same network from reconnecting in lockstep.
    ``wait`` sleeps on an event so that ``close()`` interrupts a long backoff at once.
    """

    def __init__(self, minimum: float, maximum: float, stop: threading.Event | None = None) -> None:
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
        self.stop = stop or threading.Event()
        self.attempt = 0

    def next_delay(self) -> float:
        base = min(self.maximum, self.minimum * (2**self.attempt))
        self.attempt += 1
        return base * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self.attempt = 0

    def wait(self) -> bool:
        """Sleep for the next delay; False when stopped meanwhile."""
        return not self.stop.wait(self.next_delay())
