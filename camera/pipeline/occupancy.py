"""Zone occupancy as news: the loop reads the tracker's counts every frame, listeners hear only
the counts that changed (all of them the first time, and 0 once for a zone no longer configured).

The runtime publishes every count as 0 at start (nothing is known to be in view), then tells
``ZoneNews`` so through ``published``: from then on only changes go out, so a retained MQTT
count is written when it changes, not at every frame.
"""

from __future__ import annotations

from collections.abc import Callable

from camera.track.tracker import Occupancy

OccupancyListener = Callable[[Occupancy], None]


class ZoneNews:
    """The zone counts last told to listeners, and the listeners."""

    def __init__(self) -> None:
        self.listeners: list[OccupancyListener] = []
        self._told: Occupancy = {}

    def published(self, counts: Occupancy) -> None:
        """``counts`` are already out (the runtime's reset at start): tell only changes."""
        self._told = dict(counts)

    def update(self, counts: Occupancy) -> None:
        """Tell listeners which of ``counts`` changed since they last heard."""
        if not self.listeners:
            return
        changed = {key: count for key, count in counts.items() if self._told.get(key) != count}
        changed.update({key: 0 for key, count in self._told.items() if key not in counts and count})
        if not changed:
            return
        self._told = dict(counts)
        for listener in self.listeners:
            listener(changed)
