"""Which events share which recording, and when each recording opens and closes.

Pure bookkeeping on the source's clock, run on the frame loop (no I/O, no waiting):

- the first clip-worthy event opens a recording whose time 0 is ``pre_s`` before the event's
  first confirming frame (or the stream's first frame, whichever is later);
- an event that starts while a recording is open, or still in its post-roll, joins it: its
  ``offset_s`` is where it starts in that file;
- when the last of its events has ended, the recording closes ``post_s`` after the latest end;
- a recording never lasts more than ``max_s``: it closes there, and events that start later
  open a new one.

The recorder turns the returned :class:`Open` and :class:`Close` into work for its thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from camera.events import ClipRef, EventUpdate
from camera.record.config import ClipsConfig


@dataclass(frozen=True, slots=True)
class Open:
    file: str
    start: float


@dataclass(frozen=True, slots=True)
class Close:
    file: str
    at: float
    """Time (source clock) of the recording's last frame."""


@dataclass
class _Recording:
    file: str
    start: float
    hard_end: float
    open_events: set[str] = field(default_factory=set)
    close_at: float | None = None


@dataclass(frozen=True, slots=True)
class _Membership:
    file: str
    offset_s: float
    start: float


class RecordingPlanner:
    """See the module docstring.  ``url_for(event_id)`` gives the clip's address, or None."""

    def __init__(self, config: ClipsConfig, url_for: Callable[[str], str | None]) -> None:
        self.config = config
        self.url_for = url_for
        self._current: _Recording | None = None
        self._members: dict[str, _Membership] = {}
        self._stream_start: float | None = None
        self._closed_lengths: dict[str, float] = {}

    @property
    def recording(self) -> str | None:
        return self._current.file if self._current else None

    def begin_stream(self) -> None:
        self._stream_start = None

    def tick(self, now: float) -> Close | None:
        """Called with every frame's time: the recording to close before this frame, if any."""
        if self._stream_start is None:
            self._stream_start = now
        current = self._current
        if current is None:
            return None
        if current.close_at is not None and now > current.close_at:
            return self._close(current.close_at)
        if now > current.hard_end:
            return self._close(current.hard_end)
        return None

    def close_now(self, now: float) -> Close | None:
        """End of the stream, or clips paused: close what is open at ``now``."""
        return self._close(now) if self._current else None

    def on_update(self, update: EventUpdate, allowed: bool) -> tuple[ClipRef | None, Open | None]:
        """The clip to publish with ``update``; an :class:`Open` when a recording must start.

        ``allowed``: clips are enabled for the label, not paused, and the disk has room.
        """
        if update.type == "start":
            if not allowed:
                return None, None
            return self._start(update)
        member = self._members.get(update.id)
        if member is None:
            return None, None
        current = self._current
        if update.type != "end":
            return self._ref(update.id, member, None), None
        del self._members[update.id]
        if current is None or current.file != member.file:  # its recording was already closed
            return self._ref(update.id, member, self._closed_lengths.get(member.file)), None
        current.open_events.discard(update.id)
        end = update.end_time if update.end_time is not None else update.frame_time
        planned = min(end + self.config.post_s, current.hard_end)
        if not current.open_events:
            current.close_at = max(current.close_at or planned, planned)
            return self._ref(update.id, member, current.close_at - current.start), None
        return self._ref(update.id, member, None), None

    # -- internals ---------------------------------------------------------------------------
    def _start(self, update: EventUpdate) -> tuple[ClipRef, Open | None]:
        opened: Open | None = None
        current = self._current
        if current is None:
            earliest = self._stream_start if self._stream_start is not None else update.start_time
            start = max(update.start_time - self.config.pre_s, earliest)
            current = self._current = _Recording(
                file=f"clips/{update.id}.mp4", start=start, hard_end=start + self.config.max_s
            )
            opened = Open(current.file, start)
        current.open_events.add(update.id)
        current.close_at = None
        offset = round(update.start_time - current.start, 3)
        member = _Membership(current.file, offset, current.start)
        self._members[update.id] = member
        return self._ref(update.id, member, None), opened

    def _close(self, at: float) -> Close:
        assert self._current is not None
        current, self._current = self._current, None
        length = max(0.0, at - current.start)
        self._closed_lengths = {current.file: length}  # for late ends of capped recordings
        return Close(current.file, at)

    def _ref(self, event_id: str, member: _Membership, duration: float | None) -> ClipRef:
        return ClipRef(
            file=member.file,
            offset_s=member.offset_s,
            duration_s=None if duration is None else round(duration, 3),
            size_bytes=None,
            url=self.url_for(event_id),
        )
