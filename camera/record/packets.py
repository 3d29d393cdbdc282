"""Encoded video packets and the pre-roll buffer that holds the last seconds of them.

The pre-roll keeps *encoded* packets, never raw frames: five seconds of 720p at 10 fps is about
140 MB as BGR arrays but 1-3 MB as H.264.  A clip must start at a keyframe, so the buffer is kept
as whole groups of pictures (a keyframe and the frames that depend on it) and trimmed a group at
a time: it always covers at least ``seconds`` and at most one group more.
"""

from __future__ import annotations

from collections import deque

from camera.types import EncodedPacket


class PreRoll:
    """The last ``seconds`` of packets, from a keyframe on, within ``max_bytes``."""

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._groups: deque[list[EncodedPacket]] = deque()
        self.bytes = 0
        self.peak_bytes = 0
        self.trimmed_for_memory = 0
        """Groups dropped by ``max_bytes`` before they were ``seconds`` old."""

    def add(self, packet: EncodedPacket) -> bool:
        """Keep ``packet``; False when it cannot be decoded (no keyframe before it yet)."""
        if packet.keyframe:
            self._groups.append([])
        elif not self._groups:
            return False
        self._groups[-1].append(packet)
        self.bytes += len(packet.data)
        self._trim(packet.time)
        self.peak_bytes = max(self.peak_bytes, self.bytes)
        return True

    def since(self, start: float) -> list[EncodedPacket]:
        """Packets from the last keyframe at or before ``start`` (or the oldest one) on."""
        groups = list(self._groups)
        first = 0
        for index, group in enumerate(groups):
            if group[0].time <= start + 1e-6:
                first = index
        return [packet for group in groups[first:] for packet in group]

    def clear(self) -> None:
        self._groups.clear()
        self.bytes = 0

    @property
    def span_s(self) -> float:
        if not self._groups:
            return 0.0
        return self._groups[-1][-1].time - self._groups[0][0].time

    def _trim(self, now: float) -> None:
        # The second group's keyframe is old enough: the first is not needed for the pre-roll.
        while len(self._groups) > 1 and self._groups[1][0].time <= now - self.seconds:
            self._drop_oldest()
        while len(self._groups) > 1 and self.bytes > self.max_bytes:
            self._drop_oldest()
            self.trimmed_for_memory += 1

    def _drop_oldest(self) -> None:
        group = self._groups.popleft()
        self.bytes -= sum(len(p.data) for p in group)
