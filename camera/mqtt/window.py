"""The in-flight window: which outbox rows paho holds unacknowledged, and the batched
acknowledgements waiting to be deleted from disk.

Rules (each closes a hole):

* Rows are handed to paho strictly in ``seq`` order and never twice in one process: paho keeps
  every unacknowledged QoS 1 message across reconnects and re-sends it (DUP) before anything
  newer, so the outbox continues after ``last_sent_seq``.  Re-reading rows from disk after a
  reconnect would publish them twice, and out of order.
* At most ``size`` rows are unacknowledged at once: that is also the most a crash can repeat.
* Acknowledged rows are deleted in batches (every ``flush_s`` or ``flush_count`` acks), so
  draining a backlog costs a few fsyncs a second, not one per message; a crash before a batch is
  written re-sends those rows (duplicates with the same event id and sequence, never losses).
* ``overdue`` measures silence: no PUBACK at all for ``ack_timeout_s`` while rows are in flight
  means the connection is dead without a TCP reset.

Thread-safe: paho's callbacks (the link thread) and ``len()`` from any thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(slots=True)
class _InFlight:
    seq: int
    sent_at: float


class InFlightWindow:
    """See the module docstring."""

    def __init__(self, size: int, *, flush_s: float = 0.25, flush_count: int = 200) -> None:
        self.size = size
        self.flush_s = flush_s
        self.flush_count = flush_count
        self.last_sent_seq = 0
        self.last_ack_at = 0.0
        self._rows: dict[int, _InFlight] = {}  # paho mid -> outbox row
        self._acked: list[int] = []
        self._first_unflushed_at = 0.0
        self._room_opened = False
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)

    def room(self) -> int:
        with self._lock:
            return self.size - len(self._rows)

    def sent(self, mid: int, seq: int, now: float) -> None:
        """paho accepted row ``seq`` as message ``mid`` (sent, or queued for the connection)."""
        with self._lock:
            self._rows[mid] = _InFlight(seq, now)
            self.last_sent_seq = max(self.last_sent_seq, seq)

    def skip(self, seq: int) -> None:
        """Row ``seq`` will never be in flight (it went to the dead letters): move past it."""
        with self._lock:
            self.last_sent_seq = max(self.last_sent_seq, seq)

    def acknowledged(self, mid: int, now: float) -> int | None:
        """The broker acknowledged ``mid``: its row (``None`` if not an outbox row) joins the
        batch to delete."""
        with self._lock:
            self.last_ack_at = now
            item = self._rows.pop(mid, None)
            if item is None:
                return None
            if not self._acked:
                self._first_unflushed_at = now
            self._acked.append(item.seq)
            self._room_opened = True
            return item.seq

    def released(self, mid: int, now: float) -> int | None:
        """The broker answered ``mid`` with a refusal: its row leaves the window but is not
        acknowledged (the caller decides whether it is tried again or buried)."""
        with self._lock:
            self.last_ack_at = now
            item = self._rows.pop(mid, None)
            if item is not None:
                self._room_opened = True
            return None if item is None else item.seq

    def take_room_opened(self) -> bool:
        """True once after an acknowledgement made room: time to hand paho the next rows."""
        with self._lock:
            opened, self._room_opened = self._room_opened, False
            return opened

    def open_room(self) -> None:
        """Ask for another drain turn (paho refused a publish for now)."""
        with self._lock:
            self._room_opened = True

    def restart_clock(self, now: float) -> None:
        """A new connection: paho re-sends what is in flight right after the CONNACK."""
        with self._lock:
            self.last_ack_at = now
            for item in self._rows.values():
                item.sent_at = now

    def overdue(self, now: float, timeout_s: float) -> float | None:
        """Seconds without any acknowledgement while rows are in flight, once that reaches
        ``timeout_s``; else ``None``."""
        with self._lock:
            if not self._rows:
                return None
            oldest = min(item.sent_at for item in self._rows.values())
        waited = now - max(oldest, self.last_ack_at)
        return waited if waited >= timeout_s else None

    def take_acks(self, now: float, *, force: bool) -> list[int]:
        """The acknowledged rows to delete now: when ``force`` (the connection ended, the link
        stops) or when a batch is due; else nothing."""
        with self._lock:
            if not self._acked:
                return []
            due = (
                force
                or len(self._acked) >= self.flush_count
                or now - self._first_unflushed_at >= self.flush_s
            )
            if not due:
                return []
            seqs, self._acked = self._acked, []
            return seqs

    def unflushed(self) -> int:
        """Acknowledged rows not yet deleted from disk (a crash now would re-send them)."""
        with self._lock:
            return len(self._acked)
