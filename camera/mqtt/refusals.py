"""Messages the broker refused: tried again a bounded number of times, then dead letters.

With MQTT 5 a broker answers a publish it will not take (an ACL that denies the topic, a quota,
a topic it finds invalid) with a PUBACK carrying a failure reason code.  That is a refusal, not a
delivery: the row stays in the outbox and is tried again after a growing delay
(``reconnect_min_s``, doubling up to ``reconnect_max_s``) while everything behind it is delivered.
After ``mqtt.refused_attempts`` refusals it moves to the dead letters.  The count of tries lives
in memory: a restart tries a refused message afresh, which is harmless (it is bounded again).

A refused message is retried out of order (after rows queued behind it); alerts carry their
event id, sequence and time, so a consumer can still order them.

Each distinct reason is logged once as a warning (an ACL that denies every alert would otherwise
log every alert); repeats go to debug.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class _Refused:
    attempts: int
    due_at: float


class Refusals:
    """The schedule of refused rows (by outbox ``seq``).  Link thread only."""

    def __init__(self, max_attempts: int, min_delay_s: float, max_delay_s: float) -> None:
        self.max_attempts = max_attempts
        self.min_delay_s = min_delay_s
        self.max_delay_s = max(min_delay_s, max_delay_s)
        self._rows: dict[int, _Refused] = {}
        self._reasons_seen: set[str] = set()

    def __len__(self) -> int:
        return len(self._rows)

    def refused(self, seq: int, now: float) -> int | None:
        """Row ``seq`` was refused once more: ``None`` while it may be tried again, else the
        number of attempts (time to bury it)."""
        item = self._rows.get(seq) or _Refused(0, now)
        item.attempts += 1
        if item.attempts >= self.max_attempts:
            self._rows.pop(seq, None)
            return item.attempts
        delay = min(self.max_delay_s, self.min_delay_s * 2 ** (item.attempts - 1))
        item.due_at = now + delay
        self._rows[seq] = item
        return None

    def due(self, now: float, limit: int) -> list[int]:
        """Up to ``limit`` rows whose next try is due, oldest first (they leave the schedule
        until they are refused again)."""
        ready = sorted(seq for seq, item in self._rows.items() if item.due_at <= now)[:limit]
        for seq in ready:
            self._rows[seq].due_at = float("inf")  # in flight: not due again until refused
        return ready

    def attempts(self, seq: int) -> int:
        item = self._rows.get(seq)
        return 0 if item is None else item.attempts

    def forget(self, seq: int) -> None:
        """Delivered at last, or gone from the outbox."""
        self._rows.pop(seq, None)

    def first_time(self, reason: str) -> bool:
        """True the first time ``reason`` is seen: log it as a warning then, at debug after."""
        if reason in self._reasons_seen:
            return False
        self._reasons_seen.add(reason)
        return True
