"""Frame times as the owner's wall clock: what "21:04" in an alert means, live and in a replay.

Frame timestamps are seconds since the epoch for a live source and seconds into the recording for
a replay (so that a replay is deterministic).  A consumer building "Person at porch, 21:04" needs
a wall-clock time, so every event also carries its times as local ISO 8601 with the UTC offset.

In a replay the recording's timeline is anchored at the moment the replay read its first frame:
an event 6.2 s into the file is stamped 6.2 s after the replay started.  In a ``--realtime``
replay that is when the frame was really processed, so alerts read exactly as they would live; in
a fast replay the times keep the recording's order and spacing, and the next file starts where
the previous one's timeline ended if that is later than "now" (files play back to back, so times
never run backwards and gaps between events of two files are the recordings' own).  The
recording's own creation time is not used: containers rarely carry a trustworthy one, and a test
replaying a clip wants "now", not the day the clip was filmed.
"""

from __future__ import annotations

import time
from datetime import datetime


class EventClock:
    """Maps the frame timestamps of the current stream to epoch seconds."""

    def __init__(self) -> None:
        self._origin: float | None = 0.0
        self._latest = 0.0  # the latest wall time of any frame so far

    def begin_stream(self, *, live: bool) -> None:
        """A new source: live timestamps are epoch already; a replay anchors at its first frame."""
        self._origin = 0.0 if live else None

    def observe(self, timestamp: float) -> None:
        """Called for every frame; fixes a replay's anchor at its first one."""
        if self._origin is None:
            self._origin = max(time.time(), self._latest) - timestamp
        self._latest = max(self._latest, self._origin + timestamp)

    def wall(self, timestamp: float) -> float:
        """Epoch seconds of a frame timestamp of this stream."""
        if self._origin is None:  # no frame yet: anchor now rather than report 1970
            self.observe(timestamp)
        assert self._origin is not None
        return self._origin + timestamp

    def local_iso(self, timestamp: float) -> str:
        """``2024-01-05T21:04:03+01:00``: the machine's local time zone, to the second."""
        return local_iso(self.wall(timestamp))


def local_iso(epoch: float) -> str:
    """Epoch seconds as local ISO 8601 with the UTC offset, to the second."""
    return datetime.fromtimestamp(epoch).astimezone().isoformat("T", "seconds")
