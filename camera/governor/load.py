"""How loaded the frame loop is: the reading of the governor's load ladder.

Load = mean wall time the pipeline spent per processed frame × the source's full frame rate, in
percent.  100 % means the loop needs the whole of every frame period; above that, a live source
drops frames the loop never got to (it always hands over the newest), and the governor lowers the
frame rate so the frames that are processed are evenly spaced and the CPU has room left for
delivery and the system.

Why per processed frame × the *full* rate rather than the share of wall time the loop was busy:
once the governor lowers the frame rate the busy share falls with it, the level would be
released, the rate raised and the level entered again.  The cost of one frame does not depend
on how many are skipped, so this reading stays put until the work itself gets lighter (people
leave and the detector stops running).  Wall time, not CPU time: on a throttled or shared CPU a
frame takes as long as it takes.
"""

from __future__ import annotations

import threading


class LoadMeter:
    """Accumulates per-frame processing times between two governor reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy_s = 0.0
        self._frames = 0
        self.full_fps: float | None = None
        """The source's full frame rate; ``None`` (an unpaced replay) means no load reading."""

    def frame_done(self, seconds: float) -> None:
        """One processed frame took ``seconds`` of wall time (motion to published events)."""
        with self._lock:
            self._busy_s += seconds
            self._frames += 1

    def take(self) -> float | None:
        """The load in percent since the last call, or None when it cannot be known."""
        with self._lock:
            busy, frames = self._busy_s, self._frames
            self._busy_s, self._frames = 0.0, 0
        if not self.full_fps or frames == 0:
            return None
        return 100.0 * busy / frames * self.full_fps
